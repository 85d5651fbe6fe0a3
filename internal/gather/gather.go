// Package gather copies chosen rows of Arrow arrays into new arrays: the
// one gather behind a Wasm stage's filter output and the engine's
// selections (a batch travelling with the rows it keeps, gathered once
// before a step that needs them contiguous). Fixed-width, boolean,
// string/binary and dictionary arrays are gathered buffer by buffer; other
// types (nested ones passing around a filter) by slicing runs of rows and
// concatenating them.
package gather

import (
	"fmt"
	"unsafe"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// Record gathers rows idx of every column of rec into a new record.
func Record(mem memory.Allocator, rec arrow.RecordBatch, idx []int) (arrow.RecordBatch, error) {
	cols := make([]arrow.Array, rec.NumCols())
	defer func() {
		for _, c := range cols {
			if c != nil {
				c.Release()
			}
		}
	}()
	for i, c := range rec.Columns() {
		t, err := Take(mem, c, idx)
		if err != nil {
			return nil, fmt.Errorf("column %s: %w", rec.ColumnName(i), err)
		}
		cols[i] = t
	}
	return array.NewRecordBatch(rec.Schema(), cols, int64(len(idx))), nil
}

func newBuf(mem memory.Allocator, n int) *memory.Buffer {
	b := memory.NewResizableBuffer(mem)
	b.Resize(n)
	return b
}

// Take gathers rows idx of a into a new array; an index of -1 gives a
// null (how a dictionary is decoded).
func Take(mem memory.Allocator, a arrow.Array, idx []int) (arrow.Array, error) {
	if len(idx) == 0 {
		// An empty input has no values buffer to gather from (a bool
		// array of length 0 may carry nil buffers): an empty slice is
		// the answer for every type.
		return array.NewSlice(a, 0, 0), nil
	}
	data := a.Data()
	off := data.Offset()
	bufs := data.Buffers()
	m := len(idx)
	var valid *memory.Buffer
	nulls := 0
	hasNeg := false
	for _, i := range idx {
		if i < 0 {
			hasNeg = true
			break
		}
	}
	if a.NullN() > 0 || hasNeg {
		valid = newBuf(mem, (m+7)/8)
		nulls = gatherValidity(valid.Bytes(), data, idx)
	}
	release := func(bs ...*memory.Buffer) {
		for _, b := range bs {
			if b != nil {
				b.Release()
			}
		}
	}
	dt := a.DataType()
	var out []*memory.Buffer
	switch t := dt.(type) {
	case *arrow.DictionaryType:
		w := t.IndexType.(arrow.FixedWidthDataType).BitWidth() / 8
		vals := newBuf(mem, m*w)
		gatherBytes(vals.Bytes(), bufs[1].Bytes(), off, w, idx)
		nd := array.NewDataWithDictionary(dt, m, []*memory.Buffer{valid, vals}, nulls, 0, data.Dictionary().(*array.Data))
		release(valid, vals)
		defer nd.Release()
		return array.MakeFromData(nd), nil
	case *arrow.BooleanType:
		vals := newBuf(mem, (m+7)/8)
		gatherBits(vals.Bytes(), bufs[1].Bytes(), off, idx)
		out = []*memory.Buffer{valid, vals}
	case arrow.FixedWidthDataType:
		w := t.BitWidth() / 8
		if t.BitWidth()%8 != 0 || len(bufs) != 2 {
			return takeSlices(mem, a, idx, valid)
		}
		vals := newBuf(mem, m*w)
		gatherBytes(vals.Bytes(), bufs[1].Bytes(), off, w, idx)
		out = []*memory.Buffer{valid, vals}
	case *arrow.StringType, *arrow.BinaryType:
		out = gatherVar[int32](mem, bufs, off, idx, valid)
	case *arrow.LargeStringType, *arrow.LargeBinaryType:
		out = gatherVar[int64](mem, bufs, off, idx, valid)
	default:
		return takeSlices(mem, a, idx, valid)
	}
	nd := array.NewData(dt, m, out, nil, nulls, 0)
	release(out...)
	defer nd.Release()
	return array.MakeFromData(nd), nil
}

// takeSlices handles the types the gathers above do not (nested types
// passing around a filter): runs of consecutive rows are sliced and
// concatenated.
func takeSlices(mem memory.Allocator, a arrow.Array, idx []int, valid *memory.Buffer) (arrow.Array, error) {
	if valid != nil {
		valid.Release()
	}
	var parts []arrow.Array
	defer func() {
		for _, p := range parts {
			p.Release()
		}
	}()
	for s := 0; s < len(idx); {
		if idx[s] < 0 {
			return nil, fmt.Errorf("cannot decode a dictionary of %s", a.DataType())
		}
		e := s + 1
		for e < len(idx) && idx[e] == idx[e-1]+1 {
			e++
		}
		parts = append(parts, array.NewSlice(a, int64(idx[s]), int64(idx[e-1]+1)))
		s = e
	}
	if len(parts) == 0 {
		return array.MakeArrayOfNull(mem, a.DataType(), 0), nil
	}
	return array.Concatenate(parts, mem)
}

func gatherBytes(dst, src []byte, off, w int, idx []int) {
	switch w {
	case 1:
		gather(dst, src[off:], idx)
	case 2:
		gather(AsT[uint16](dst), AsT[uint16](src)[off:], idx)
	case 4:
		gather(AsT[uint32](dst), AsT[uint32](src)[off:], idx)
	case 8:
		gather(AsT[uint64](dst), AsT[uint64](src)[off:], idx)
	default:
		for j, i := range idx {
			if i >= 0 {
				copy(dst[j*w:(j+1)*w], src[(off+i)*w:])
			}
		}
	}
}

// AsT views b as []T; Arrow buffers are 64-byte aligned.
func AsT[T any](b []byte) []T {
	var z T
	if len(b) == 0 {
		return nil
	}
	return unsafe.Slice((*T)(unsafe.Pointer(&b[0])), len(b)/int(unsafe.Sizeof(z)))
}
