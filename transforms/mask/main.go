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
	for i := 0; i < n; {
		// The fast rows, in a kernel that runs them until the first row it
		// does not take (kernel_wasm.s on wasm, kernel.go elsewhere).
		p := len(vals)
		next, q := maskFast(unsafe.SliceData(data), len(data), unsafe.SliceData(offs), i, n,
			unsafe.SliceData(valid), unsafe.SliceData(vals), p, cap(vals),
			unsafe.SliceData(outOffs[len(outOffs):cap(outOffs)]))
		outOffs = outOffs[:len(outOffs)+next-i]
		vals = vals[:q]
		if i = next; i == n {
			break
		}
		// Row i is not a fast one: nulls, empty, long, non-ASCII first
		// character, near the ends, or no room left.
		*pv, *po = vals, outOffs
		if valid[i>>3]&(1<<(i&7)) == 0 {
			w.AppendNull(b)
		} else {
			o0, o1 := int(offs[i]), int(offs[i+1])
			head, tail := split(unsafe.String(unsafe.SliceData(data[o0:]), o1-o0))
			w.AppendConcat(head, "***", tail)
		}
		vals, outOffs = *pv, *po
		i++
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
