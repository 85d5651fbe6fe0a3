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
	_, n := utf8.DecodeRuneInString(s)
	if at := strings.LastIndexByte(s, '@'); at > 0 {
		return s[:min(n, at)], s[at:]
	}
	return s[:n], ""
}
