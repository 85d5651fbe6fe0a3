package jsonl

import (
	"errors"
	"fmt"
	"io"
	"runtime"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/memory"

	"github.com/dataweaver/dataweaver/format"
)

// ErrOptions is wrapped when ReadOptions or WriteOptions cannot be used.
var ErrOptions = errors.New("jsonl: invalid options")

const (
	defaultBatchRows = 65536
	defaultInferRows = 1000
)

type reader struct {
	schema *arrow.Schema
	p      *pipeline
	err    error
}

// NewReader infers the schema (unless given) from the first InferRows lines,
// which stay buffered and are decoded like the rest, then starts decoding in
// the background.
func NewReader(in format.Input, opts format.ReadOptions) (format.Reader, error) {
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
	p := newPipeline(in.R, name, splitLines, opts.BatchRows)
	p.skipBOM()
	schema := opts.Schema
	if schema == nil {
		sample, err := p.peek(opts.InferRows)
		if err != nil {
			return nil, err
		}
		schema = infer(sample)
	}
	rootType := arrow.StructOf(schema.Fields()...)
	if _, err := newColumn("", rootType, true); err != nil {
		return nil, fmt.Errorf("%s: %w: %w", name, ErrOptions, err)
	}
	p.start(opts.Workers, func() chunkDecoder {
		root, _ := newColumn("", rootType, true)
		setTokens(root)
		return &decoder{mem: opts.Mem, schema: schema, file: name, root: root}
	})
	return &reader{schema: schema, p: p}, nil
}

func (r *reader) Schema() *arrow.Schema { return r.schema }

func (r *reader) Next() (arrow.Record, []format.RowError, error) {
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
		r.err = errClosed
	}
	return nil
}

var errClosed = errors.New("jsonl: reader is closed")
