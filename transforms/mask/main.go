// Command mask is a Wasm stage that masks PII in string columns: an email
// keeps the first character of its local part and its domain
// ("alice@example.com" → "a***@example.com"); any other value keeps its
// first character ("Alice" → "A***").
//
//	stages:
//	  - wasm: transforms/mask/mask.wasm
//	    config: {columns: [email]}
package main

import (
	"errors"
	"math/bits"
	"strings"
	"unicode/utf8"
	"unsafe"

	"github.com/dataweaver/dataweaver/guest-sdk/go/guest"
)

func main() {}

func init() { guest.Stage(setup) }

type column struct {
	in  guest.StrCol
	out guest.OutStr
}

func setup(s *guest.Setup) (guest.ProcessFunc, error) {
	var columns []string
	if err := s.ConfigKeys(guest.ConfStrings("columns", &columns)); err != nil {
		return nil, err
	}
	if len(columns) == 0 {
		return nil, errors.New("config: columns: name at least one string column to mask")
	}
	cols := make([]column, len(columns))
	for i, name := range columns {
		cols[i] = column{guest.ReadString(s, name), guest.WriteString(s, name)}
	}
	return func(b *guest.Batch) error {
		for _, c := range cols {
			v, w := c.in.View(b), c.out.Builder(b)
			if o32, _, data := v.Raw(); o32 != nil {
				maskRows(b, v, w, o32, data)
				continue
			}
			w.Reserve(b.Len() * 16)
			for i := range b.Len() {
				if !v.Valid(i) {
					w.AppendNull(b)
					continue
				}
				head, tail := split(v.Value(i))
				w.AppendConcat(head, "***", tail)
			}
		}
		return nil
	}, nil
}

// Mask hides all but the first character (and an email's domain).
func Mask(s string) string {
	if s == "" {
		return ""
	}
	head, tail := split(s)
	return head + "***" + tail
}

// split returns what Mask keeps: the first character, and from the last
// '@' on. The stage writes head+"***"+tail, so an empty value becomes "***".
func split(s string) (head, tail string) {
	if s == "" {
		return "", ""
	}
	n := 1
	if s[0] >= utf8.RuneSelf {
		_, n = utf8.DecodeRuneInString(s)
	}
	if at := lastAt(s); at > 0 {
		return s[:min(n, at)], s[at:]
	}
	return s[:n], ""
}

// lastAt is strings.LastIndexByte(s, '@') eight bytes per step. Under a
// stage timeout wazero makes every loop iteration of the guest leave the
// JIT code for a check in Go (BENCH_NOTES.md), so a byte-by-byte scan costs
// one exit per byte; this one costs one per eight.
func lastAt(s string) int {
	const (
		ones = 0x0101010101010101
		low7 = 0x7f7f7f7f7f7f7f7f
		at   = '@' * ones
	)
	i := len(s)
	for i >= 8 {
		c := s[i-8 : i]
		x := uint64(c[0]) | uint64(c[1])<<8 | uint64(c[2])<<16 | uint64(c[3])<<24 |
			uint64(c[4])<<32 | uint64(c[5])<<40 | uint64(c[6])<<48 | uint64(c[7])<<56
		x ^= at
		// High bit set in each byte of x that is zero (exact: no borrow
		// between bytes), i.e. each '@'.
		z := ^(((x & low7) + low7) | x | low7)
		if z != 0 {
			return i - 8 + (63-bits.LeadingZeros64(z))/8
		}
		i -= 8
	}
	return strings.LastIndexByte(s[:i], '@')
}

// maskRows masks one column's rows writing the builder's buffers directly.
// A row whose value is 1-32 bytes, starts with an ASCII byte and lies at
// least 32 bytes from both ends of data (almost every email) takes the
// fast path: its last '@' is found from four 8-byte loads ending at the
// value's end, and its output written as one 4-byte store (first byte and
// "***") plus four 8-byte copies (the domain, at most 31 bytes), with no
// call and no loop per row. Bytes written past the row's end are scratch
// that the next row overwrites. Other rows (nulls, empty, long, non-ASCII
// first character, near the ends) go through split and the builder.
func maskRows(b *guest.Batch, v guest.StrView, w *guest.StrBuilder, offs []int32, data []byte) {
	n := b.Len()
	pv, po := w.Raw()
	// Output is at most 4+len bytes per row; the fast path scribbles up to
	// 36 bytes past its row.
	if need := len(*pv) + 4*n + len(data) + 64; cap(*pv) < need {
		nv := make([]byte, len(*pv), need)
		copy(nv, *pv)
		*pv = nv
	}
	if cap(*po)-len(*po) < n {
		no := make([]int32, len(*po), len(*po)+n)
		copy(no, *po)
		*po = no
	}
	vals, outOffs := *pv, *po
	valid := v.Validity()
	if valid == nil {
		// All valid: test a bitmap of ones rather than branch on nil.
		ones = grow(ones, (n+7)/8)
		fillOnes(ones)
		valid = ones
	}
	valid = valid[:(n+7)/8]
	offs = offs[:n+1]
	for i := range n {
		o0, o1 := int(offs[i]), int(offs[i+1])
		p := len(vals)
		// The slow path comes first so that the fast one falls through
		// to the loop's back-edge: every taken jump is an exit under a
		// timeout.
		if !(uint(o1-o0-1) < 32 && o1 >= 32 && o1+32 <= len(data) && data[o0] < utf8.RuneSelf &&
			valid[i>>3]&(1<<(i&7)) != 0 && cap(vals)-p >= 36) {
			*pv, *po = vals, outOffs
			if valid[i>>3]&(1<<(i&7)) == 0 {
				w.AppendNull(b)
			} else {
				head, tail := split(unsafe.String(unsafe.SliceData(data[o0:]), o1-o0))
				w.AppendConcat(head, "***", tail)
			}
			vals, outOffs = *pv, *po
			continue
		}
		src := unsafe.Pointer(unsafe.SliceData(data))
		// The last '@' at index 1 or more of the value, from the four
		// words ending at o1 (atIn inlines); the tail is data[from:o1],
		// the last '@' on, or nothing.
		from := atIn(src, o1-32, o0, o1)
		from = atIn(src, o1-24, o0, from)
		from = atIn(src, o1-16, o0, from)
		from = atIn(src, o1-8, o0, from)
		dst := unsafe.Add(unsafe.Pointer(unsafe.SliceData(vals)), p)
		*(*uint32)(dst) = uint32(data[o0]) | '*'<<8 | '*'<<16 | '*'<<24
		s := unsafe.Add(src, from)
		*(*uint64)(unsafe.Add(dst, 4)) = *(*uint64)(s)
		*(*uint64)(unsafe.Add(dst, 12)) = *(*uint64)(unsafe.Add(s, 8))
		*(*uint64)(unsafe.Add(dst, 20)) = *(*uint64)(unsafe.Add(s, 16))
		*(*uint64)(unsafe.Add(dst, 28)) = *(*uint64)(unsafe.Add(s, 24))
		vals = vals[:p+4+o1-from]
		outOffs = append(outOffs, int32(len(vals)))
	}
	*pv, *po = vals, outOffs
}

var ones []byte

func grow(b []byte, n int) []byte {
	if cap(b) < n {
		return make([]byte, n)
	}
	return b[:n]
}

// fillOnes sets every byte of p to 0xff in log2(len) copies.
func fillOnes(p []byte) {
	if len(p) == 0 {
		return
	}
	p[0] = 0xff
	for k := 1; k < len(p); k *= 2 {
		copy(p[k:], p[:k])
	}
}

// atIn returns the position in data of the last '@' in the word at
// data[start:start+8] if it lies after o0 (so at index 1 or more of the
// value starting at o0), else pos. Branch-free: the highest '@' of the
// word is the only candidate, since a later word overrides it.
func atIn(base unsafe.Pointer, start, o0, pos int) int {
	const (
		low7 = 0x7f7f7f7f7f7f7f7f
		at   = '@' * 0x0101010101010101
	)
	x := *(*uint64)(unsafe.Add(base, start)) ^ at
	// High bit set in each byte of x that is zero (exact: no borrow
	// between bytes), i.e. each '@'.
	z := ^(((x & low7) + low7) | x | low7)
	// h is 8*(index of the last '@' byte)+8, or 0 when there is none;
	// then nz is 0 and cand is -1, which never passes cand > o0.
	h := 64 - bits.LeadingZeros64(z)
	nz := (h | -h) >> 63
	cand := (start + h>>3 - 1) | ^nz
	// pos = cand if cand > o0, in arithmetic: an `if` here would be a jump,
	// since the compiler keeps branches for values that feed a load
	// address (the tail copy below).
	m := (o0 - cand) >> 63
	return pos ^ (pos^cand)&m
}
