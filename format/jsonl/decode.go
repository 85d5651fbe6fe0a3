package jsonl

import (
	"bytes"
	"errors"
	"fmt"
	"unicode/utf8"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/dataweaver/dataweaver/format"
	"github.com/dataweaver/dataweaver/format/internal/rowcodec"
)

// decoder turns chunks of JSON lines into records. One per worker; columns
// and scratch space are reused for every chunk. It parses JSON straight into
// the columns: no token stream, no interface values, no reflection.
type decoder struct {
	rowcodec.Batch
	root *rowcodec.Column // a struct column whose children are the schema's columns

	checkUTF8 bool
	scratch   []byte
	keyBuf    []byte
	days      rowcodec.Days // the last timestamp's date

	// The first failure in a row: what went wrong and in which column.
	errMsg error
	errCol string
}

func (d *decoder) Decode(c *rowcodec.Chunk) (arrow.RecordBatch, []format.RowError, error) {
	data := c.Data
	d.Rejects = nil
	// One validation pass per chunk is cheaper than one per string.
	d.checkUTF8 = !utf8.Valid(data)
	line := c.Line
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
		d.Reject(line, "", row, errNotObject)
		return
	}
	end, ok := d.object(d.root, row, i, true)
	if ok && skipWS(row, end) != len(row) {
		ok = false
		d.errMsg = errTrailing
	}
	if !ok {
		d.root.Truncate(d.Rows)
		if d.errMsg == nil {
			d.errMsg = errSyntax
		}
		d.Reject(line, d.errCol, row, d.errMsg)
		return
	}
	d.root.Valid = append(d.root.Valid, 1)
	d.Rows++
}

// fail records the first error of a row and returns false for chaining.
func (d *decoder) fail(c *rowcodec.Column, err error) bool {
	if d.errMsg == nil {
		d.errMsg = err
		d.errCol = c.Name
	}
	return false
}

// object decodes the object at b[i] (a '{') into struct column c's
// children and fills missing keys with nulls. Keys usually come in schema
// order, so the next child is tried before the name map.
func (d *decoder) object(c *rowcodec.Column, b []byte, i int, top bool) (int, bool) {
	c.Gen++
	if c.Gen == 0 {
		clear(c.Seen)
		c.Gen = 1
	}
	gen := c.Gen
	kids := c.Children
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
			if next < len(kids) && hasPrefixAt(b, i, kids[next].Token) {
				idx, j = next, i+len(kids[next].Token)
			} else {
				var key []byte
				key, j, d.keyBuf, ok = scanString(b, i, d.keyBuf)
				if !ok {
					return 0, false
				}
				if k, found := c.ByName[string(key)]; found {
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
				if c.Seen[idx] == gen {
					return 0, d.fail(k, fmt.Errorf("duplicate key %q", k.Name))
				}
				c.Seen[idx] = gen
				if j, ok = d.value(k, b, j); !ok {
					if !top && d.errCol == k.Name {
						d.errCol = c.Name + "." + d.errCol
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
		if c.Seen[k] != gen {
			ch.AppendNull()
		}
	}
	return i, true
}

func hasPrefixAt(b []byte, i int, tok []byte) bool {
	return len(b)-i >= len(tok) && string(b[i:i+len(tok)]) == string(tok)
}

// setTokens stores each struct child's key as JSON text (see object).
func setTokens(c *rowcodec.Column) {
	for _, ch := range c.Children {
		ch.Token = appendString(nil, []byte(ch.Name))
		setTokens(ch)
	}
	if c.Child != nil {
		setTokens(c.Child)
	}
}

// value decodes the JSON value at b[i] into c.
func (d *decoder) value(c *rowcodec.Column, b []byte, i int) (int, bool) {
	if i >= len(b) {
		return 0, false
	}
	if b[i] == 'n' {
		end, ok := literal(b, i, "null")
		if ok {
			c.AppendNull()
		}
		return end, ok
	}
	switch c.Kind {
	case rowcodec.KindString, rowcodec.KindLargeString:
		if b[i] != '"' {
			// Any other JSON value is kept as its text, so a column whose
			// sample mixed types loses nothing.
			end, ok := skipValue(b, i, 0)
			if !ok {
				return 0, false
			}
			c.Data = append(c.Data, b[i:end]...)
			c.Offs = append(c.Offs, int64(len(c.Data)))
			c.Valid = append(c.Valid, 1)
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
		c.Data = append(c.Data, s...)
		c.Offs = append(c.Offs, int64(len(c.Data)))
		c.Valid = append(c.Valid, 1)
		return end, true
	case rowcodec.KindInt:
		end, isInt, ok := scanNumber(b, i)
		if !ok {
			return 0, d.typeErr(c, b, i)
		}
		v, ok := rowcodec.ParseInt(b[i:end])
		if !isInt || !ok || v < c.Lo || v > c.Hi {
			return 0, d.typeErr(c, b, i)
		}
		c.I64 = append(c.I64, v)
		c.Valid = append(c.Valid, 1)
		return end, true
	case rowcodec.KindFloat64, rowcodec.KindFloat32:
		end, _, ok := scanNumber(b, i)
		if !ok {
			return 0, d.typeErr(c, b, i)
		}
		var v float64
		if c.Kind == rowcodec.KindFloat64 {
			v, ok = rowcodec.ParseFloat(b[i:end])
		} else {
			v, ok = rowcodec.ParseFloat32(b[i:end])
		}
		if !ok {
			return 0, d.typeErr(c, b, i)
		}
		c.F64 = append(c.F64, v)
		c.Valid = append(c.Valid, 1)
		return end, true
	case rowcodec.KindUint:
		end, isInt, ok := scanNumber(b, i)
		if !ok || !isInt {
			return 0, d.typeErr(c, b, i)
		}
		v, ok := rowcodec.ParseUint(b[i:end])
		if !ok || v > c.UHi {
			return 0, d.typeErr(c, b, i)
		}
		c.U64 = append(c.U64, v)
		c.Valid = append(c.Valid, 1)
		return end, true
	case rowcodec.KindBool:
		var end int
		var ok bool
		switch b[i] {
		case 't':
			end, ok = literal(b, i, "true")
			c.B8 = append(c.B8, 1)
		case 'f':
			end, ok = literal(b, i, "false")
			c.B8 = append(c.B8, 0)
		}
		if !ok {
			c.B8 = c.B8[:len(c.Valid)]
			return 0, d.typeErr(c, b, i)
		}
		c.Valid = append(c.Valid, 1)
		return end, true
	case rowcodec.KindTimestamp, rowcodec.KindDate32, rowcodec.KindDecimal, rowcodec.KindBinary:
		return d.textValue(c, b, i)
	case rowcodec.KindStruct:
		if b[i] != '{' {
			return 0, d.typeErr(c, b, i)
		}
		end, ok := d.object(c, b, i, false)
		if ok {
			c.Valid = append(c.Valid, 1)
		}
		return end, ok
	case rowcodec.KindList:
		if b[i] != '[' {
			return 0, d.typeErr(c, b, i)
		}
		i = skipWS(b, i+1)
		if i < len(b) && b[i] == ']' {
			i++
		} else {
			for {
				var ok bool
				if i, ok = d.value(c.Child, b, i); !ok {
					if d.errCol == c.Child.Name {
						d.errCol = c.Name
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
		c.Offs = append(c.Offs, int64(c.Child.Len()))
		c.Valid = append(c.Valid, 1)
		return i, true
	}
	return 0, false
}

// textValue decodes types that JSON carries as strings.
func (d *decoder) textValue(c *rowcodec.Column, b []byte, i int) (int, bool) {
	var (
		s   []byte
		end int
		ok  bool
	)
	if b[i] == '"' {
		s, end, d.scratch, ok = scanString(b, i, d.scratch)
	} else if c.Kind == rowcodec.KindDecimal {
		var isInt bool
		end, isInt, ok = scanNumber(b, i)
		ok = ok && (isInt || !bytes.ContainsAny(b[i:end], "eE"))
		s = b[i:end]
	}
	if !ok {
		return 0, d.typeErr(c, b, i)
	}
	switch c.Kind {
	case rowcodec.KindTimestamp:
		v, ok := d.days.ParseTimestamp(s, c.Unit, false)
		if !ok {
			return 0, d.typeErr(c, b, i)
		}
		c.I64 = append(c.I64, v)
	case rowcodec.KindDate32:
		v, ok := rowcodec.ParseDate(s)
		if !ok {
			return 0, d.typeErr(c, b, i)
		}
		c.I64 = append(c.I64, v)
	case rowcodec.KindDecimal:
		v, ok := rowcodec.ParseDecimal(s, c.Prec, c.Scale)
		if !ok {
			return 0, d.typeErr(c, b, i)
		}
		c.Dec = append(c.Dec, v)
	case rowcodec.KindBinary:
		if c.Data, ok = rowcodec.AppendBase64(c.Data, s); !ok {
			return 0, d.typeErr(c, b, i)
		}
		c.Offs = append(c.Offs, int64(len(c.Data)))
	}
	c.Valid = append(c.Valid, 1)
	return end, true
}

// typeErr describes a value that is valid JSON but not of c's type (or not
// valid JSON at all).
func (d *decoder) typeErr(c *rowcodec.Column, b []byte, i int) bool {
	end, ok := skipValue(b, i, 0)
	if !ok {
		return d.fail(c, errSyntax)
	}
	v := b[i:end]
	if len(v) > 64 {
		return d.fail(c, fmt.Errorf("%s... is not a valid %s", v[:64], c.Type))
	}
	return d.fail(c, fmt.Errorf("%s is not a valid %s", v, c.Type))
}

// record hands the decoded rows over as a record; the root's own validity
// is not part of it.
func (d *decoder) record() (arrow.RecordBatch, []format.RowError, error) {
	d.root.Valid = d.root.Valid[:0]
	return d.Record(d.root.Children)
}
