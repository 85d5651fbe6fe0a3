package wasmabi

import (
	"fmt"
	"slices"
	"unicode/utf8"

	"github.com/dataweaver/dataweaver/internal/guesttext"
)

// Result header status and selection kinds (ABI.md).
const (
	statusOK     = 0
	statusFailed = 1

	selAll     = 0
	selBitmap  = 1
	selIndices = 2

	resultSize = 40
	descSize   = 32

	// maxMessage is where a failure or row error message is cut.
	maxMessage = 4096
)

// result is a guest's answer to one batch after validation: every slice
// points into the guest memory view it was read from, so it is only good
// until the next guest call.
type result struct {
	failed  string // non-empty: the guest failed the whole batch
	selKind uint32
	selBits []byte   // selBitmap
	selIdx  []uint32 // selIndices
	cols    []colView
	errs    []rowErr
	seen    []bool // scratch for readResult
}

type colView struct {
	valid   []byte // nil: no nulls
	offsets []byte // var-width only
	values  []byte
	kids    []colView // nested columns' children (nested_result.go)
}

type rowErr struct {
	row int
	msg string
}

// outCol is what the host expects of one written column.
type outCol struct {
	name string
	code uint8
	nt   *ntype // nested columns' type tree, else nil (nested_result.go)
}

// span returns mem[p:p+n] or an error naming what lay out of bounds.
func span(mem []byte, p, n uint64, what string) ([]byte, error) {
	return colSpan(mem, p, n, "", what)
}

// colSpan is span for a part of output column col; the message is built
// only on failure (this runs for every column of every batch).
func colSpan(mem []byte, p, n uint64, col, what string) ([]byte, error) {
	if n == 0 {
		return nil, nil
	}
	if p == 0 || p+n > uint64(len(mem)) {
		if col != "" {
			what = fmt.Sprintf("column %q: %s", col, what)
		}
		return nil, fmt.Errorf("%w: %s: %d bytes at %#x are outside the guest's %d-byte memory", ErrGuestOutput, what, n, p, len(mem))
	}
	return mem[p : p+n : p+n], nil
}

// readStatus reads a result header's status word and, for a failed
// batch, its message (at ptr, n bytes): the sanitised message, or "" when
// the batch succeeded. Both ABI versions start their header so.
func readStatus(mem []byte, status, ptr, n uint64) (string, error) {
	switch status {
	case statusOK:
		return "", nil
	case statusFailed:
		msg, err := span(mem, ptr, n, "failure message")
		if err != nil {
			return "", err
		}
		if failed := sanitize(msg[:min(len(msg), maxMessage)]); failed != "" {
			return failed, nil
		}
		return "(no message)", nil
	default:
		return "", fmt.Errorf("%w: result status %d (want 0 or 1)", ErrGuestOutput, status)
	}
}

// readResult validates the result header at ptr for a batch of n rows
// against the columns the guest declared at bind time, into r (whose slices
// are reused call to call). It never reads outside mem and never panics,
// whatever mem holds (FuzzReadResult).
func readResult(mem []byte, ptr uint32, n int, writes []outCol, r *result) error {
	*r = result{cols: r.cols[:0], selIdx: r.selIdx[:0], errs: r.errs[:0], seen: r.seen[:0]}
	hdr, err := span(mem, uint64(ptr), resultSize, "result header")
	if err != nil {
		return err
	}
	u := func(i int) uint64 { return uint64(le.Uint32(hdr[4*i:])) }
	if failed, err := readStatus(mem, u(0), u(1), u(2)); err != nil || failed != "" {
		r.failed = failed
		return err
	}
	nbits := uint64(n+7) / 8
	switch r.selKind = uint32(u(3)); r.selKind {
	case selAll:
	case selBitmap:
		if u(5) < nbits {
			return fmt.Errorf("%w: selection bitmap of %d bytes for %d rows (want %d)", ErrGuestOutput, u(5), n, nbits)
		}
		// The whole length the guest gave must lie in its memory, though
		// only the first nbits bytes are read: a result that claims more
		// than exists is wrong, and ABI.md promises every length is checked.
		if r.selBits, err = span(mem, u(4), u(5), "selection bitmap"); err != nil {
			return err
		}
		r.selBits = r.selBits[:nbits]
	case selIndices:
		if u(5) > uint64(n) {
			return fmt.Errorf("%w: %d selected indices for %d rows", ErrGuestOutput, u(5), n)
		}
		raw, err := span(mem, u(4), 4*u(5), "selection indices")
		if err != nil {
			return err
		}
		r.selIdx = slices.Grow(r.selIdx, int(u(5)))[:u(5)]
		for i := range r.selIdx {
			v := le.Uint32(raw[4*i:])
			if v >= uint32(n) || (i > 0 && v <= r.selIdx[i-1]) {
				return fmt.Errorf("%w: selection index %d at position %d: indices must ascend strictly and be below %d", ErrGuestOutput, v, i, n)
			}
			r.selIdx[i] = v
		}
	default:
		return fmt.Errorf("%w: selection kind %d (want 0, 1 or 2)", ErrGuestOutput, r.selKind)
	}
	if u(6) != uint64(len(writes)) {
		return fmt.Errorf("%w: %d output columns, the stage declared %d", ErrGuestOutput, u(6), len(writes))
	}
	descs, err := span(mem, u(7), descSize*u(6), "output column descriptors")
	if err != nil {
		return err
	}
	r.cols = slices.Grow(r.cols, len(writes))[:len(writes)]
	clear(r.cols)
	r.seen = slices.Grow(r.seen, len(writes))[:len(writes)]
	clear(r.seen)
	seen := r.seen
	for i := range writes {
		d := descs[descSize*i:]
		idx := uint64(le.Uint32(d))
		if idx >= uint64(len(writes)) || seen[idx] {
			return fmt.Errorf("%w: output descriptor %d has column index %d (want each of 0..%d once)", ErrGuestOutput, i, idx, len(writes)-1)
		}
		seen[idx] = true
		w := writes[idx]
		if d[4] != w.code {
			return fmt.Errorf("%w: column %q: type code %d, declared %d", ErrGuestOutput, w.name, d[4], w.code)
		}
		c, err := readColumn(mem, d, n, w)
		if err != nil {
			return err
		}
		r.cols[idx] = c
	}
	nerr := u(8)
	if nerr > uint64(n) {
		return fmt.Errorf("%w: %d row errors for %d rows", ErrGuestOutput, nerr, n)
	}
	raw, err := span(mem, u(9), 12*nerr, "row errors")
	if err != nil {
		return err
	}
	for i := range int(nerr) {
		e := raw[12*i:]
		row := le.Uint32(e)
		if uint64(row) >= uint64(n) {
			return fmt.Errorf("%w: row error %d names row %d of %d", ErrGuestOutput, i, row, n)
		}
		msg, err := span(mem, uint64(le.Uint32(e[4:])), uint64(le.Uint32(e[8:])), "row error message")
		if err != nil {
			return err
		}
		r.errs = append(r.errs, rowErr{row: int(row), msg: sanitize(msg[:min(len(msg), maxMessage)])})
	}
	return nil
}

func readColumn(mem, d []byte, n int, w outCol) (colView, error) {
	lay, _ := layoutOf(w.code)
	validP, offsP, valsP, valsLen := uint64(le.Uint32(d[12:])), uint64(le.Uint32(d[16:])), uint64(le.Uint32(d[20:])), uint64(le.Uint32(d[24:]))
	nbits := uint64(n+7) / 8
	var c colView
	var err error
	if validP != 0 {
		if c.valid, err = colSpan(mem, validP, nbits, w.name, "validity bitmap"); err != nil {
			return c, err
		}
	}
	switch {
	case lay.offsets == 0:
		need := nbits
		if lay.width > 0 {
			need = uint64(n) * uint64(lay.width)
		}
		if valsLen < need {
			return c, fmt.Errorf("%w: %s: %d value bytes for %d rows (want %d)", ErrGuestOutput, w.name, valsLen, n, need)
		}
		// As for the selection: all values_len bytes must be in memory.
		if c.values, err = colSpan(mem, valsP, valsLen, w.name, "values"); err != nil {
			return c, err
		}
		c.values = c.values[:need]
		return c, nil
	default:
		ow := uint64(lay.offsets)
		if c.offsets, err = colSpan(mem, offsP, (uint64(n)+1)*ow, w.name, "offsets"); err != nil {
			return c, err
		}
		if c.values, err = colSpan(mem, valsP, valsLen, w.name, "values"); err != nil {
			return c, err
		}
		off := func(i int) int64 {
			if ow == 4 {
				return int64(int32(le.Uint32(c.offsets[4*i:])))
			}
			return int64(le.Uint64(c.offsets[8*i:]))
		}
		base := off(0)
		if base < 0 {
			return c, fmt.Errorf("%w: column %q: first offset %d is negative", ErrGuestOutput, w.name, base)
		}
		// Each row must be UTF-8 on its own. Checked as the whole values
		// once (utf8.Valid's ASCII path takes 8 bytes a step; per row it
		// was a call per ~20-byte value, ~10 ns a row) plus each row
		// starting on a character: a valid whole cut only at character
		// starts is valid rows, and a row that starts mid-character, or
		// whose predecessor ends inside one, is caught by the start test.
		end := off(n) - base
		starts := true
		prev := base
		for i := 1; i <= n; i++ {
			o := off(i)
			if o < prev {
				return c, fmt.Errorf("%w: column %q: offsets not monotonic at row %d (%d after %d)", ErrGuestOutput, w.name, i-1, o, prev)
			}
			if o-base > int64(valsLen) {
				return c, fmt.Errorf("%w: column %q: row %d ends at value byte %d, past the %d bytes given", ErrGuestOutput, w.name, i-1, o-base, valsLen)
			}
			if s := prev - base; lay.utf8 && s < end && s < int64(len(c.values)) && c.values[s]&0xC0 == 0x80 {
				starts = false
			}
			prev = o
		}
		c.values = c.values[:prev-base]
		if lay.utf8 && (!starts || !utf8.Valid(c.values)) {
			// Name the first bad row (the failure path only).
			for i := range n {
				if !utf8.Valid(c.values[off(i)-base : off(i+1)-base]) {
					return c, fmt.Errorf("%w: column %q: row %d is not valid UTF-8", ErrGuestOutput, w.name, i)
				}
			}
		}
		return c, nil
	}
}

// sanitize makes a guest-written message safe to print (see escape).
func sanitize(b []byte) string { return guesttext.Escape(string(b)) }
