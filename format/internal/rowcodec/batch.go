package rowcodec

import (
	"bytes"
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/dataweaver/dataweaver/format"
)

// Batch is what a decoder collects from one chunk besides its columns: the
// rows it accepted and the rows it rejected. Decoders embed it, so the row
// count they bump per row stays a plain field.
type Batch struct {
	Mem    memory.Allocator
	Schema *arrow.Schema
	File   string // for rejects and errors

	Rows    int // rows appended to every column since the last Record
	Rejects []format.RowError
}

// Reject records a row that could not be decoded. raw is copied: it points
// into a chunk buffer that is reused.
func (b *Batch) Reject(line int64, col string, raw []byte, err error) {
	b.Rejects = append(b.Rejects, format.RowError{
		File:   b.File,
		Line:   line,
		Column: col,
		Raw:    bytes.Clone(raw),
		Err:    fmt.Errorf("%w: %w", format.ErrMalformed, err),
	})
}

// Record hands the rows of cols (the schema's columns, in order) over as a
// record with the chunk's rejects, and empties the columns and the row
// count for the next chunk, also when finishing a column fails.
func (b *Batch) Record(cols []*Column) (arrow.RecordBatch, []format.RowError, error) {
	n := b.Rows
	b.Rows = 0
	arrs := make([]arrow.Array, len(cols))
	defer func() {
		for _, a := range arrs {
			if a != nil {
				a.Release()
			}
		}
	}()
	var err error
	for i, c := range cols {
		if arrs[i], err = c.Finish(b.Mem); err != nil {
			for _, c := range cols {
				c.Reset()
			}
			return nil, nil, fmt.Errorf("%s: %w", b.File, err)
		}
	}
	return array.NewRecordBatch(b.Schema, arrs, int64(n)), b.Rejects, nil
}
