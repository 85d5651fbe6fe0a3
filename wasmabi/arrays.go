package wasmabi

import (
	"fmt"
	"unsafe"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/array"
	"github.com/apache/arrow/go/v15/arrow/bitutil"
	"github.com/apache/arrow/go/v15/arrow/memory"
)

func newBuf(mem memory.Allocator, n int) *memory.Buffer {
	b := memory.NewResizableBuffer(mem)
	b.Resize(n)
	return b
}

// buildArray copies a validated guest column into host memory.
func buildArray(mem memory.Allocator, dt arrow.DataType, code uint8, n int, c colView) arrow.Array {
	lay, _ := layoutOf(code)
	var valid *memory.Buffer
	nulls := 0
	if c.valid != nil {
		valid = newBuf(mem, (n+7)/8)
		copy(valid.Bytes(), c.valid)
		nulls = n - bitutil.CountSetBits(valid.Bytes(), 0, n)
	}
	var bufs []*memory.Buffer
	switch {
	case lay.offsets > 0:
		offs := newBuf(mem, (n+1)*lay.offsets)
		copy(offs.Bytes(), c.offsets)
		rebase(offs.Bytes(), lay.offsets, n)
		vals := newBuf(mem, len(c.values))
		copy(vals.Bytes(), c.values)
		bufs = []*memory.Buffer{valid, offs, vals}
	default:
		vals := newBuf(mem, len(c.values))
		copy(vals.Bytes(), c.values)
		bufs = []*memory.Buffer{valid, vals}
	}
	data := array.NewData(dt, n, bufs, nil, nulls, 0)
	for _, b := range bufs {
		if b != nil {
			b.Release()
		}
	}
	defer data.Release()
	return array.MakeFromData(data)
}

// rebase makes offsets start at 0 (the ABI lets a guest start anywhere).
func rebase(b []byte, ow, n int) {
	if ow == 4 {
		o := unsafe.Slice((*int32)(unsafe.Pointer(&b[0])), n+1)
		if base := o[0]; base != 0 {
			for i := range o {
				o[i] -= base
			}
		}
		return
	}
	o := unsafe.Slice((*int64)(unsafe.Pointer(&b[0])), n+1)
	if base := o[0]; base != 0 {
		for i := range o {
			o[i] -= base
		}
	}
}

// filterArray keeps the rows of a whose keep flag is set.
func filterArray(mem memory.Allocator, a arrow.Array, keep []bool, kept int) (arrow.Array, error) {
	idx := make([]int, 0, kept)
	for i, k := range keep {
		if k {
			idx = append(idx, i)
		}
	}
	return take(mem, a, idx)
}

// decodeDictionary materialises a dictionary array as its value type.
func decodeDictionary(mem memory.Allocator, d *array.Dictionary) (arrow.Array, error) {
	idx := make([]int, d.Len())
	for i := range idx {
		if d.IsNull(i) {
			idx[i] = -1
		} else {
			idx[i] = d.GetValueIndex(i)
		}
	}
	return take(mem, d.Dictionary(), idx)
}

// take gathers rows idx of a (-1 = null) into a new array.
func take(mem memory.Allocator, a arrow.Array, idx []int) (arrow.Array, error) {
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
		vb := valid.Bytes()
		clear(vb)
		for j, i := range idx {
			if i >= 0 && a.IsValid(i) {
				bitutil.SetBit(vb, j)
			} else {
				nulls++
			}
		}
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
		vb := vals.Bytes()
		clear(vb)
		src := bufs[1].Bytes()
		for j, i := range idx {
			if i >= 0 && bitutil.BitIsSet(src, off+i) {
				bitutil.SetBit(vb, j)
			}
		}
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
		gather(asT[uint16](dst), asT[uint16](src)[off:], idx)
	case 4:
		gather(asT[uint32](dst), asT[uint32](src)[off:], idx)
	case 8:
		gather(asT[uint64](dst), asT[uint64](src)[off:], idx)
	default:
		for j, i := range idx {
			if i >= 0 {
				copy(dst[j*w:(j+1)*w], src[(off+i)*w:])
			}
		}
	}
}

func gather[T any](dst, src []T, idx []int) {
	for j, i := range idx {
		if i >= 0 {
			dst[j] = src[i]
		}
	}
}

// asT views b as []T; Arrow buffers are 64-byte aligned.
func asT[T any](b []byte) []T {
	var z T
	if len(b) == 0 {
		return nil
	}
	return unsafe.Slice((*T)(unsafe.Pointer(&b[0])), len(b)/int(unsafe.Sizeof(z)))
}

func gatherVar[O int32 | int64](mem memory.Allocator, bufs []*memory.Buffer, off int, idx []int, valid *memory.Buffer) []*memory.Buffer {
	so := asT[O](bufs[1].Bytes())[off:]
	var sv []byte
	if bufs[2] != nil {
		sv = bufs[2].Bytes()
	}
	total := 0
	for _, i := range idx {
		if i >= 0 {
			total += int(so[i+1] - so[i])
		}
	}
	var z O
	offs := newBuf(mem, (len(idx)+1)*int(unsafe.Sizeof(z)))
	vals := newBuf(mem, total)
	do, dv := asT[O](offs.Bytes()), vals.Bytes()
	pos := O(0)
	do[0] = 0
	for j, i := range idx {
		if i >= 0 {
			pos += O(copy(dv[pos:], sv[so[i]:so[i+1]]))
		}
		do[j+1] = pos
	}
	return []*memory.Buffer{valid, offs, vals}
}
