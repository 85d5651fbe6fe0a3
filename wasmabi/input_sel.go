package wasmabi

import (
	"unsafe"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/bitutil"

	"github.com/dataweaver/dataweaver/internal/gather"
)

// A selected flat column (the rows a filter upstream kept) is gathered
// straight into guest memory, run by run, instead of into a new Arrow
// array that writeBatch then copies: one copy of the rows instead of two,
// and no buffers allocated per batch. Guest memory has no alignment the
// host may rely on, so it is written as bytes (encoding/binary), never
// through a typed view.

// selectable reports whether a column of this code is gathered into guest
// memory directly (flat columns; a dictionary or nested one is gathered
// into an array first).
func selectable(a arrow.Array, code uint8) bool {
	if isNested(code) {
		return false
	}
	_, dict := a.(interface{ Dictionary() arrow.Array })
	return !dict
}

// selVarSize is the value bytes of rows sel of a var-width array.
func selVarSize(a arrow.Array, ow int, sel *gather.Rows) int {
	d := a.Data()
	ob, off := d.Buffers()[1].Bytes(), d.Offset()
	at := func(i int) int64 {
		if ow == 4 {
			return int64(int32(le.Uint32(ob[4*(off+i):])))
		}
		return int64(le.Uint64(ob[8*(off+i):]))
	}
	total := int64(0)
	for _, r := range sel.Runs() {
		total += at(r.I+r.N) - at(r.I)
	}
	return int(total)
}

// putSelected writes the rows c.sel of c.arr into the ranges writeBatch
// placed (validity, offsets and values, each sized by c.sizes) and
// returns the selected rows' null count.
func putSelected(valid, offs, vals []byte, c inCol) int {
	data := c.arr.Data()
	off, bufs := data.Offset(), data.Buffers()
	n := c.sel.Len()
	nulls := 0
	if len(valid) > 0 {
		c.sel.Bits(valid, bufs[0].Bytes(), off)
		nulls = n - bitutil.CountSetBits(valid, 0, n)
	}
	lay, _ := layoutOf(c.code)
	var vb []byte // an all-empty var-width column may have no values buffer
	if len(bufs) > 2 && bufs[2] != nil {
		vb = bufs[2].Bytes()
	}
	switch {
	case lay.offsets > 0 && aligned(offs, lay.offsets):
		// Guest memory's buffers are 64-byte aligned from the arena's
		// start, which is at least 8-aligned in practice: typed offsets.
		if lay.offsets == 4 {
			c.sel.VarInto(gather.AsT[int32](offs), gather.AsT[int32](bufs[1].Bytes())[off:], vals, vb)
		} else {
			c.sel.VarInto64(gather.AsT[int64](offs), gather.AsT[int64](bufs[1].Bytes())[off:], vals, vb)
		}
	case lay.offsets > 0:
		putVar(offs, vals, bufs[1].Bytes(), vb, off, lay.offsets, c.sel)
	case lay.width > 0:
		w := lay.width
		src := bufs[1].Bytes()[off*w:]
		for _, r := range c.sel.Runs() {
			copy(vals[r.J*w:(r.J+r.N)*w], src[r.I*w:(r.I+r.N)*w])
		}
	default:
		c.sel.Bits(vals, bufs[1].Bytes(), off)
	}
	return nulls
}

// aligned reports whether b's start is aligned for w-byte words (an
// empty b is: nothing is written).
func aligned(b []byte, w int) bool {
	return len(b) == 0 || uintptr(unsafe.Pointer(&b[0]))%uintptr(w) == 0
}

// putVar writes rows sel of a var-width column (offsets ob, ow bytes
// each, from row off; values vb) as offsets from 0 and values.
func putVar(offs, vals, ob, vb []byte, off, ow int, sel *gather.Rows) {
	at := func(i int) int64 {
		if ow == 4 {
			return int64(int32(le.Uint32(ob[4*(off+i):])))
		}
		return int64(le.Uint64(ob[8*(off+i):]))
	}
	put := func(j int, v int64) {
		if ow == 4 {
			le.PutUint32(offs[4*j:], uint32(v))
		} else {
			le.PutUint64(offs[8*j:], uint64(v))
		}
	}
	pos := int64(0)
	put(0, 0)
	for _, r := range sel.Runs() {
		lo, hi := at(r.I), at(r.I+r.N)
		copy(vals[pos:], vb[lo:hi])
		d := pos - lo
		for k := 1; k <= r.N; k++ {
			put(r.J+k, at(r.I+k)+d)
		}
		pos += hi - lo
	}
}
