package guest

import (
	"strconv"
	"unicode/utf8"
)

// appendf is the formatting of Errorf, Rejectf and Logf: fmt.Appendf's
// verbs for the kinds a message holds, without fmt. Importing fmt (with
// os, reflect and time behind it) made every Go guest 0.3 MB larger even
// when it never formatted, and wazero decodes and validates the whole
// module at every start (BENCHMARKS.md, "Go guests' size and start").
//
// Verbs: %v, %s, %q, %d, %x, %X, %t, %c, %g, %e, %f (with a precision,
// %.2f), %% and %w (as %v). Arguments: strings, []byte, bools, integers,
// floats, errors and values with a String method; anything else prints
// as %!v(unsupported), and a verb that does not fit its argument as
// %!d(string=x), as fmt would.
func sprintf(format string, args ...any) string { return string(appendf(nil, format, args)) }

func appendf(b []byte, format string, args []any) []byte {
	next := 0
	for i := 0; i < len(format); i++ {
		c := format[i]
		if c != '%' {
			b = append(b, c)
			continue
		}
		i++
		prec := -1
		// Flags and width are read past and ignored; a precision is kept.
		for i < len(format) && (format[i] == '+' || format[i] == '-' || format[i] == '#' || format[i] == ' ' || format[i] == '0' ||
			format[i] >= '1' && format[i] <= '9') {
			i++
		}
		if i < len(format) && format[i] == '.' {
			i++
			prec = 0
			for i < len(format) && format[i] >= '0' && format[i] <= '9' {
				prec = prec*10 + int(format[i]-'0')
				i++
			}
		}
		if i >= len(format) {
			return append(b, "%!(NOVERB)"...)
		}
		verb := format[i]
		if verb == '%' {
			b = append(b, '%')
			continue
		}
		if next >= len(args) {
			b = append(append(append(b, "%!"...), verb), "(MISSING)"...)
			continue
		}
		b = appendArg(b, verb, prec, args[next])
		next++
	}
	if next < len(args) {
		b = append(b, "%!(EXTRA)"...)
	}
	return b
}

func appendArg(b []byte, verb byte, prec int, a any) []byte {
	if verb == 'w' {
		verb = 'v'
	}
	switch v := a.(type) {
	case nil:
		return append(b, "<nil>"...)
	case error:
		return appendText(b, verb, v.Error())
	case interface{ String() string }:
		return appendText(b, verb, v.String())
	case string:
		return appendText(b, verb, v)
	case []byte:
		return appendText(b, verb, string(v))
	case bool:
		if verb == 'v' || verb == 't' {
			return strconv.AppendBool(b, v)
		}
		return bad(b, verb, "bool", strconv.FormatBool(v))
	case float64:
		return appendFloat(b, verb, prec, v, 64)
	case float32:
		return appendFloat(b, verb, prec, float64(v), 32)
	case int:
		return appendInt(b, verb, int64(v))
	case int8:
		return appendInt(b, verb, int64(v))
	case int16:
		return appendInt(b, verb, int64(v))
	case int32:
		return appendInt(b, verb, int64(v))
	case int64:
		return appendInt(b, verb, v)
	case uint:
		return appendUint(b, verb, uint64(v))
	case uint8:
		return appendUint(b, verb, uint64(v))
	case uint16:
		return appendUint(b, verb, uint64(v))
	case uint32:
		return appendUint(b, verb, uint64(v))
	case uint64:
		return appendUint(b, verb, v)
	case uintptr:
		return appendUint(b, verb, uint64(v))
	}
	return append(append(append(b, "%!"...), verb), "(unsupported)"...)
}

func appendText(b []byte, verb byte, s string) []byte {
	switch verb {
	case 'v', 's':
		return append(b, s...)
	case 'q':
		return strconv.AppendQuote(b, s)
	case 'x', 'X':
		digits := "0123456789abcdef"
		if verb == 'X' {
			digits = "0123456789ABCDEF"
		}
		for i := 0; i < len(s); i++ {
			b = append(b, digits[s[i]>>4], digits[s[i]&0xf])
		}
		return b
	}
	return bad(b, verb, "string", s)
}

func appendInt(b []byte, verb byte, v int64) []byte {
	switch verb {
	case 'v', 'd':
		return strconv.AppendInt(b, v, 10)
	case 'x':
		return strconv.AppendInt(b, v, 16)
	case 'X':
		return upper(b, len(b), strconv.AppendInt(b, v, 16))
	case 'c':
		return utf8.AppendRune(b, rune(v))
	case 'q':
		return strconv.AppendQuoteRune(b, rune(v))
	}
	return bad(b, verb, "int", strconv.FormatInt(v, 10))
}

func appendUint(b []byte, verb byte, v uint64) []byte {
	switch verb {
	case 'v', 'd':
		return strconv.AppendUint(b, v, 10)
	case 'x':
		return strconv.AppendUint(b, v, 16)
	case 'X':
		return upper(b, len(b), strconv.AppendUint(b, v, 16))
	case 'c':
		return utf8.AppendRune(b, rune(v))
	}
	return bad(b, verb, "uint", strconv.FormatUint(v, 10))
}

func upper(_ []byte, from int, b []byte) []byte {
	for i := from; i < len(b); i++ {
		if b[i] >= 'a' && b[i] <= 'f' {
			b[i] -= 'a' - 'A'
		}
	}
	return b
}

func appendFloat(b []byte, verb byte, prec int, v float64, bits int) []byte {
	switch verb {
	case 'v':
		return strconv.AppendFloat(b, v, 'g', -1, bits)
	case 'g', 'G':
		return strconv.AppendFloat(b, v, verb, prec, bits)
	case 'e', 'E':
		if prec < 0 {
			prec = 6
		}
		return strconv.AppendFloat(b, v, verb, prec, bits)
	case 'f', 'F':
		if prec < 0 {
			prec = 6
		}
		return strconv.AppendFloat(b, v, 'f', prec, bits)
	}
	return bad(b, verb, "float64", strconv.FormatFloat(v, 'g', -1, bits))
}

// bad is fmt's %!verb(type=value) for a verb that does not fit its argument.
func bad(b []byte, verb byte, typ, val string) []byte {
	b = append(append(append(b, "%!"...), verb), '(')
	return append(append(append(append(b, typ...), '='), val...), ')')
}
