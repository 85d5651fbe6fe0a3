package wasmabi

import (
	"errors"
	"math/bits"

	"github.com/dataweaver/dataweaver/engine"
)

// kept lists the positions of the guest's input rows that go on (nil: all
// of them; empty, not nil, when none does): the guest's selection less
// the rows it reported errors for, which become rejects naming rows of
// the stage's input record (sel maps them). The list is inst's scratch.
func kept(inst *instance, res *result, n int, sel []int) ([]int, []engine.RowError) {
	if len(res.errs) == 0 {
		switch res.selKind {
		case selAll:
			return nil, nil
		case selBitmap:
			return bitmapRows(res.selBits, n, &inst.idx), nil
		}
	}
	keep, count := selection(res, n, &inst.keep)
	var rejects []engine.RowError
	for _, e := range res.errs {
		if keep == nil {
			keep, count = allTrue(n, &inst.keep), n
		}
		if keep[e.row] {
			keep[e.row] = false
			count--
		}
		row := e.row
		if sel != nil {
			row = sel[row]
		}
		rejects = append(rejects, engine.RowError{Row: row, Err: errors.New(e.msg)})
	}
	if keep == nil {
		return nil, rejects
	}
	idx := keptRows(keep, count, &inst.idx)
	if idx == nil {
		idx = []int{} // none kept: nil would mean all
	}
	return idx, rejects
}

// bitmapRows lists the rows below n whose bit is set in a selection
// bitmap of (n+7)/8 bytes (bits past n are ignored), a 64-row word at a
// time: a filter's bitmap is mostly ones, and a full word is 64 appends
// with no bit tests. The list is *buf's storage, never nil.
func bitmapRows(sel []byte, n int, buf *[]int) []int {
	idx := (*buf)[:0]
	if idx == nil || cap(idx) < n {
		idx = make([]int, 0, n)
	}
	for base := 0; base < n; base += 64 {
		var w uint64
		b := sel[base/8:]
		if len(b) >= 8 {
			w = le.Uint64(b)
		} else {
			for k, x := range b {
				w |= uint64(x) << (8 * k)
			}
		}
		if rem := n - base; rem < 64 {
			w &= 1<<rem - 1
		}
		if w == ^uint64(0) {
			for k := range 64 {
				idx = append(idx, base+k)
			}
			continue
		}
		for ; w != 0; w &= w - 1 {
			idx = append(idx, base+bits.TrailingZeros64(w))
		}
	}
	*buf = idx
	return idx
}
