package wasmabi

import (
	"fmt"
	"slices"
)

// ABI v2's result header (ABI.md, "Result header, version 2").
const (
	resultV2Size = 40
	// noOrigin marks an emitted row that comes from no input row (a
	// window's aggregate, a row emitted at end of input).
	noOrigin = 0xFFFF_FFFF
)

// resultV2 is a v2 guest's answer to one call after validation; like
// result, its slices point into the guest memory view it was read from.
type resultV2 struct {
	failed string
	rows   int // emitted rows
	// origins holds each emitted row's input row, or noOrigin; nil when
	// the guest gave none (every row has no origin).
	origins  []uint32
	anyNone  bool // some row has no origin
	identity bool // origins are 0..n-1 and rows == n: the input's rows in order
	cols     []colView
	bytes    uint64
	errs     []rowErr
	seen     []bool // scratch: descriptor indexes, then rejected rows
}

// readResultV2 validates the v2 result header at ptr for a call on n
// input rows (0 for dw_finish) against the declared writes and the
// stage's limits, into r (whose slices are reused call to call). Like
// readResult it never reads outside mem and never panics (FuzzReadResultV2).
func readResultV2(mem []byte, ptr uint32, n int, writes []outCol, lim v2Limits, r *resultV2) error {
	*r = resultV2{cols: r.cols[:0], origins: r.origins[:0], errs: r.errs[:0], seen: r.seen[:0]}
	hdr, err := span(mem, uint64(ptr), resultV2Size, "result header")
	if err != nil {
		return err
	}
	u := func(i int) uint64 { return uint64(le.Uint32(hdr[4*i:])) }
	if failed, err := readStatus(mem, u(0), u(1), u(2)); err != nil || failed != "" {
		r.failed = failed
		return err
	}
	if u(9) != 0 {
		return fmt.Errorf("%w: result header word 9 is %d (reserved, must be 0)", ErrGuestOutput, u(9))
	}
	m := u(3)
	if m > lim.rows() {
		return fmt.Errorf("%w: emitted %d rows, over the stage's limit of %d per call (max_emit_rows)", ErrGuestOutput, m, lim.rows())
	}
	r.rows = int(m)
	if err := r.readOrigins(mem, u(4), n); err != nil {
		return err
	}
	if u(5) != uint64(len(writes)) {
		return fmt.Errorf("%w: %d output columns, the stage declared %d", ErrGuestOutput, u(5), len(writes))
	}
	descs, err := span(mem, u(6), descSize*u(5), "output column descriptors")
	if err != nil {
		return err
	}
	r.cols = slices.Grow(r.cols, len(writes))[:len(writes)]
	clear(r.cols)
	r.seen = slices.Grow(r.seen, max(len(writes), n))[:len(writes)]
	clear(r.seen)
	for i := range writes {
		d := descs[descSize*i:]
		idx := uint64(le.Uint32(d))
		if idx >= uint64(len(writes)) || r.seen[idx] {
			return fmt.Errorf("%w: output descriptor %d has column index %d (want each of 0..%d once)", ErrGuestOutput, i, idx, len(writes)-1)
		}
		r.seen[idx] = true
		w := writes[idx]
		if d[4] != w.code {
			return fmt.Errorf("%w: column %q: type code %d, declared %d", ErrGuestOutput, w.name, d[4], w.code)
		}
		// Checked before the column is read: a var-width column's values
		// are checked for UTF-8, which costs in proportion to them.
		if vl := uint64(le.Uint32(d[24:])); r.bytes+vl > lim.bytes() {
			return fmt.Errorf("%w: column %q: %d value bytes bring the call's output past the stage's limit of %d bytes (max_emit_bytes)", ErrGuestOutput, w.name, vl, lim.bytes())
		}
		var c colView
		if w.nt != nil {
			var used uint64
			c, used, err = readNested(mem, d, r.rows, w, lim.bytes()-r.bytes)
			r.bytes += used
		} else {
			c, err = readColumn(mem, d, r.rows, w)
			r.bytes += uint64(len(c.valid) + len(c.offsets) + len(c.values))
		}
		if err != nil {
			return err
		}
		if r.bytes > lim.bytes() {
			return fmt.Errorf("%w: column %q brings the call's output to %d bytes, over the stage's limit of %d (max_emit_bytes)", ErrGuestOutput, w.name, r.bytes, lim.bytes())
		}
		r.cols[idx] = c
	}
	return r.readErrors(mem, u(7), u(8), n)
}

// readOrigins checks the origins array at p: m entries, each an input
// row below n or noOrigin.
func (r *resultV2) readOrigins(mem []byte, p uint64, n int) error {
	r.identity = r.rows == n
	if p == 0 {
		r.origins, r.anyNone = nil, r.rows > 0
		r.identity = r.rows == 0 && n == 0
		return nil
	}
	raw, err := span(mem, p, 4*uint64(r.rows), "origins")
	if err != nil {
		return err
	}
	r.origins = slices.Grow(r.origins, r.rows)[:r.rows]
	for k := range r.origins {
		o := le.Uint32(raw[4*k:])
		switch {
		case o == noOrigin:
			r.anyNone, r.identity = true, false
		case uint64(o) >= uint64(n):
			return fmt.Errorf("%w: emitted row %d gives input row %d as its origin, but the call had %d input rows", ErrGuestOutput, k, o, n)
		case o != uint32(k):
			r.identity = false
		}
		r.origins[k] = o
	}
	return nil
}

// readErrors reads the row errors (which name input rows, as in v1) and
// checks that no emitted row comes from a row the guest rejected: a row
// is either handed on or rejected, so its dead letter and its output
// cannot both exist.
func (r *resultV2) readErrors(mem []byte, nerr, p uint64, n int) error {
	if nerr > uint64(n) {
		return fmt.Errorf("%w: %d row errors for %d input rows", ErrGuestOutput, nerr, n)
	}
	raw, err := span(mem, p, 12*nerr, "row errors")
	if err != nil {
		return err
	}
	for i := range int(nerr) {
		e := raw[12*i:]
		row := le.Uint32(e)
		if uint64(row) >= uint64(n) {
			return fmt.Errorf("%w: row error %d names input row %d of %d", ErrGuestOutput, i, row, n)
		}
		msg, err := span(mem, uint64(le.Uint32(e[4:])), uint64(le.Uint32(e[8:])), "row error message")
		if err != nil {
			return err
		}
		r.errs = append(r.errs, rowErr{row: int(row), msg: sanitize(msg[:min(len(msg), maxMessage)])})
	}
	if len(r.errs) == 0 || r.origins == nil {
		return nil
	}
	rejected := slices.Grow(r.seen[:0], n)[:n]
	r.seen = rejected
	clear(rejected)
	for _, e := range r.errs {
		rejected[e.row] = true
	}
	for k, o := range r.origins {
		if o != noOrigin && rejected[o] {
			return fmt.Errorf("%w: emitted row %d comes from input row %d, which the guest rejected", ErrGuestOutput, k, o)
		}
	}
	return nil
}
