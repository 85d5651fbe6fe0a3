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

// Record gathers rows idx (none negative) of every column of rec into a
// new record.
func Record(mem memory.Allocator, rec arrow.RecordBatch, idx []int) (arrow.RecordBatch, error) {
	return NewRows(idx).Record(mem, rec)
}

func newBuf(mem memory.Allocator, n int) *memory.Buffer {
	b := memory.NewResizableBuffer(mem)
	b.Resize(n)
	return b
}

// Take gathers rows idx of a into a new array; an index of -1 gives a
// null (how a dictionary is decoded).
func Take(mem memory.Allocator, a arrow.Array, idx []int) (arrow.Array, error) {
	return withNulls(idx).Take(mem, a)
}

// Take gathers the rows of a into a new array.
func (r *Rows) Take(mem memory.Allocator, a arrow.Array) (arrow.Array, error) {
	idx := r.idx
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
	if a.NullN() > 0 || r.neg {
		valid = newBuf(mem, (m+7)/8)
		nulls = r.gatherValidity(valid.Bytes(), data)
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
		gatherBytes(vals.Bytes(), bufs[1].Bytes(), off, w, r)
		nd := array.NewDataWithDictionary(dt, m, []*memory.Buffer{valid, vals}, nulls, 0, data.Dictionary().(*array.Data))
		release(valid, vals)
		defer nd.Release()
		return array.MakeFromData(nd), nil
	case *arrow.BooleanType:
		vals := newBuf(mem, (m+7)/8)
		gatherBits(vals.Bytes(), bufs[1].Bytes(), off, r)
		out = []*memory.Buffer{valid, vals}
	case arrow.FixedWidthDataType:
		w := t.BitWidth() / 8
		if t.BitWidth()%8 != 0 || len(bufs) != 2 {
			return takeSlices(mem, a, r, valid)
		}
		vals := newBuf(mem, m*w)
		gatherBytes(vals.Bytes(), bufs[1].Bytes(), off, w, r)
		out = []*memory.Buffer{valid, vals}
	case *arrow.StringType, *arrow.BinaryType:
		out = gatherVar[int32](mem, bufs, off, r, valid)
	case *arrow.LargeStringType, *arrow.LargeBinaryType:
		out = gatherVar[int64](mem, bufs, off, r, valid)
	default:
		return takeSlices(mem, a, r, valid)
	}
	nd := array.NewData(dt, m, out, nil, nulls, 0)
	release(out...)
	defer nd.Release()
	return array.MakeFromData(nd), nil
}

// takeSlices handles the types the gathers above do not (nested types
// passing around a filter): runs of consecutive rows are sliced and
// concatenated.
func takeSlices(mem memory.Allocator, a arrow.Array, r *Rows, valid *memory.Buffer) (arrow.Array, error) {
	if valid != nil {
		valid.Release()
	}
	var parts []arrow.Array
	defer func() {
		for _, p := range parts {
			p.Release()
		}
	}()
	for _, run := range r.Runs() {
		if run.I < 0 {
			return nil, fmt.Errorf("cannot decode a dictionary of %s", a.DataType())
		}
		parts = append(parts, array.NewSlice(a, int64(run.I), int64(run.I+run.N)))
	}
	if len(parts) == 0 {
		return array.MakeArrayOfNull(mem, a.DataType(), 0), nil
	}
	return array.Concatenate(parts, mem)
}

func gatherBytes(dst, src []byte, off, w int, r *Rows) {
	switch w {
	case 1:
		gather(dst, src[off:], r)
	case 2:
		gather(AsT[uint16](dst), AsT[uint16](src)[off:], r)
	case 4:
		gather(AsT[uint32](dst), AsT[uint32](src)[off:], r)
	case 8:
		gather(AsT[uint64](dst), AsT[uint64](src)[off:], r)
	default:
		for j, i := range r.idx {
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
