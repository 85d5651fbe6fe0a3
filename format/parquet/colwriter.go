package parquet

import (
	"cmp"
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/flight"
	"github.com/apache/arrow-go/v18/arrow/memory"
	pq "github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/metadata"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
)

// Parallel column encoding. pqarrow's FileWriter encodes a row group one
// column after another, and encoding was 57% of a Parquet → Parquet run's
// CPU (BENCHMARKS.md, issue 16), all on the sink's goroutine, so the
// writer alone set the pace of the whole pipeline. Parquet's row groups
// hold one chunk per column, independent of the others, and arrow-go's
// buffered row group writer keeps each column's pages in its own memory
// until the row group is closed, then writes them to the file in column
// order. colWriter encodes the columns of a row group on several
// goroutines through that writer. Each goroutine has its own arrow write
// context (pqarrow keeps a scratch buffer in it); the column writers share
// only the read-only properties and the allocator.
//
// It takes only flat schemas (every field a primitive leaf: one Parquet
// column per field), for which the definition levels pqarrow's path
// builder would compute follow from the field's nullability and the
// array's validity alone (leafLevels). The file it writes is byte for
// byte the one pqarrow's FileWriter writes from the same batches
// (TestParallelWriterSameBytes); nested schemas keep pqarrow's serial path.

// flatSchema reports whether every field of s is a primitive leaf.
func flatSchema(s *arrow.Schema) bool {
	for _, f := range s.Fields() {
		switch f.Type.ID() {
		case arrow.BOOL, arrow.INT8, arrow.INT16, arrow.INT32, arrow.INT64,
			arrow.UINT8, arrow.UINT16, arrow.UINT32, arrow.UINT64,
			arrow.FLOAT16, arrow.FLOAT32, arrow.FLOAT64,
			arrow.STRING, arrow.LARGE_STRING, arrow.BINARY, arrow.LARGE_BINARY, arrow.FIXED_SIZE_BINARY,
			arrow.DATE32, arrow.DATE64, arrow.TIME32, arrow.TIME64, arrow.TIMESTAMP,
			arrow.DECIMAL128, arrow.DECIMAL256:
		default:
			return false
		}
	}
	return true
}

// colWriter writes a Parquet file whose row groups' columns are encoded
// in parallel.
type colWriter struct {
	wr      *file.Writer
	schema  *arrow.Schema
	props   pqarrow.ArrowWriterProperties
	workers int
	// ctxs: one arrow write context per worker, reused across row groups.
	ctxs []context.Context
	// levels: one definition level buffer per worker.
	levels [][]int16
	// dicts: one dictionary encoder per worker (dictwrite.go); nil when
	// string columns are left to arrow-go's encoder.
	dicts []dictWriter
	mem   memory.Allocator
	// ownCols counts the column chunks dictWriter encoded, for tests.
	ownCols atomic.Int64
}

// newColWriter does what pqarrow.NewFileWriter does (the Parquet schema,
// the schema's metadata and the stored Arrow schema in the footer's
// key-value metadata) but keeps the file.Writer, whose buffered row
// groups colWriter needs.
func newColWriter(schema *arrow.Schema, w io.Writer, props *pq.WriterProperties, arrowProps pqarrow.ArrowWriterProperties, storeSchema, ownDict bool, workers int) (*colWriter, error) {
	pqschema, err := pqarrow.ToParquet(schema, props, arrowProps)
	if err != nil {
		return nil, err
	}
	meta := make(metadata.KeyValueMetadata, 0)
	md := schema.Metadata()
	for i := 0; i < md.Len(); i++ {
		if err := meta.Append(md.Keys()[i], md.Values()[i]); err != nil {
			return nil, err
		}
	}
	if storeSchema {
		// pqarrow renames list elements before storing the schema; a flat
		// schema has none, so it is stored as given.
		if err := meta.Append("ARROW:schema", base64.StdEncoding.EncodeToString(flight.SerializeSchema(schema, props.Allocator()))); err != nil {
			return nil, err
		}
	}
	wr, err := file.NewParquetWriterWithError(w, pqschema.Root(), file.WithWriterProps(props), file.WithWriteMetadata(meta))
	if err != nil {
		return nil, err
	}
	cw := &colWriter{wr: wr, schema: schema, props: arrowProps, workers: max(1, min(workers, schema.NumFields()))}
	for range cw.workers {
		cw.ctxs = append(cw.ctxs, pqarrow.NewArrowWriteContext(context.Background(), &cw.props))
	}
	cw.levels = make([][]int16, cw.workers)
	if ownDict {
		cw.dicts = make([]dictWriter, cw.workers)
		cw.mem = props.Allocator()
	}
	return cw, nil
}

// encodeColumns encodes recs into rgw's columns, whose pages stay in
// memory until rgw.Close writes them to the file. It writes nothing to
// the file, so it may run on another goroutine than the one that owns
// the file's io.Writer (rowgroups.go).
func (cw *colWriter) encodeColumns(rgw file.BufferedRowGroupWriter, recs []arrow.RecordBatch) error {
	cols := make(chan int, cw.schema.NumFields())
	for _, c := range costliestFirst(cw.schema, recs) {
		cols <- c
	}
	close(cols)
	errs := make([]error, cw.workers)
	var wg sync.WaitGroup
	for wk := range cw.workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// guard: a panic in the encoder (arrow-go raises some) must
			// become an error here, in the goroutine that raised it.
			errs[wk] = guard(func() error {
				for c := range cols {
					if err := cw.writeColumn(wk, rgw, c, recs); err != nil {
						return fmt.Errorf("column %q: %w", cw.schema.Field(c).Name, err)
					}
				}
				return nil
			})
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// costliestFirst orders the columns by their estimated encoding cost,
// highest first, so that the workers, each taking the next column as it
// finishes one, end together: in schema order, W2's two string columns
// could fall to one worker while the other ran out of work. A string or
// binary column costs a hash lookup a non-null value (dictwrite.go) on
// top of its bytes; other columns cost their bytes.
func costliestFirst(schema *arrow.Schema, recs []arrow.RecordBatch) []int {
	cost := make([]int64, schema.NumFields())
	order := make([]int, schema.NumFields())
	for c, f := range schema.Fields() {
		order[c] = c
		for _, rec := range recs {
			n := rec.NumRows()
			if byteArrayLeaf(f.Type) {
				col := rec.Column(c)
				offs, _ := binaryParts(col)
				cost[c] += 16*(n-int64(col.NullN())) + int64(offs[len(offs)-1]-offs[0])
			} else if fw, ok := f.Type.(arrow.FixedWidthDataType); ok {
				cost[c] += n * int64(max(fw.BitWidth()/8, 1))
			} else {
				cost[c] += 8 * n
			}
		}
	}
	slices.SortStableFunc(order, func(a, b int) int { return cmp.Compare(cost[b], cost[a]) })
	return order
}

// writeColumn writes column c of recs, one call per record as pqarrow
// makes one per chunk, so pages are cut where pqarrow cuts them.
func (cw *colWriter) writeColumn(wk int, rgw file.BufferedRowGroupWriter, c int, recs []arrow.RecordBatch) error {
	ccw, err := rgw.Column(c)
	if err != nil {
		return err
	}
	nullable := cw.schema.Field(c).Nullable
	if cw.dicts != nil && byteArrayLeaf(cw.schema.Field(c).Type) {
		arrs := make([]arrow.Array, 0, len(recs))
		for _, rec := range recs {
			if rec.Column(c).Len() > 0 {
				arrs = append(arrs, rec.Column(c))
			}
		}
		if len(arrs) == 0 {
			return nil
		}
		done, err := cw.dicts[wk].write(ccw, arrs, nullable, &cw.levels[wk], cw.mem)
		if err != nil || done {
			if done {
				cw.ownCols.Add(1)
			}
			if err == nil {
				err = flushLastPage(ccw)
			}
			return err
		}
	}
	for _, rec := range recs {
		arr := rec.Column(c)
		if arr.Len() == 0 {
			continue
		}
		var def []int16
		leafNullable := false
		if nullable {
			def, leafNullable = leafLevels(arr, cw.levels[wk])
			cw.levels[wk] = def
		}
		if err := pqarrow.WriteArrowToColumn(cw.ctxs[wk], ccw, arr, def, nil, leafNullable); err != nil {
			return err
		}
	}
	return flushLastPage(ccw)
}

// flushLastPage encodes and compresses the column's last page now, on the
// worker, instead of in the row group's Close on the sink's goroutine. A
// dictionary column's indices for a whole row group fit in one page, so
// otherwise all of its compression ran serially there (9% of a W2 run's
// CPU). Close then finds nothing buffered and writes the dictionary page
// and the pages in the order it would have: the same bytes. Only when the
// page statistics say values or nulls are buffered: flushing an empty
// page would add one. Without statistics Close flushes, as before.
func flushLastPage(ccw file.ColumnChunkWriter) error {
	st := ccw.PageStatistics()
	if st == nil || st.NumValues()+st.NullCount() == 0 {
		return nil
	}
	if f, ok := ccw.(interface{ FlushCurrentPage() error }); ok {
		return f.FlushCurrentPage()
	}
	return nil
}

// leafLevels returns the definition levels of a nullable top-level
// primitive column (1 present, 0 null) in buf's storage, and whether the
// leaf counts as nullable, as pqarrow's path builder decides them: an
// array without nulls is written as not nullable (allPresentTerminalNode),
// one of nulls only or with some nulls as nullable.
func leafLevels(arr arrow.Array, buf []int16) ([]int16, bool) {
	n := arr.Len()
	if cap(buf) < n {
		buf = make([]int16, n)
	}
	def := buf[:n]
	nulls := arr.NullN()
	switch {
	case nulls == 0:
		for i := range def {
			def[i] = 1
		}
		return def, false
	case nulls == n:
		clear(def)
		return def, true
	}
	for i := range def {
		if arr.IsValid(i) {
			def[i] = 1
		} else {
			def[i] = 0
		}
	}
	return def, true
}

// Close writes the footer.
func (cw *colWriter) Close() error { return cw.wr.Close() }
