package wasmabi

import (
	"unsafe"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/bitutil"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/dataweaver/dataweaver/internal/gather"
)

func newBuf(mem memory.Allocator, n int) *memory.Buffer {
	b := memory.NewResizableBuffer(mem)
	b.Resize(n)
	return b
}

// buildArray copies a validated guest column into host memory, a flat
// column's buffers from the stage's pool (a nested one's, rarer, from its
// allocator).
func buildArray(pool *outPool, dt arrow.DataType, code uint8, n int, c colView) arrow.Array {
	if isNested(code) {
		return buildNested(pool.mem, newNType(dt, code, ""), n, c)
	}
	lay, _ := layoutOf(code)
	var valid *memory.Buffer
	nulls := 0
	if c.valid != nil {
		valid = pool.buffer((n + 7) / 8)
		copy(valid.Bytes(), c.valid)
		nulls = n - bitutil.CountSetBits(valid.Bytes(), 0, n)
	}
	var bufs []*memory.Buffer
	switch {
	case lay.offsets > 0:
		offs := pool.buffer((n + 1) * lay.offsets)
		copy(offs.Bytes(), c.offsets)
		rebase(offs.Bytes(), lay.offsets, n)
		vals := pool.buffer(len(c.values))
		copy(vals.Bytes(), c.values)
		bufs = []*memory.Buffer{valid, offs, vals}
	default:
		vals := pool.buffer(len(c.values))
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
	return gather.Take(mem, a, idx)
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
	return gather.Take(mem, d.Dictionary(), idx)
}
