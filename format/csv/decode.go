package csv

import (
	"bytes"
	"fmt"
	"unicode/utf8"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/dataweaver/dataweaver/format"
	"github.com/dataweaver/dataweaver/format/internal/rowcodec"
)

// decoder turns chunks of whole CSV rows into records. One per worker; its
// columns and scratch buffers are reused for every chunk it decodes.
type decoder struct {
	rowcodec.Batch
	rules *rules
	delim byte
	cols  []*rowcodec.Column // schema order
	slots []*rowcodec.Column // per field position; nil for a header column not in the schema
	// nullEmpty: an unquoted empty cell is null for string columns too.
	nullEmpty bool
	// nullOther holds the non-empty NullValues.
	nullOther [][]byte

	checkUTF8 bool
	scratch   []byte
}

func (d *decoder) Decode(c *rowcodec.Chunk) (arrow.RecordBatch, []format.RowError, error) {
	data := c.Data
	d.Rejects = nil
	// One validation pass per chunk is far cheaper than one per cell; cells
	// are checked one by one only in the rare chunk that has invalid bytes.
	d.checkUTF8 = !utf8.Valid(data)
	line := c.Line
	// Rows the splitter rejected (a stray quote) are skipped, their
	// rejects put in their place; cut is where the next one starts.
	cuts, cut := c.Cuts, len(data)
	if len(cuts) > 0 {
		cut = cuts[0].Off
	}
	for pos := 0; pos < len(data); {
		if pos == cut {
			d.Rejects = append(d.Rejects, cuts[0].Reject)
			pos, line = cuts[0].End, line+int64(cuts[0].Lines)
			if cuts = cuts[1:]; len(cuts) > 0 {
				cut = cuts[0].Off
			} else {
				cut = len(data)
			}
			continue
		}
		if next, lines, ok := d.fastRow(data, pos); ok {
			d.Rows++
			pos, line = next, line+int64(lines)
			continue
		}
		d.rollback()
		rest := data[pos:]
		row, next, lines := rest, len(data), 1
		if nl := bytes.IndexByte(rest, '\n'); nl >= 0 {
			row, next = rest[:nl], pos+nl+1
		}
		st := rowcodec.Complete
		if bytes.IndexByte(row, '"') >= 0 {
			var n, l int
			if n, l, st = d.rules.rowEnd(data[:cut], pos, true, nil); st == rowcodec.Complete {
				next, lines, row = n, l, rowcodec.TrimEOL(data[pos:n])
			}
		} else if n := len(row); n > 0 && row[n-1] == '\r' {
			row = row[:n-1]
		}
		if st != rowcodec.Complete {
			// Not reached: the splitter cut such rows out (Chunk.Cuts).
			d.Reject(line, "", row, errStrayQuote)
		} else {
			d.row(row, line)
		}
		pos, line = next, line+int64(lines)
	}
	return d.Record(d.cols)
}

// fastRow decodes the row at data[pos:] in one pass when it has the right
// number of fields, cells that all parse and well-formed quotes, which is
// nearly every row. Otherwise it returns false, and the caller rolls back
// what it appended and takes the general path, which also builds the
// reject. lines counts the newlines inside quoted fields, plus one.
func (d *decoder) fastRow(data []byte, pos int) (next, lines int, ok bool) {
	slots := d.slots
	lines = 1
	for n, i := 0, pos; ; n++ {
		var (
			f      []byte
			j      int
			quoted bool
		)
		if i < len(data) && data[i] == '"' {
			// A quoted field: runs to the next lone quote; doubled quotes
			// are collapsed into scratch, and only then is it copied.
			quoted = true
			k := bytes.IndexByte(data[i+1:], '"')
			if k < 0 {
				return 0, 0, false
			}
			j = i + 1 + k
			f = data[i+1 : j]
			if j+1 < len(data) && data[j+1] == '"' {
				sc := append(d.scratch[:0], data[i+1:j+1]...)
				for j += 2; ; j += 2 {
					k := bytes.IndexByte(data[j:], '"')
					if k < 0 {
						return 0, 0, false
					}
					sc = append(sc, data[j:j+k]...)
					j += k
					if j+1 >= len(data) || data[j+1] != '"' {
						break
					}
					sc = append(sc, '"')
				}
				d.scratch, f = sc, sc
			}
			lines += bytes.Count(data[i+1:j], nl)
			j++ // past the closing quote
			if j < len(data) && data[j] == '\r' && j+1 < len(data) && data[j+1] == '\n' {
				j++
			}
			if j < len(data) && data[j] != d.delim && data[j] != '\n' {
				return 0, 0, false // text after the closing quote
			}
		} else {
			j = nextSpecial(data, i, d.delim)
			if j < len(data) && data[j] == '"' {
				return 0, 0, false // a quote inside an unquoted field
			}
			f = data[i:j]
		}
		eor := j == len(data) || data[j] == '\n'
		if eor && !quoted && len(f) > 0 && f[len(f)-1] == '\r' {
			f = f[:len(f)-1]
		}
		if n >= len(slots) {
			return 0, 0, false
		}
		if c := slots[n]; c != nil && !d.cell(c, f, quoted) {
			return 0, 0, false
		}
		if eor {
			if n+1 != len(slots) {
				return 0, 0, false // also a blank line in a table of several columns
			}
			return min(j+1, len(data)), lines, true
		}
		i = j + 1
	}
}

var nl = []byte{'\n'}

// row decodes one row (without its line end) or rejects it.
func (d *decoder) row(row []byte, line int64) {
	if len(row) == 0 && len(d.slots) != 1 {
		return // blank line; with one column it is a row with an empty cell
	}
	if len(d.slots) == 0 {
		// Only a headerless input whose sample had no usable row has no
		// columns; its later rows cannot fit.
		d.Reject(line, "", row, fmt.Errorf("row has fields, the inferred schema has no columns"))
		return
	}
	if bytes.IndexByte(row, '"') >= 0 {
		d.quotedRow(row, line)
		return
	}
	rest := row
	for i, c := range d.slots {
		f := rest
		k := bytes.IndexByte(rest, d.delim)
		if k >= 0 {
			f, rest = rest[:k], rest[k+1:]
		}
		if k < 0 && i < len(d.slots)-1 {
			d.rollback()
			d.Reject(line, "", row, fmt.Errorf("%d fields, want %d", i+1, len(d.slots)))
			return
		}
		if k >= 0 && i == len(d.slots)-1 {
			d.rollback()
			d.Reject(line, "", row, fmt.Errorf("%d fields, want %d", bytes.Count(row, []byte{d.delim})+1, len(d.slots)))
			return
		}
		if c != nil && !d.cell(c, f, false) {
			d.rollback()
			d.Reject(line, c.Name, row, cellError(c, f))
			return
		}
	}
	d.Rows++
}

// quotedRow is row's slow path for rows that contain a quote.
func (d *decoder) quotedRow(row []byte, line int64) {
	i, n := 0, 0
	for i >= 0 {
		f, q, next, s, err := nextField(row, i, d.delim, d.scratch)
		d.scratch = s
		col := ""
		if n < len(d.slots) && d.slots[n] != nil {
			col = d.slots[n].Name
		}
		if err != nil {
			d.rollback()
			d.Reject(line, col, row, err)
			return
		}
		if n >= len(d.slots) {
			for ; next >= 0; n++ {
				_, _, next, d.scratch, _ = nextField(row, next, d.delim, d.scratch)
			}
			d.rollback()
			d.Reject(line, "", row, fmt.Errorf("%d fields, want %d", n+1, len(d.slots)))
			return
		}
		if c := d.slots[n]; c != nil && !d.cell(c, f, q) {
			d.rollback()
			d.Reject(line, c.Name, row, cellError(c, f))
			return
		}
		i, n = next, n+1
	}
	if n != len(d.slots) {
		d.rollback()
		d.Reject(line, "", row, fmt.Errorf("%d fields, want %d", n, len(d.slots)))
		return
	}
	d.Rows++
}

// cell appends one value; false means f does not parse as c's type.
func (d *decoder) cell(c *rowcodec.Column, f []byte, quoted bool) bool {
	if len(f) == 0 {
		switch c.Kind {
		case rowcodec.KindString, rowcodec.KindLargeString, rowcodec.KindBinary:
			if quoted || !d.nullEmpty {
				c.Valid = append(c.Valid, 1)
				c.Offs = append(c.Offs, int64(len(c.Data)))
				return true
			}
		}
		c.AppendNull()
		return true
	}
	if len(d.nullOther) > 0 && !quoted {
		for _, nv := range d.nullOther {
			if bytes.Equal(f, nv) {
				c.AppendNull()
				return true
			}
		}
	}
	switch c.Kind {
	case rowcodec.KindString, rowcodec.KindLargeString:
		if d.checkUTF8 && !utf8.Valid(f) {
			return false
		}
		c.Data = append(c.Data, f...)
		c.Offs = append(c.Offs, int64(len(c.Data)))
	case rowcodec.KindInt:
		v, ok := rowcodec.ParseInt(f)
		if !ok || v < c.Lo || v > c.Hi {
			return false
		}
		c.I64 = append(c.I64, v)
	case rowcodec.KindFloat64:
		v, ok := rowcodec.ParseFloat(f)
		if !ok {
			return false
		}
		c.F64 = append(c.F64, v)
	case rowcodec.KindFloat32:
		v, ok := rowcodec.ParseFloat32(f)
		if !ok {
			return false
		}
		c.F64 = append(c.F64, v)
	case rowcodec.KindTimestamp:
		v, ok := rowcodec.ParseTimestamp(f, c.Unit, false)
		if !ok {
			return false
		}
		c.I64 = append(c.I64, v)
	case rowcodec.KindUint:
		v, ok := rowcodec.ParseUint(f)
		if !ok && len(f) > 1 && f[0] == '+' {
			v, ok = rowcodec.ParseUint(f[1:])
		}
		if !ok || v > c.UHi {
			return false
		}
		c.U64 = append(c.U64, v)
	case rowcodec.KindBool:
		v, ok := rowcodec.ParseBool(f)
		if !ok {
			return false
		}
		b := byte(0)
		if v {
			b = 1
		}
		c.B8 = append(c.B8, b)
	case rowcodec.KindDate32:
		v, ok := rowcodec.ParseDate(f)
		if !ok {
			return false
		}
		c.I64 = append(c.I64, v)
	case rowcodec.KindDecimal:
		v, ok := rowcodec.ParseDecimal(f, c.Prec, c.Scale)
		if !ok {
			return false
		}
		c.Dec = append(c.Dec, v)
	case rowcodec.KindBinary:
		var ok bool
		if c.Data, ok = rowcodec.AppendBase64(c.Data, f); !ok {
			return false
		}
		c.Offs = append(c.Offs, int64(len(c.Data)))
	default:
		return false
	}
	c.Valid = append(c.Valid, 1)
	return true
}

func cellError(c *rowcodec.Column, f []byte) error {
	if (c.Kind == rowcodec.KindString || c.Kind == rowcodec.KindLargeString) && !utf8.Valid(f) {
		return fmt.Errorf("value is not valid UTF-8 (read the column as binary)")
	}
	if len(f) > 64 {
		return fmt.Errorf("%q... is not a valid %s", f[:64], c.Type)
	}
	return fmt.Errorf("%q is not a valid %s", f, c.Type)
}

// rollback drops the cells a rejected row had already appended.
func (d *decoder) rollback() {
	for _, c := range d.cols {
		c.Truncate(d.Rows)
	}
}
