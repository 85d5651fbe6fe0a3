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
	"fmt"
	"math/bits"
	"strings"
	"unicode/utf8"

	"github.com/dataweaver/dataweaver/guest-sdk/go/guest"
)

func main() {}

func init() { guest.Stage(setup) }

type column struct {
	in  guest.StrCol
	out guest.OutStr
}

func setup(s *guest.Setup) (guest.ProcessFunc, error) {
	var conf struct {
		Columns []string `json:"columns"`
	}
	if err := s.Config(&conf); err != nil {
		return nil, err
	}
	if len(conf.Columns) == 0 {
		return nil, fmt.Errorf("config: columns: name at least one string column to mask")
	}
	cols := make([]column, len(conf.Columns))
	for i, name := range conf.Columns {
		cols[i] = column{guest.ReadString(s, name), guest.WriteString(s, name)}
	}
	return func(b *guest.Batch) error {
		for _, c := range cols {
			v, w := c.in.View(b), c.out.Builder(b)
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
