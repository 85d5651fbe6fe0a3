package jsonl

import (
	"errors"
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/dataweaver/dataweaver/format"
	"github.com/dataweaver/dataweaver/format/internal/rowcodec"
)

// ErrOptions is wrapped when ReadOptions or WriteOptions cannot be used.
var ErrOptions = errors.New("jsonl: invalid options")

// NewReader infers the schema (unless given) from the first InferRows lines,
// which stay buffered and are decoded like the rest, then starts decoding in
// the background.
func NewReader(in format.Input, opts format.ReadOptions) (format.Reader, error) {
	name, opts := rowcodec.ReadDefaults(in, opts)
	p := rowcodec.NewPipeline(in.R, name, rowcodec.Records{Split: splitLines}, opts)
	p.SkipBOM()
	schema := opts.Schema
	if schema == nil {
		sample, cut, err := p.Peek(opts.InferRows)
		if err != nil {
			return nil, err
		}
		schema = infer(sample)
		if schema.NumFields() == 0 && cut != nil {
			return nil, p.NoSample(cut)
		}
	}
	rootType := arrow.StructOf(schema.Fields()...)
	if _, err := rowcodec.NewColumn("", rootType, true); err != nil {
		return nil, fmt.Errorf("%s: %w: %w", name, ErrOptions, err)
	}
	p.Start(opts.Workers, func() rowcodec.ChunkDecoder {
		root, _ := rowcodec.NewColumn("", rootType, true)
		setTokens(root)
		return &decoder{Batch: rowcodec.Batch{Mem: opts.Mem, Schema: schema, File: name}, root: root}
	})
	return rowcodec.NewReader(schema, p, errClosed), nil
}

var errClosed = errors.New("jsonl: reader is closed")
