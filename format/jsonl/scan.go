package jsonl

import (
	"bytes"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/dataweaver/dataweaver/format/internal/rowcodec"
)

// A JSON text cannot hold a raw newline (strings escape it), so every
// physical line is one row and splitting is one memchr per row. A last line
// without a newline is the pipeline's to take, as is a line over the limit.
func splitLines(buf []byte, pos int, _ bool) (int, int, rowcodec.Status) {
	nl := bytes.IndexByte(buf[pos:], '\n')
	if nl < 0 {
		return 0, 0, rowcodec.NeedMore
	}
	return pos + nl + 1, 1, rowcodec.Complete
}

// maxDepth bounds recursion on nesting the schema does not describe
// (skipped values, inference), so hostile input cannot exhaust the stack.
const maxDepth = 512

func skipWS(b []byte, i int) int {
	for i < len(b) {
		switch b[i] {
		case ' ', '\t', '\r', '\n':
			i++
		default:
			return i
		}
	}
	return i
}

// scanNumber checks the JSON number grammar at b[i:] and returns its end and
// whether it is an integer (no fraction or exponent).
func scanNumber(b []byte, i int) (end int, isInt, ok bool) {
	start := i
	if i < len(b) && b[i] == '-' {
		i++
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case i < len(b) && b[i] >= '1' && b[i] <= '9':
		for i++; i < len(b) && b[i]-'0' <= 9; i++ {
		}
	default:
		return start, false, false
	}
	isInt = true
	if i < len(b) && b[i] == '.' {
		isInt = false
		i++
		d := i
		for ; i < len(b) && b[i]-'0' <= 9; i++ {
		}
		if i == d {
			return start, false, false
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		isInt = false
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		d := i
		for ; i < len(b) && b[i]-'0' <= 9; i++ {
		}
		if i == d {
			return start, false, false
		}
	}
	return i, isInt, true
}

// scanString returns the contents of the string whose opening quote is at
// b[i] and the offset past its closing quote. Contents without a backslash
// are returned in place; others are unescaped onto scratch. Raw control
// characters are accepted (lenient); invalid \u escapes are not.
func scanString(b []byte, i int, scratch []byte) (s []byte, next int, _ []byte, ok bool) {
	j := i + 1
	k := quoteOrBackslash(b, j)
	if k < 0 {
		return nil, 0, scratch, false
	}
	if b[k] == '"' {
		return b[j:k], k + 1, scratch, true
	}
	out := append(scratch[:0], b[j:k]...)
	j = k
	for j < len(b) {
		c := b[j]
		switch c {
		case '"':
			return out, j + 1, out, true
		case '\\':
			if j+1 >= len(b) {
				return nil, 0, out, false
			}
			switch e := b[j+1]; e {
			case '"', '\\', '/':
				out = append(out, e)
			case 'b':
				out = append(out, '\b')
			case 'f':
				out = append(out, '\f')
			case 'n':
				out = append(out, '\n')
			case 'r':
				out = append(out, '\r')
			case 't':
				out = append(out, '\t')
			case 'u':
				r, ok := hex4(b, j+2)
				if !ok {
					return nil, 0, out, false
				}
				j += 4
				if utf16.IsSurrogate(r) {
					r2, ok2 := rune(-1), false
					if j+2 < len(b) && b[j+2] == '\\' && j+3 < len(b) && b[j+3] == 'u' {
						r2, ok2 = hex4(b, j+4)
					}
					if dec := utf16.DecodeRune(r, r2); ok2 && dec != utf8.RuneError {
						r = dec
						j += 6
					} else {
						r = utf8.RuneError // a lone surrogate, as encoding/json reads it
					}
				}
				out = utf8.AppendRune(out, r)
			default:
				return nil, 0, out, false
			}
			j += 2
		default:
			out = append(out, c)
			j++
		}
	}
	return nil, 0, out, false
}

func hex4(b []byte, i int) (rune, bool) {
	if i+4 > len(b) {
		return 0, false
	}
	var r rune
	for _, c := range b[i : i+4] {
		switch {
		case c >= '0' && c <= '9':
			c -= '0'
		case c >= 'a' && c <= 'f':
			c = c - 'a' + 10
		case c >= 'A' && c <= 'F':
			c = c - 'A' + 10
		default:
			return 0, false
		}
		r = r<<4 | rune(c)
	}
	return r, true
}

// skipValue validates the JSON value at b[i:] and returns its end.
func skipValue(b []byte, i int, depth int) (int, bool) {
	if i >= len(b) || depth > maxDepth {
		return 0, false
	}
	switch b[i] {
	case '"':
		for j := i + 1; j < len(b); j++ {
			switch b[j] {
			case '"':
				return j + 1, true
			case '\\':
				j++
				if j < len(b) && b[j] == 'u' {
					if _, ok := hex4(b, j+1); !ok {
						return 0, false
					}
					j += 4
				} else if j >= len(b) || bytes.IndexByte([]byte(`"\/bfnrt`), b[j]) < 0 {
					return 0, false
				}
			}
		}
		return 0, false
	case '{':
		i = skipWS(b, i+1)
		if i < len(b) && b[i] == '}' {
			return i + 1, true
		}
		for {
			if i >= len(b) || b[i] != '"' {
				return 0, false
			}
			var ok bool
			if i, ok = skipValue(b, i, depth+1); !ok {
				return 0, false
			}
			i = skipWS(b, i)
			if i >= len(b) || b[i] != ':' {
				return 0, false
			}
			if i, ok = skipValue(b, skipWS(b, i+1), depth+1); !ok {
				return 0, false
			}
			i = skipWS(b, i)
			if i < len(b) && b[i] == ',' {
				i = skipWS(b, i+1)
				continue
			}
			if i < len(b) && b[i] == '}' {
				return i + 1, true
			}
			return 0, false
		}
	case '[':
		i = skipWS(b, i+1)
		if i < len(b) && b[i] == ']' {
			return i + 1, true
		}
		for {
			var ok bool
			if i, ok = skipValue(b, i, depth+1); !ok {
				return 0, false
			}
			i = skipWS(b, i)
			if i < len(b) && b[i] == ',' {
				i = skipWS(b, i+1)
				continue
			}
			if i < len(b) && b[i] == ']' {
				return i + 1, true
			}
			return 0, false
		}
	case 't':
		return literal(b, i, "true")
	case 'f':
		return literal(b, i, "false")
	case 'n':
		return literal(b, i, "null")
	default:
		end, _, ok := scanNumber(b, i)
		return end, ok
	}
}

func literal(b []byte, i int, lit string) (int, bool) {
	if len(b)-i >= len(lit) && string(b[i:i+len(lit)]) == lit {
		return i + len(lit), true
	}
	return 0, false
}
