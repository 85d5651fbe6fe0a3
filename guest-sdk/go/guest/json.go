package guest

import (
	"errors"
	"strconv"
	"unicode/utf8"
)

// The SDK reads the bind request and the stage's configuration with this
// small JSON reader instead of encoding/json, and writes the bind response
// by hand: encoding/json and fmt (with reflect, os and time behind them)
// were 1.3 of the 3.4 MB of a Go guest, and wazero decodes and validates
// the whole module at every start, cache hit or not (BENCHMARKS.md, "Go
// guests' size and start").

// jsonObject is a JSON object with its members in document order (so the
// first unknown configuration key is the one reported).
type jsonObject []jsonMember

type jsonMember struct {
	key string
	val any
}

func (o jsonObject) get(key string) (any, bool) {
	for _, m := range o {
		if m.key == key {
			return m.val, true
		}
	}
	return nil, false
}

// jsonNumber is a number's literal text, converted by its destination.
type jsonNumber string

// parseJSON parses one JSON document into nil, bool, jsonNumber, string,
// []any and jsonObject values.
func parseJSON(data []byte) (any, error) {
	p := jsonParser{s: data}
	return p.document()
}

func (p *jsonParser) document() (any, error) {
	p.space()
	v, err := p.value(0)
	if err != nil {
		return nil, err
	}
	if p.space(); p.i != len(p.s) {
		return nil, p.fail("after top-level value")
	}
	return v, nil
}

type jsonParser struct {
	s []byte
	i int
	// config is the raw text of the top-level object's "config" member.
	config []byte
}

// maxDepth bounds nesting, as encoding/json's decoder does (10000).
const maxDepth = 10000

func (p *jsonParser) fail(ctx string) error {
	if p.i >= len(p.s) {
		return errors.New("unexpected end of JSON input")
	}
	return errors.New("invalid character " + quoteRune(p.s[p.i]) + " " + ctx)
}

func quoteRune(c byte) string {
	if c < 0x20 || c >= 0x7f {
		return "'\\x" + strconv.FormatUint(uint64(c), 16) + "'"
	}
	return "'" + string(rune(c)) + "'"
}

func (p *jsonParser) space() {
	for p.i < len(p.s) {
		switch p.s[p.i] {
		case ' ', '\t', '\n', '\r':
			p.i++
		default:
			return
		}
	}
}

func (p *jsonParser) lit(word string, v any) (any, error) {
	if len(p.s)-p.i < len(word) || string(p.s[p.i:p.i+len(word)]) != word {
		p.i++
		return nil, p.fail("in literal " + word)
	}
	p.i += len(word)
	return v, nil
}

func (p *jsonParser) value(depth int) (any, error) {
	if depth > maxDepth {
		return nil, errors.New("exceeded max depth")
	}
	if p.i >= len(p.s) {
		return nil, p.fail("")
	}
	switch c := p.s[p.i]; {
	case c == '{':
		return p.object(depth)
	case c == '[':
		return p.array(depth)
	case c == '"':
		return p.str()
	case c == 't':
		return p.lit("true", true)
	case c == 'f':
		return p.lit("false", false)
	case c == 'n':
		return p.lit("null", nil)
	case c == '-' || c >= '0' && c <= '9':
		return p.number()
	}
	return nil, p.fail("looking for beginning of value")
}

func (p *jsonParser) object(depth int) (any, error) {
	p.i++ // {
	obj := jsonObject{}
	p.space()
	if p.i < len(p.s) && p.s[p.i] == '}' {
		p.i++
		return obj, nil
	}
	for {
		if p.i >= len(p.s) || p.s[p.i] != '"' {
			return nil, p.fail("looking for beginning of object key string")
		}
		k, err := p.str()
		if err != nil {
			return nil, err
		}
		p.space()
		if p.i >= len(p.s) || p.s[p.i] != ':' {
			return nil, p.fail("after object key")
		}
		p.i++
		p.space()
		start := p.i
		v, err := p.value(depth + 1)
		if err != nil {
			return nil, err
		}
		if depth == 0 && k == "config" {
			p.config = p.s[start:p.i]
		}
		obj = append(obj, jsonMember{k, v})
		p.space()
		if p.i < len(p.s) && p.s[p.i] == ',' {
			p.i++
			p.space()
			continue
		}
		if p.i < len(p.s) && p.s[p.i] == '}' {
			p.i++
			return obj, nil
		}
		return nil, p.fail("after object key:value pair")
	}
}

func (p *jsonParser) array(depth int) (any, error) {
	p.i++ // [
	arr := []any{}
	p.space()
	if p.i < len(p.s) && p.s[p.i] == ']' {
		p.i++
		return arr, nil
	}
	for {
		v, err := p.value(depth + 1)
		if err != nil {
			return nil, err
		}
		arr = append(arr, v)
		p.space()
		if p.i < len(p.s) && p.s[p.i] == ',' {
			p.i++
			p.space()
			continue
		}
		if p.i < len(p.s) && p.s[p.i] == ']' {
			p.i++
			return arr, nil
		}
		return nil, p.fail("after array element")
	}
}

func (p *jsonParser) number() (any, error) {
	start := p.i
	if p.s[p.i] == '-' {
		p.i++
	}
	digits := func() int {
		n := 0
		for p.i < len(p.s) && p.s[p.i] >= '0' && p.s[p.i] <= '9' {
			p.i++
			n++
		}
		return n
	}
	if p.i < len(p.s) && p.s[p.i] == '0' {
		p.i++
	} else if digits() == 0 {
		return nil, p.fail("in numeric literal")
	}
	if p.i < len(p.s) && p.s[p.i] == '.' {
		p.i++
		if digits() == 0 {
			return nil, p.fail("after decimal point in numeric literal")
		}
	}
	if p.i < len(p.s) && (p.s[p.i] == 'e' || p.s[p.i] == 'E') {
		p.i++
		if p.i < len(p.s) && (p.s[p.i] == '+' || p.s[p.i] == '-') {
			p.i++
		}
		if digits() == 0 {
			return nil, p.fail("in exponent of numeric literal")
		}
	}
	// encoding/json refuses a number out of float64's range wherever it
	// goes (a float64, an int, an any), and so does this reader, at once.
	if _, err := strconv.ParseFloat(string(p.s[start:p.i]), 64); err != nil {
		return nil, errors.New("number " + string(p.s[start:p.i]) + " is out of range")
	}
	return jsonNumber(p.s[start:p.i]), nil
}

// str reads a string literal at p.i (a '"'), decoding its escapes;
// invalid UTF-8 and lone surrogates become U+FFFD, as in encoding/json.
func (p *jsonParser) str() (string, error) {
	p.i++ // "
	start := p.i
	for p.i < len(p.s) {
		c := p.s[p.i]
		if c == '"' {
			s := string(p.s[start:p.i])
			p.i++
			return s, nil
		}
		if c == '\\' || c < 0x20 || c >= utf8.RuneSelf {
			break
		}
		p.i++
	}
	out := append([]byte(nil), p.s[start:p.i]...)
	for p.i < len(p.s) {
		c := p.s[p.i]
		switch {
		case c == '"':
			p.i++
			return string(out), nil
		case c < 0x20:
			return "", p.fail("in string literal")
		case c == '\\':
			p.i++
			if p.i >= len(p.s) {
				return "", p.fail("")
			}
			e := p.s[p.i]
			p.i++
			switch e {
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
				r, ok := p.hex4()
				if !ok {
					return "", p.fail("in \\u hexadecimal character escape")
				}
				if r >= 0xd800 && r < 0xdc00 {
					// A high surrogate: pair it with a following \u low one.
					if p.i+1 < len(p.s) && p.s[p.i] == '\\' && p.s[p.i+1] == 'u' {
						save := p.i
						p.i += 2
						if lo, ok := p.hex4(); ok && lo >= 0xdc00 && lo < 0xe000 {
							out = utf8.AppendRune(out, (r-0xd800)<<10+(lo-0xdc00)+0x10000)
							continue
						}
						p.i = save
					}
					r = utf8.RuneError
				} else if r >= 0xdc00 && r < 0xe000 {
					r = utf8.RuneError
				}
				out = utf8.AppendRune(out, r)
			default:
				p.i--
				return "", p.fail("in string escape code")
			}
		case c < utf8.RuneSelf:
			out = append(out, c)
			p.i++
		default:
			r, n := utf8.DecodeRune(p.s[p.i:])
			out = utf8.AppendRune(out, r)
			p.i += n
		}
	}
	return "", p.fail("")
}

func (p *jsonParser) hex4() (rune, bool) {
	if len(p.s)-p.i < 4 {
		return 0, false
	}
	var r rune
	for _, c := range p.s[p.i : p.i+4] {
		switch {
		case c >= '0' && c <= '9':
			c -= '0'
		case c >= 'a' && c <= 'f':
			c -= 'a' - 10
		case c >= 'A' && c <= 'F':
			c -= 'A' - 10
		default:
			return 0, false
		}
		r = r<<4 | rune(c)
	}
	p.i += 4
	return r, true
}

// appendJSONString appends s as a JSON string literal (invalid UTF-8
// becomes U+FFFD, as encoding/json writes it).
func appendJSONString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '"' || c == '\\':
				b = append(b, '\\', c)
			case c == '\n':
				b = append(b, '\\', 'n')
			case c == '\r':
				b = append(b, '\\', 'r')
			case c == '\t':
				b = append(b, '\\', 't')
			case c < 0x20:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			default:
				b = append(b, c)
			}
			i++
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && n == 1:
			b = append(b, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			b = append(b, '\\', 'u', '2', '0', '2', hex[r&0xf])
		default:
			b = append(b, s[i:i+n]...)
		}
		i += n
	}
	return append(b, '"')
}

func appendJSONStrings(b []byte, ss []string) []byte {
	b = append(b, '[')
	for i, s := range ss {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendJSONString(b, s)
	}
	return append(b, ']')
}

func appendJSONBool(b []byte, v bool) []byte {
	if v {
		return append(b, "true"...)
	}
	return append(b, "false"...)
}

// appendJSON writes r as encoding/json's Marshal would (the field order
// and omitempty of bindResponse's tags; nil lists as null).
func (r *bindResponse) appendJSON(b []byte) []byte {
	list := func(b []byte, key string, ss []string) []byte {
		b = append(append(b, key...), ':')
		if ss == nil {
			return append(b, "null"...)
		}
		return appendJSONStrings(b, ss)
	}
	b = list(append(b, '{'), `"reads"`, r.Reads)
	b = append(b, `,"writes":`...)
	if r.Writes == nil {
		b = append(b, "null"...)
	} else {
		b = append(b, '[')
		for i, f := range r.Writes {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendJSONString(append(b, `{"name":`...), f.Name)
			b = appendJSONString(append(b, `,"type":`...), f.Type)
			b = append(appendJSONBool(append(b, `,"nullable":`...), f.Nullable), '}')
		}
		b = append(b, ']')
	}
	b = list(append(b, ','), `"drops"`, r.Drops)
	b = appendJSONBool(append(b, `,"filter":`...), r.Filter)
	if r.Error != "" {
		b = appendJSONString(append(b, `,"error":`...), r.Error)
	}
	if r.DropAll {
		b = append(b, `,"drop_all":true`...)
	}
	if r.State {
		b = append(b, `,"state":true`...)
	}
	return append(b, '}')
}

// parseBindRequest reads the host's bind request (wasmabi/ABI.md).
func parseBindRequest(raw []byte) (bindRequest, error) {
	var req bindRequest
	p := jsonParser{s: raw}
	v, err := p.document()
	if err != nil {
		return req, err
	}
	req.Config = p.config
	obj, ok := v.(jsonObject)
	if !ok {
		return req, errors.New("not a JSON object")
	}
	for _, m := range obj {
		switch m.key {
		case "event_time":
			req.EventTime, _ = m.val.(string)
		case "abi":
			if n, ok := m.val.(jsonNumber); ok {
				req.ABI, _ = strconv.Atoi(string(n))
			}
		case "stage":
			req.Stage, _ = m.val.(string)
		case "schema":
			list, _ := m.val.([]any)
			for _, e := range list {
				fo, ok := e.(jsonObject)
				if !ok {
					return req, errors.New("schema: a field is not an object")
				}
				var f Field
				for _, fm := range fo {
					switch fm.key {
					case "name":
						f.Name, _ = fm.val.(string)
					case "type":
						f.Type, _ = fm.val.(string)
					case "nullable":
						f.Nullable, _ = fm.val.(bool)
					}
				}
				req.Schema = append(req.Schema, f)
			}
		}
	}
	return req, nil
}
