package jsonl

import (
	"bytes"
	"errors"
	"fmt"
	"unicode/utf8"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/array"
	"github.com/apache/arrow/go/v15/arrow/memory"

	"github.com/dataweaver/dataweaver/format"
)

// decoder turns chunks of JSON lines into records. One per worker; columns
// and scratch space are reused for every chunk. It parses JSON straight into
// the columns: no token stream, no interface values, no reflection.
type decoder struct {
	mem    memory.Allocator
	schema *arrow.Schema
	file   string
	root   *column // a struct column whose children are the schema's columns

	checkUTF8 bool
	rows      int
	rejects   []format.RowError
	scratch   []byte
	keyBuf    []byte

	// The first failure in a row: what went wrong and in which column.
	errMsg error
	errCol string
}

func (d *decoder) decode(c *chunk) (arrow.Record, []format.RowError, error) {
	data := c.data
	d.rejects = nil
	// One validation pass per chunk is cheaper than one per string.
	d.checkUTF8 = !utf8.Valid(data)
	line := c.line
	for pos := 0; pos < len(data); line++ {
		row := data[pos:]
		if nl := bytes.IndexByte(row, '\n'); nl >= 0 {
			row, pos = row[:nl], pos+nl+1
		} else {
			pos = len(data)
		}
		d.row(row, line)
	}
	return d.record()
}

var (
	errNotObject = errors.New("line is not a JSON object")
	errSyntax    = errors.New("invalid JSON")
	errTrailing  = errors.New("data after the JSON object")
)

// row decodes one line, or rejects it and rolls its cells back.
func (d *decoder) row(row []byte, line int64) {
	i := skipWS(row, 0)
	if i == len(row) {
		return // blank lines are not rows
	}
	d.errMsg, d.errCol = nil, ""
	if row[i] != '{' {
		d.reject(line, "", row, errNotObject)
		return
	}
	end, ok := d.object(d.root, row, i, true)
	if ok && skipWS(row, end) != len(row) {
		ok = false
		d.errMsg = errTrailing
	}
	if !ok {
		d.root.truncate(d.rows)
		if d.errMsg == nil {
			d.errMsg = errSyntax
		}
		d.reject(line, d.errCol, row, d.errMsg)
		return
	}
	d.root.valid = append(d.root.valid, 1)
	d.rows++
}

// fail records the first error of a row and returns false for chaining.
func (d *decoder) fail(c *column, err error) bool {
	if d.errMsg == nil {
		d.errMsg = err
		d.errCol = c.name
	}
	return false
}

// object decodes the object at b[i] (a '{') into struct column c's
// children and fills missing keys with nulls. Keys usually come in schema
// order, so the next child is tried before the name map.
func (d *decoder) object(c *column, b []byte, i int, top bool) (int, bool) {
	c.gen++
	if c.gen == 0 {
		clear(c.seen)
		c.gen = 1
	}
	gen := c.gen
	kids := c.children
	next := 0
	i = skipWS(b, i+1)
	if i < len(b) && b[i] == '}' {
		i++
	} else {
		for {
			if i >= len(b) || b[i] != '"' {
				return 0, false
			}
			var (
				j   int
				ok  bool
				idx = -1
			)
			// The key usually is the next column's, spelled as the schema
			// spells it: one comparison of its JSON text, quotes included,
			// then no scanning and no map lookup.
			if next < len(kids) && hasPrefixAt(b, i, kids[next].token) {
				idx, j = next, i+len(kids[next].token)
			} else {
				var key []byte
				key, j, d.keyBuf, ok = scanString(b, i, d.keyBuf)
				if !ok {
					return 0, false
				}
				if k, found := c.byName[string(key)]; found {
					idx = k
				}
			}
			j = skipWS(b, j)
			if j >= len(b) || b[j] != ':' {
				return 0, false
			}
			j = skipWS(b, j+1)
			if idx < 0 {
				// Keys the schema does not have are skipped (validated).
				if j, ok = skipValue(b, j, 0); !ok {
					return 0, false
				}
			} else {
				k := kids[idx]
				if c.seen[idx] == gen {
					return 0, d.fail(k, fmt.Errorf("duplicate key %q", k.name))
				}
				c.seen[idx] = gen
				if j, ok = d.value(k, b, j); !ok {
					if !top && d.errCol == k.name {
						d.errCol = c.name + "." + d.errCol
					}
					return 0, false
				}
				next = idx + 1
			}
			i = skipWS(b, j)
			if i < len(b) && b[i] == ',' {
				i = skipWS(b, i+1)
				continue
			}
			if i < len(b) && b[i] == '}' {
				i++
				break
			}
			return 0, false
		}
	}
	for k, ch := range kids {
		if c.seen[k] != gen {
			ch.appendNull()
		}
	}
	return i, true
}

func hasPrefixAt(b []byte, i int, tok []byte) bool {
	return len(b)-i >= len(tok) && string(b[i:i+len(tok)]) == string(tok)
}

// setTokens stores each struct child's key as JSON text (see object).
func setTokens(c *column) {
	for _, ch := range c.children {
		ch.token = appendString(nil, []byte(ch.name))
		setTokens(ch)
	}
	if c.child != nil {
		setTokens(c.child)
	}
}

// value decodes the JSON value at b[i] into c.
func (d *decoder) value(c *column, b []byte, i int) (int, bool) {
	if i >= len(b) {
		return 0, false
	}
	if b[i] == 'n' {
		end, ok := literal(b, i, "null")
		if ok {
			c.appendNull()
		}
		return end, ok
	}
	switch c.kind {
	case kString, kLargeString:
		if b[i] != '"' {
			// Any other JSON value is kept as its text, so a column whose
			// sample mixed types loses nothing.
			end, ok := skipValue(b, i, 0)
			if !ok {
				return 0, false
			}
			c.data = append(c.data, b[i:end]...)
			c.offs = append(c.offs, int64(len(c.data)))
			c.valid = append(c.valid, 1)
			return end, true
		}
		s, end, sc, ok := scanString(b, i, d.scratch)
		d.scratch = sc
		if !ok {
			return 0, false
		}
		if d.checkUTF8 && !utf8.Valid(s) {
			return 0, d.fail(c, errors.New("string is not valid UTF-8"))
		}
		c.data = append(c.data, s...)
		c.offs = append(c.offs, int64(len(c.data)))
		c.valid = append(c.valid, 1)
		return end, true
	case kInt:
		end, isInt, ok := scanNumber(b, i)
		if !ok {
			return 0, d.typeErr(c, b, i)
		}
		v, ok := parseInt(b[i:end])
		if !isInt || !ok || v < c.lo || v > c.hi {
			return 0, d.typeErr(c, b, i)
		}
		c.i64 = append(c.i64, v)
		c.valid = append(c.valid, 1)
		return end, true
	case kFloat64, kFloat32:
		end, _, ok := scanNumber(b, i)
		if !ok {
			return 0, d.typeErr(c, b, i)
		}
		var v float64
		if c.kind == kFloat64 {
			v, ok = parseFloat(b[i:end])
		} else {
			v, ok = parseFloat32(b[i:end])
		}
		if !ok {
			return 0, d.typeErr(c, b, i)
		}
		c.f64 = append(c.f64, v)
		c.valid = append(c.valid, 1)
		return end, true
	case kUint:
		end, isInt, ok := scanNumber(b, i)
		if !ok || !isInt {
			return 0, d.typeErr(c, b, i)
		}
		v, ok := parseUint(b[i:end])
		if !ok || v > c.uhi {
			return 0, d.typeErr(c, b, i)
		}
		c.u64 = append(c.u64, v)
		c.valid = append(c.valid, 1)
		return end, true
	case kBool:
		var end int
		var ok bool
		switch b[i] {
		case 't':
			end, ok = literal(b, i, "true")
			c.b8 = append(c.b8, 1)
		case 'f':
			end, ok = literal(b, i, "false")
			c.b8 = append(c.b8, 0)
		}
		if !ok {
			c.b8 = c.b8[:len(c.valid)]
			return 0, d.typeErr(c, b, i)
		}
		c.valid = append(c.valid, 1)
		return end, true
	case kTimestamp, kDate32, kDecimal, kBinary:
		return d.textValue(c, b, i)
	case kStruct:
		if b[i] != '{' {
			return 0, d.typeErr(c, b, i)
		}
		end, ok := d.object(c, b, i, false)
		if ok {
			c.valid = append(c.valid, 1)
		}
		return end, ok
	case kList:
		if b[i] != '[' {
			return 0, d.typeErr(c, b, i)
		}
		i = skipWS(b, i+1)
		if i < len(b) && b[i] == ']' {
			i++
		} else {
			for {
				var ok bool
				if i, ok = d.value(c.child, b, i); !ok {
					if d.errCol == c.child.name {
						d.errCol = c.name
					}
					return 0, false
				}
				i = skipWS(b, i)
				if i < len(b) && b[i] == ',' {
					i = skipWS(b, i+1)
					continue
				}
				if i < len(b) && b[i] == ']' {
					i++
					break
				}
				return 0, false
			}
		}
		c.offs = append(c.offs, int64(c.child.len()))
		c.valid = append(c.valid, 1)
		return i, true
	}
	return 0, false
}

// textValue decodes types that JSON carries as strings.
func (d *decoder) textValue(c *column, b []byte, i int) (int, bool) {
	var (
		s   []byte
		end int
		ok  bool
	)
	if b[i] == '"' {
		s, end, d.scratch, ok = scanString(b, i, d.scratch)
	} else if c.kind == kDecimal {
		var isInt bool
		end, isInt, ok = scanNumber(b, i)
		ok = ok && (isInt || bytes.IndexAny(b[i:end], "eE") < 0)
		s = b[i:end]
	}
	if !ok {
		return 0, d.typeErr(c, b, i)
	}
	switch c.kind {
	case kTimestamp:
		v, ok := parseTimestamp(s, c.unit, false)
		if !ok {
			return 0, d.typeErr(c, b, i)
		}
		c.i64 = append(c.i64, v)
	case kDate32:
		v, ok := parseDate(s)
		if !ok {
			return 0, d.typeErr(c, b, i)
		}
		c.i64 = append(c.i64, v)
	case kDecimal:
		v, ok := parseDecimal(s, c.prec, c.scale)
		if !ok {
			return 0, d.typeErr(c, b, i)
		}
		c.dec = append(c.dec, v)
	case kBinary:
		if c.data, ok = appendBase64(c.data, s); !ok {
			return 0, d.typeErr(c, b, i)
		}
		c.offs = append(c.offs, int64(len(c.data)))
	}
	c.valid = append(c.valid, 1)
	return end, true
}

// typeErr describes a value that is valid JSON but not of c's type (or not
// valid JSON at all).
func (d *decoder) typeErr(c *column, b []byte, i int) bool {
	end, ok := skipValue(b, i, 0)
	if !ok {
		return d.fail(c, errSyntax)
	}
	v := b[i:end]
	if len(v) > 64 {
		return d.fail(c, fmt.Errorf("%s... is not a valid %s", v[:64], c.dt))
	}
	return d.fail(c, fmt.Errorf("%s is not a valid %s", v, c.dt))
}

func (d *decoder) reject(line int64, col string, raw []byte, err error) {
	d.rejects = append(d.rejects, format.RowError{
		File:   d.file,
		Line:   line,
		Column: col,
		Raw:    bytes.Clone(raw),
		Err:    fmt.Errorf("%w: %w", format.ErrMalformed, err),
	})
}

// record hands the decoded rows over as a record and resets the decoder.
func (d *decoder) record() (arrow.Record, []format.RowError, error) {
	n := d.rows
	d.rows = 0
	d.root.valid = d.root.valid[:0]
	cols := d.root.children
	arrs := make([]arrow.Array, len(cols))
	defer func() {
		for _, a := range arrs {
			if a != nil {
				a.Release()
			}
		}
	}()
	var err error
	for i, c := range cols {
		if arrs[i], err = c.finish(d.mem); err != nil {
			d.root.reset()
			return nil, nil, fmt.Errorf("%s: %w", d.file, err)
		}
	}
	return array.NewRecord(d.schema, arrs, int64(n)), d.rejects, nil
}
