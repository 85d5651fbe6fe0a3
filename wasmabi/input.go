package wasmabi

import (
	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/bitutil"

	"github.com/dataweaver/dataweaver/internal/gather"
)

// inCol is one column going into the guest.
type inCol struct {
	index uint32 // position in the input schema
	code  uint8
	arr   arrow.Array
	// sel, when not nil, is the rows of arr the guest gets, gathered
	// straight into its memory (input_sel.go); selVals is then their
	// value bytes (var-width columns).
	sel     *gather.Rows
	selVals int
}

// rows is how many rows of the column the guest gets.
func (c inCol) rows() int {
	if c.sel != nil {
		return c.sel.Len()
	}
	return c.arr.Len()
}

const batchHeader = 16

func align64(n int) int { return (n + 63) &^ 63 }

// bufs returns the byte ranges of a column as the ABI lays them out:
// validity (nil when no nulls, or when the bitmap must be re-packed: see
// bitOffset), offsets and values.
func (c inCol) sizes() (valid, offs, vals int) {
	n := c.rows()
	lay, _ := layoutOf(c.code)
	if c.arr.NullN() > 0 {
		valid = (n + 7) / 8
	}
	switch {
	case lay.offsets > 0:
		offs = (n + 1) * lay.offsets
		if c.sel != nil {
			vals = c.selVals
			break
		}
		lo, hi := varRange(c.arr, lay.offsets)
		vals = int(hi - lo)
	case lay.width > 0:
		vals = n * lay.width
	default:
		vals = (n + 7) / 8
	}
	return
}

// varRange returns the first and last offset of a var-width array's rows.
func varRange(a arrow.Array, ow int) (int64, int64) {
	d := a.Data()
	ob := d.Buffers()[1].Bytes()
	o, n := d.Offset(), d.Len()
	if ow == 4 {
		return int64(int32(le.Uint32(ob[4*o:]))), int64(int32(le.Uint32(ob[4*(o+n):])))
	}
	return int64(le.Uint64(ob[8*o:])), int64(le.Uint64(ob[8*(o+n):]))
}

// layoutSize is the bytes a batch of cols takes in the reserved region.
func layoutSize(cols []inCol) int {
	size := align64(batchHeader + descSize*len(cols))
	for _, c := range cols {
		if isNested(c.code) {
			size += nestedSize(c)
			continue
		}
		v, o, x := c.sizes()
		size += align64(v) + align64(o) + align64(x)
	}
	return size
}

// writeBatch lays cols out in view (guest memory at base): header, column
// descriptors, then each buffer 64-byte aligned. This loop is the boundary
// cost: one copy of each touched buffer.
func writeBatch(view []byte, base uint32, n int, cols []inCol) {
	le.PutUint32(view[0:], uint32(n))
	le.PutUint32(view[4:], uint32(len(cols)))
	le.PutUint64(view[8:], 0)
	pos := align64(batchHeader + descSize*len(cols))
	place := func(size int) (int, uint32) {
		if size == 0 {
			return 0, 0
		}
		p := pos
		pos += align64(size)
		return p, base + uint32(p)
	}
	for i, c := range cols {
		d := view[batchHeader+descSize*i : batchHeader+descSize*(i+1)]
		clear(d)
		if isNested(c.code) {
			le.PutUint32(d[0:], c.index)
			pos = writeNested(view, base, pos, d, c)
			continue
		}
		validN, offsN, valsN := c.sizes()
		data := c.arr.Data()
		off := data.Offset()
		bufs := data.Buffers()
		lay, _ := layoutOf(c.code)
		le.PutUint32(d[0:], c.index)
		d[4] = c.code
		vp, vptr := place(validN)
		op, optr := place(offsN)
		xp, xptr := place(valsN)
		le.PutUint32(d[12:], vptr)
		le.PutUint32(d[16:], optr)
		le.PutUint32(d[20:], xptr)
		le.PutUint32(d[24:], uint32(valsN))
		if c.sel != nil {
			nulls := putSelected(view[vp:vp+validN], view[op:op+offsN], view[xp:xp+valsN], c)
			le.PutUint32(d[8:], uint32(nulls))
			if nulls == 0 {
				// The rows selected have none: no bitmap, as ABI.md
				// promises (guests take the no-nulls path on it).
				le.PutUint32(d[12:], 0)
			}
			continue
		}
		le.PutUint32(d[8:], uint32(c.arr.NullN()))
		if validN > 0 {
			copyBits(view[vp:vp+validN], bufs[0].Bytes(), off, n)
		}
		if offsN > 0 {
			copy(view[op:op+offsN], bufs[1].Bytes()[off*lay.offsets:])
		}
		if valsN > 0 {
			switch {
			case lay.offsets > 0:
				lo, _ := varRange(c.arr, lay.offsets)
				copy(view[xp:xp+valsN], bufs[2].Bytes()[lo:])
			case lay.width > 0:
				copy(view[xp:xp+valsN], bufs[1].Bytes()[off*lay.width:])
			default:
				copyBits(view[xp:xp+valsN], bufs[1].Bytes(), off, n)
			}
		}
	}
}

// copyBits copies n bits starting at bit off of src to the start of dst.
func copyBits(dst, src []byte, off, n int) {
	if off%8 == 0 {
		copy(dst, src[off/8:off/8+(n+7)/8])
		return
	}
	bitutil.CopyBitmap(src, off, n, dst, 0)
}
