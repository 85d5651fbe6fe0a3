package rowcodec

import (
	"io"
	"runtime"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/dataweaver/dataweaver/format"
)

const (
	defaultBatchRows = 65536
	defaultInferRows = 1000
)

// ReadDefaults returns the file name errors should carry ("-" for an
// unnamed input such as stdin) and opts with the defaults of
// format.ReadOptions filled in.
func ReadDefaults(in format.Input, opts format.ReadOptions) (string, format.ReadOptions) {
	name := in.Name
	if name == "" {
		name = "-"
	}
	if opts.Mem == nil {
		opts.Mem = memory.DefaultAllocator
	}
	if opts.BatchRows <= 0 {
		opts.BatchRows = defaultBatchRows
	}
	if opts.InferRows <= 0 {
		opts.InferRows = defaultInferRows
	}
	if opts.Workers <= 0 {
		opts.Workers = runtime.GOMAXPROCS(0)
	}
	if opts.MaxRecordBytes <= 0 {
		opts.MaxRecordBytes = format.DefaultMaxRecordBytes
	}
	return name, opts
}

type reader struct {
	schema *arrow.Schema
	p      *Pipeline
	closed error
	err    error
}

// NewReader is the format.Reader over a started pipeline. Next returns
// closed after Close; it names the format ("csv: reader is closed").
func NewReader(schema *arrow.Schema, p *Pipeline, closed error) format.Reader {
	return &reader{schema: schema, p: p, closed: closed}
}

func (r *reader) Schema() *arrow.Schema { return r.schema }

func (r *reader) Next() (arrow.RecordBatch, []format.RowError, error) {
	if r.err != nil {
		return nil, nil, r.err
	}
	res, ok := r.p.next()
	switch {
	case !ok:
		r.err = io.EOF
	case res.err != nil:
		r.err = res.err
	default:
		return res.rec, res.rejects, nil
	}
	return nil, nil, r.err
}

func (r *reader) Close() error {
	r.p.close()
	if r.err == nil {
		r.err = r.closed
	}
	return nil
}
