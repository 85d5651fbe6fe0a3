package parquet

import (
	"cmp"
	"fmt"
	"io"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	pq "github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/compress"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/metadata"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
)

// The direct reader decodes the files weave writes itself, and any file
// made the same way, without pqarrow: flat columns of fixed-width numbers,
// booleans and strings, PLAIN or dictionary pages (V1 or V2), Snappy or no
// compression. pqarrow's path decodes into growing builders value by value,
// reads string columns as dictionaries that we then expand (dictread.go),
// and decodes the columns one after another; here each column is decoded
// straight into buffers sized once per batch, string values copied once
// from the dictionary page, and a batch's columns are decoded in parallel
// (BENCH_NOTES.md, "The direct reader"). Every other file goes through
// pqarrow as before, whole, even when only one column or chunk is of
// another kind; the arrays are the same either way (TestDirectSameAsPqarrow).

// directRead turns the direct reader on; tests and benchmarks turn it off
// to compare with pqarrow's path.
var directRead = true

type directReader struct {
	cols    []*colReader
	order   []int // cols by decreasing size: the big ones start first
	schema  *arrow.Schema
	left    int64
	batch   int64
	mem     memory.Allocator
	workers int
	err     error // sticky: a column that failed is mid-page
}

// newDirect returns a direct reader of the row groups (nil: all), or nil
// when a column or a chunk needs pqarrow.
func newDirect(pf *file.Reader, src io.ReaderAt, size int64, groups []int, batch int64, mem memory.Allocator) (*directReader, error) {
	md := pf.MetaData()
	if md.IsSetEncryptionAlgorithm() {
		return nil, nil
	}
	if groups == nil {
		groups = make([]int, pf.NumRowGroups())
		for g := range groups {
			groups[g] = g
		}
	}
	var props pqarrow.ArrowReadProperties
	manifest, err := pqarrow.NewSchemaManifest(md.Schema, md.KeyValueMetadata(), &props)
	if err != nil {
		return nil, err
	}
	if len(manifest.Fields) == 0 || len(manifest.Fields) != md.Schema.NumColumns() {
		return nil, nil
	}
	d := &directReader{batch: batch, mem: mem, workers: runtime.GOMAXPROCS(0)}
	fields := make([]arrow.Field, len(manifest.Fields))
	sizes := make([]int64, len(manifest.Fields))
	old := md.WriterVersion().LessThan(metadata.Parquet816FixedVersion)
	for i, sf := range manifest.Fields {
		if sf.ColIndex != i || len(sf.Children) > 0 {
			return nil, nil
		}
		desc := md.Schema.Column(i)
		k, ok := directKind(desc.PhysicalType(), sf.Field.Type)
		if !ok || desc.MaxRepetitionLevel() != 0 || desc.MaxDefinitionLevel() > 1 {
			return nil, nil
		}
		for _, g := range groups {
			cc, err := md.RowGroup(g).ColumnChunk(i)
			if err != nil {
				return nil, err
			}
			if !directChunk(cc, k.boolean) {
				return nil, nil
			}
			sizes[i] += cc.TotalUncompressedSize()
		}
		fields[i] = *sf.Field
		d.cols = append(d.cols, &colReader{
			name: sf.Field.Name, col: i, dt: sf.Field.Type, width: k.width, outWidth: k.out, boolean: k.boolean,
			optional: desc.MaxDefinitionLevel() == 1,
			src:      src, size: size, md: md, groups: groups, old: old,
		})
	}
	for _, g := range groups {
		d.left += md.RowGroup(g).NumRows()
	}
	d.order = make([]int, len(d.cols))
	for i := range d.order {
		d.order[i] = i
	}
	slices.SortStableFunc(d.order, func(a, b int) int { return cmp.Compare(sizes[b], sizes[a]) })
	d.schema = arrow.NewSchema(fields, manifest.SchemaMeta)
	return d, nil
}

// valueKind is how a column's values are laid out: width bytes per value
// in the page (0 for strings and binary), out in the array.
type valueKind struct {
	width, out int
	boolean    bool
}

// directKind returns the layout of a Parquet physical type read as Arrow
// type dt, and whether pqarrow would give the values unchanged (or, for
// int8 and int16, truncated), so that copying them gives the same array.
func directKind(pt pq.Type, dt arrow.DataType) (valueKind, bool) {
	switch pt {
	case pq.Types.Boolean:
		return valueKind{width: 1, out: 1, boolean: true}, dt.ID() == arrow.BOOL
	case pq.Types.Int32:
		switch dt.ID() {
		case arrow.INT32, arrow.UINT32, arrow.DATE32, arrow.TIME32:
			return valueKind{width: 4, out: 4}, true
		case arrow.INT16, arrow.UINT16:
			return valueKind{width: 4, out: 2}, true
		case arrow.INT8, arrow.UINT8:
			return valueKind{width: 4, out: 1}, true
		}
	case pq.Types.Int64:
		switch dt.ID() {
		case arrow.INT64, arrow.UINT64, arrow.TIME64, arrow.TIMESTAMP:
			return valueKind{width: 8, out: 8}, true
		}
	case pq.Types.Float:
		return valueKind{width: 4, out: 4}, dt.ID() == arrow.FLOAT32
	case pq.Types.Double:
		return valueKind{width: 8, out: 8}, dt.ID() == arrow.FLOAT64
	case pq.Types.ByteArray:
		switch dt.ID() {
		case arrow.STRING, arrow.BINARY:
			return valueKind{}, true
		}
	}
	return valueKind{}, false
}

// directChunk reports whether a column chunk's pages are all of the kinds
// colReader decodes, from the footer's encodings and page statistics.
func directChunk(cc *metadata.ColumnChunkMetaData, boolean bool) bool {
	if cc.CryptoMetadata() != nil || cc.FilePath() != "" {
		return false
	}
	switch cc.Compression() {
	case compress.Codecs.Snappy, compress.Codecs.Uncompressed:
	default:
		return false
	}
	for _, e := range cc.Encodings() {
		switch e {
		case pq.Encodings.Plain, pq.Encodings.RLE, pq.Encodings.PlainDict, pq.Encodings.RLEDict:
		default:
			return false // BIT_PACKED levels, DELTA_*, BYTE_STREAM_SPLIT
		}
	}
	stats := cc.EncodingStats()
	if len(stats) == 0 {
		// Without page statistics (DuckDB writes none) RLE may be a
		// data page encoding only for booleans; for other types it is
		// the levels'.
		return !boolean
	}
	for _, st := range stats {
		switch st.Encoding {
		case pq.Encodings.Plain, pq.Encodings.PlainDict, pq.Encodings.RLEDict:
		default:
			return false
		}
	}
	return true
}

// next returns the next batch: each column's rows decoded on up to
// GOMAXPROCS goroutines, each recovering its own panics.
func (d *directReader) next() (arrow.RecordBatch, error) {
	if d.err != nil {
		return nil, d.err
	}
	if d.left <= 0 {
		return nil, io.EOF
	}
	n := int(min(d.batch, d.left))
	arrs := make([]arrow.Array, len(d.cols))
	errs := make([]error, len(d.cols))
	readCol := func(i int) {
		c := d.cols[i]
		errs[i] = guard(func() (err error) {
			arrs[i], err = c.read(n, d.mem)
			return err
		})
		if errs[i] != nil {
			errs[i] = fmt.Errorf("row group %d column %q: %w", c.group, c.name, errs[i])
		}
	}
	if w := min(d.workers, len(d.cols)); w <= 1 {
		for _, i := range d.order {
			readCol(i)
		}
	} else {
		var next atomic.Int32
		var wg sync.WaitGroup
		for range w {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					j := int(next.Add(1)) - 1
					if j >= len(d.order) {
						return
					}
					readCol(d.order[j])
				}
			}()
		}
		wg.Wait()
	}
	defer func() {
		for _, a := range arrs {
			if a != nil {
				a.Release()
			}
		}
	}()
	for _, err := range errs {
		if err != nil {
			d.err = err
			return nil, err
		}
	}
	d.left -= int64(n)
	return array.NewRecordBatch(d.schema, arrs, int64(n)), nil
}
