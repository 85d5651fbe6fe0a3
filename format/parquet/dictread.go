package parquet

import (
	"fmt"
	"math"
	"sync"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/bitutil"
	"github.com/apache/arrow-go/v18/arrow/memory"
	pq "github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
)

// Dictionary-encoded string columns are read as dictionaries and expanded
// here. pqarrow's plain path decodes each value into a BinaryBuilder that
// starts small and regrows (reallocating, copying and zeroing) all the way
// to the batch's size, one Append per value: 19% of a Parquet → Parquet run
// (BENCHMARKS.md, issue 16). Read as a dictionary, a page costs its indices;
// expand sizes the output once and copies each value with one memmove.
// Each row group has its own dictionary; a batch that spans two is joined
// by pqarrow (array.Concatenate unifies the dictionaries), which arrow-go
// v15 could not do (ErrNotImplemented), so this path needs v18.

// dictColumns returns the leaf columns to read as dictionaries: top-level
// string or binary columns whose every data page, in every row group read,
// is dictionary-encoded. A column whose writer fell back to plain pages is
// left to the plain path, where pqarrow's dictionary reader would hash each
// plain value into its dictionary. Files without page encoding statistics
// (an optional footer field) are read the plain way.
func dictColumns(pf *file.Reader, manifest *pqarrow.SchemaManifest, groups []int) []int {
	if groups == nil {
		groups = make([]int, pf.NumRowGroups())
		for g := range groups {
			groups[g] = g
		}
	}
	var cols []int
	for _, sf := range manifest.Fields {
		if sf.ColIndex < 0 || len(sf.Children) > 0 {
			continue
		}
		switch sf.Field.Type.ID() {
		case arrow.STRING, arrow.BINARY:
		default:
			continue
		}
		if allDictPages(pf, sf.ColIndex, groups) {
			cols = append(cols, sf.ColIndex)
		}
	}
	return cols
}

func allDictPages(pf *file.Reader, col int, groups []int) bool {
	md := pf.MetaData()
	for _, g := range groups {
		cc, err := md.RowGroup(g).ColumnChunk(col)
		if err != nil || !cc.HasDictionaryPage() {
			return false
		}
		stats := cc.EncodingStats()
		if len(stats) == 0 {
			return false
		}
		for _, st := range stats {
			if pt := int64(st.PageType); pt != pageData && pt != pageDataV2 {
				continue
			}
			if st.Encoding != pq.Encodings.RLEDict && st.Encoding != pq.Encodings.PlainDict {
				return false
			}
		}
	}
	return true
}

// plainSchema returns s with each dictionary field in cols (field indices)
// replaced by its value type: the schema the reader's records have after
// expand.
func plainSchema(s *arrow.Schema, cols []int) *arrow.Schema {
	fields := s.Fields()
	for _, i := range cols {
		fields[i].Type = fields[i].Type.(*arrow.DictionaryType).ValueType
	}
	md := s.Metadata()
	return arrow.NewSchema(fields, &md)
}

// expandColumns replaces the dictionary columns cols of rec by plain ones
// of schema's types and releases rec. Columns are expanded in parallel,
// one goroutine each, as the writer encodes them: the same CPU, a shorter
// wait for the batch (BENCHMARKS.md, "The reader's buffers recycled,
// dictionary columns expanded in parallel").
// Each goroutine recovers its own panics (guard only covers the caller's).
func expandColumns(rec arrow.RecordBatch, cols []int, schema *arrow.Schema, mem memory.Allocator) (arrow.RecordBatch, error) {
	defer rec.Release()
	out := make([]arrow.Array, rec.NumCols())
	defer func() {
		for _, c := range out {
			if c != nil {
				c.Release()
			}
		}
	}()
	for i, c := range rec.Columns() {
		c.Retain()
		out[i] = c
	}
	// Every column's type is checked before any goroutine starts, so an
	// error return never leaves one running with arrays nobody releases.
	dicts := make([]*array.Dictionary, len(cols))
	for j, i := range cols {
		d, ok := out[i].(*array.Dictionary)
		if !ok {
			return nil, fmt.Errorf("column %q: read as %s, want a dictionary", schema.Field(i).Name, out[i].DataType())
		}
		dicts[j] = d
	}
	plain := make([]arrow.Array, len(cols))
	errs := make([]error, len(cols))
	var wg sync.WaitGroup
	for j, d := range dicts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[j] = guard(func() (err error) {
				plain[j], err = expand(d, mem)
				return err
			})
		}()
	}
	wg.Wait()
	for j, i := range cols {
		if errs[j] != nil {
			for _, p := range plain {
				if p != nil {
					p.Release()
				}
			}
			return nil, fmt.Errorf("column %q: %w", schema.Field(i).Name, errs[j])
		}
	}
	for j, i := range cols {
		out[i].Release()
		out[i] = plain[j]
	}
	return array.NewRecordBatch(schema, out, rec.NumRows()), nil
}

// copyWidth: see expand.
const copyWidth = 32

// expand returns d's values as a plain string or binary array: one pass
// sums the lengths, the second copies each value into a buffer of exactly
// that size. Indices are checked, so a corrupt one is an error, not a panic.
func expand(d *array.Dictionary, mem memory.Allocator) (arrow.Array, error) {
	idx, ok := d.Indices().(*array.Int32)
	if !ok {
		return nil, fmt.Errorf("dictionary indices of type %s, want int32", d.Indices().DataType())
	}
	dd := d.Dictionary().Data()
	if id := dd.DataType().ID(); id != arrow.STRING && id != arrow.BINARY {
		return nil, fmt.Errorf("dictionary of type %s, want string or binary", dd.DataType())
	}
	// The dictionary's own window of its offsets buffer; the offsets index
	// the values buffer from its start.
	var dictOffs []int32
	if b := dd.Buffers()[1]; b != nil {
		dictOffs = arrow.Int32Traits.CastFromBytes(b.Bytes())[dd.Offset() : dd.Offset()+dd.Len()+1]
	}
	var dictBytes []byte
	if b := dd.Buffers()[2]; b != nil {
		dictBytes = b.Bytes()
	}
	n := idx.Len()
	ids := idx.Int32Values()
	nDict := int32(dd.Len())
	hasNulls := idx.NullN() > 0

	var total int64
	for i, k := range ids {
		if hasNulls && idx.IsNull(i) {
			continue
		}
		if k < 0 || k >= nDict {
			return nil, fmt.Errorf("row %d: dictionary index %d out of range [0, %d)", i, k, nDict)
		}
		total += int64(dictOffs[k+1] - dictOffs[k])
	}
	if total > math.MaxInt32 {
		return nil, fmt.Errorf("a batch of %d rows holds %d bytes of values, more than a %s array can", n, total, dd.DataType())
	}

	offBuf := memory.NewResizableBuffer(mem)
	defer offBuf.Release()
	offBuf.Resize(arrow.Int32Traits.BytesRequired(n + 1))
	offs := arrow.Int32Traits.CastFromBytes(offBuf.Bytes())
	valBuf := memory.NewResizableBuffer(mem)
	defer valBuf.Release()
	// Values of up to copyWidth bytes are moved as one fixed-size block
	// (two vector moves, no call into memmove: half of expand's time was
	// that call for the orders table's short strings), so the buffer gets
	// copyWidth bytes of slack, cleared and cut off at the end.
	valBuf.Resize(int(total) + copyWidth)
	vals := valBuf.Bytes()

	var pos int32
	offs[0] = 0
	for i, k := range ids {
		if !hasNulls || idx.IsValid(i) {
			from, to := dictOffs[k], dictOffs[k+1]
			if to-from <= copyWidth && int(from)+copyWidth <= len(dictBytes) {
				*(*[copyWidth]byte)(vals[pos:]) = *(*[copyWidth]byte)(dictBytes[from:])
				pos += to - from
			} else {
				pos += int32(copy(vals[pos:], dictBytes[from:to]))
			}
		}
		offs[i+1] = pos
	}
	clear(vals[total:])
	valBuf.ResizeNoShrink(int(total))

	var valid *memory.Buffer
	if hasNulls {
		valid = memory.NewResizableBuffer(mem)
		defer valid.Release()
		valid.Resize(int(bitutil.BytesForBits(int64(n))))
		bitutil.CopyBitmap(idx.NullBitmapBytes(), idx.Data().Offset(), n, valid.Bytes(), 0)
	}
	data := array.NewData(dd.DataType(), n, []*memory.Buffer{valid, offBuf, valBuf}, nil, idx.NullN(), 0)
	defer data.Release()
	return array.MakeFromData(data), nil
}
