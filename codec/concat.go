package codec

import (
	"sort"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/dataweaver/dataweaver/engine"
)

// Concat joins recs (all of schema) into one record and releases them,
// for decoders built on top of this package's: none gives an empty
// record, one is returned as is.
func Concat(mem memory.Allocator, schema *arrow.Schema, recs []arrow.RecordBatch) (arrow.RecordBatch, error) {
	return concat(mem, schema, recs)
}

// concat joins recs (all of schema) into one record and releases them.
// None gives an empty record; one is returned as is.
func concat(mem memory.Allocator, schema *arrow.Schema, recs []arrow.RecordBatch) (arrow.RecordBatch, error) {
	switch len(recs) {
	case 0:
		b := array.NewRecordBuilder(mem, schema)
		defer b.Release()
		return b.NewRecordBatch(), nil
	case 1:
		return recs[0], nil
	}
	defer releaseAll(recs)
	cols := make([]arrow.Array, schema.NumFields())
	var rows int64
	for _, r := range recs {
		rows += r.NumRows()
	}
	parts := make([]arrow.Array, len(recs))
	for c := range cols {
		for i, r := range recs {
			parts[i] = r.Column(c)
		}
		a, err := array.Concatenate(parts, mem)
		if err != nil {
			for _, done := range cols[:c] {
				done.Release()
			}
			return nil, err
		}
		cols[c] = a
	}
	out := array.NewRecordBatch(schema, cols, rows)
	for _, a := range cols {
		a.Release()
	}
	return out, nil
}

func releaseAll(recs []arrow.RecordBatch) {
	for _, r := range recs {
		r.Release()
	}
}

// sortRejects orders rejects by message, as they were read.
func sortRejects(rs []engine.RowError) {
	sort.SliceStable(rs, func(a, b int) bool { return rs[a].Row < rs[b].Row })
}
