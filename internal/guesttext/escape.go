// Package guesttext makes text that a WebAssembly guest wrote safe to show:
// the host (wasmabi) and the CLI (weave inspect) escape every guest string
// the same way before it reaches a terminal, a log or an error.
package guesttext

import (
	"fmt"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Escape returns s with what a terminal would act on written out as Go
// escapes: C0 controls (newlines and tabs included, so a guest cannot
// forge log lines), DEL, C1 controls, Unicode bidirectional overrides
// (which reorder what a reader sees) and invalid UTF-8 bytes. Everything
// else, backslashes and quotes included, is left as is, so ordinary text
// reads unchanged and escaping twice changes nothing.
func Escape(s string) string {
	if strings.IndexFunc(s, needsEscape) < 0 && utf8.ValidString(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 8)
	for len(s) > 0 {
		r, size := utf8.DecodeRuneInString(s)
		switch {
		case r == utf8.RuneError && size == 1:
			fmt.Fprintf(&b, `\x%02x`, s[0])
		case needsEscape(r):
			q := strconv.QuoteRune(r) // '\x1b', '\u0085', '\u202e'
			b.WriteString(q[1 : len(q)-1])
		default:
			b.WriteString(s[:size])
		}
		s = s[size:]
	}
	return b.String()
}

func needsEscape(r rune) bool {
	return r < 0x20 || (r >= 0x7f && r <= 0x9f) || unicode.Is(unicode.Bidi_Control, r)
}
