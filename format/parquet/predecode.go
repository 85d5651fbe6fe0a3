package parquet

import (
	"fmt"
	"sync"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
)

// nested reports whether a type holds a struct or map anywhere. pqarrow
// v15 decodes the children of such columns in goroutines it starts itself
// (errgroup in structReader.LoadBatch), even with Parallel off, so a panic
// on corrupt data there cannot be recovered and ends the process.
func nested(dt arrow.DataType) bool {
	switch dt := dt.(type) {
	case *arrow.StructType, *arrow.MapType:
		return true
	case arrow.ListLikeType:
		return nested(dt.Elem())
	}
	return false
}

func schemaNested(s *arrow.Schema) bool {
	for _, f := range s.Fields() {
		if nested(f.Type) {
			return true
		}
	}
	return false
}

// predecode decodes every leaf column once, the way pqarrow's leaf readers
// do (file.RecordReader with the manifest's levels), but in the calling
// goroutine where guard recovers panics, so corrupt pages of nested columns
// are found before pqarrow's goroutines meet them. It doubles the decoding
// work for files with nested columns; flat files skip it. (Building Arrow
// arrays from the decoded values is not repeated.)
func predecode(pf *file.Reader, manifest *pqarrow.SchemaManifest, mem memory.Allocator) error {
	pool := &sync.Pool{New: func() any { return memory.NewResizableBuffer(mem) }}
	sc := pf.MetaData().Schema
	for c := 0; c < sc.NumColumns(); c++ {
		sf, ok := manifest.ColIndexToField[c]
		if !ok {
			return fmt.Errorf("column %d is missing from the schema manifest", c)
		}
		if err := predecodeColumn(pf, c, sf, mem, pool); err != nil {
			return fmt.Errorf("column %d (%s): %w", c, sc.Column(c).Path(), err)
		}
	}
	return nil
}

func predecodeColumn(pf *file.Reader, c int, sf *pqarrow.SchemaField, mem memory.Allocator, pool *sync.Pool) error {
	rr := file.NewRecordReader(pf.MetaData().Schema.Column(c), sf.LevelInfo, sf.Field.Type, mem, pool)
	defer rr.Release()
	for g := 0; g < pf.NumRowGroups(); g++ {
		pr, err := pf.RowGroup(g).GetColumnPageReader(c)
		if err != nil {
			return err
		}
		rr.SetPageReader(pr)
		for rr.HasMore() {
			rr.Reset()
			if err := rr.Reserve(4096); err != nil {
				return err
			}
			n, err := rr.ReadRecords(4096)
			if err != nil {
				return err
			}
			if n == 0 {
				break
			}
			if br, ok := rr.(file.BinaryRecordReader); ok {
				for _, a := range br.GetBuilderChunks() {
					a.Release()
				}
			}
		}
	}
	return nil
}
