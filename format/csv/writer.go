package csv

import (
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"strconv"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/dataweaver/dataweaver/format"
	"github.com/dataweaver/dataweaver/format/internal/rowcodec"
)

type writer struct {
	rowcodec.Output
	schema *arrow.Schema
	delim  byte
}

// NewWriter writes the header (unless NoHeader) into its buffer at once, so
// an empty table still gets one. Types without a fast path (dictionaries,
// time-of-day, durations...) are written with arrow's ValueStr text.
func NewWriter(w io.Writer, schema *arrow.Schema, opts format.WriteOptions) (format.Writer, error) {
	delim, err := delimiter(opts.Delimiter)
	if err != nil {
		return nil, err
	}
	var header []byte
	if !opts.NoHeader {
		for i, f := range schema.Fields() {
			if i > 0 {
				header = append(header, delim)
			}
			header = appendCell(header, []byte(f.Name), delim, f.Name == "")
		}
		header = append(header, '\n')
	}
	wr := &writer{Output: rowcodec.NewOutput(w, opts.Name, header), schema: schema, delim: delim}
	for _, f := range schema.Fields() {
		switch f.Type.ID() {
		case arrow.STRUCT, arrow.LIST, arrow.LARGE_LIST, arrow.FIXED_SIZE_LIST, arrow.MAP, arrow.SPARSE_UNION, arrow.DENSE_UNION:
			return nil, fmt.Errorf("%s: %w: column %q: CSV cannot hold nested type %s (write JSONL, Parquet or Arrow)", wr.Name(), ErrOptions, f.Name, f.Type)
		}
	}
	return wr, nil
}

func (w *writer) Write(rec arrow.RecordBatch) error {
	if err := w.Err(); err != nil {
		return err
	}
	if !rec.Schema().Equal(w.schema) {
		return fmt.Errorf("%s: %w: record schema %s differs from the writer's %s", w.Name(), ErrOptions, rec.Schema(), w.schema)
	}
	cols := make([]rowcodec.View, rec.NumCols())
	for i := range cols {
		cols[i] = rowcodec.NewView(rec.Column(i))
	}
	return w.Encode(int(rec.NumRows()), func(dst []byte, lo, hi int) []byte {
		return w.encode(dst, cols, lo, hi)
	})
}

// encode appends rows [lo,hi) of cols to dst. The switch runs per cell on
// a small integer; there is no interface call on the fast paths.
func (w *writer) encode(dst []byte, cols []rowcodec.View, lo, hi int) []byte {
	delim := w.delim
	for i := lo; i < hi; i++ {
		for j := range cols {
			c := &cols[j]
			if j > 0 {
				dst = append(dst, delim)
			}
			if c.Nulls && c.Arr.IsNull(i) {
				continue
			}
			switch c.Kind {
			case rowcodec.KindInt:
				switch {
				case c.I64 != nil:
					dst = strconv.AppendInt(dst, c.I64[i], 10)
				case c.I32 != nil:
					dst = strconv.AppendInt(dst, int64(c.I32[i]), 10)
				default:
					dst = strconv.AppendInt(dst, c.NarrowInt(i), 10)
				}
			case rowcodec.KindUint:
				if c.U64 != nil {
					dst = strconv.AppendUint(dst, c.U64[i], 10)
				} else {
					dst = strconv.AppendUint(dst, c.NarrowUint(i), 10)
				}
			case rowcodec.KindFloat64:
				dst = appendFloat(dst, c.F64[i], 64)
			case rowcodec.KindFloat32:
				dst = appendFloat(dst, float64(c.F32[i]), 32)
			case rowcodec.KindString, rowcodec.KindLargeString:
				var s []byte
				if c.Offs != nil {
					s = c.Bytes[c.Offs[i]-c.Offs[0] : c.Offs[i+1]-c.Offs[0]]
				} else {
					s = c.Bytes[c.LOffs[i]-c.LOffs[0] : c.LOffs[i+1]-c.LOffs[0]]
				}
				dst = appendCell(dst, s, delim, len(s) == 0)
			case rowcodec.KindBinary:
				s := c.Bytes[c.Offs[i]-c.Offs[0] : c.Offs[i+1]-c.Offs[0]]
				if len(s) == 0 {
					dst = append(dst, '"', '"')
				} else {
					dst = base64.StdEncoding.AppendEncode(dst, s)
				}
			case rowcodec.KindBool:
				if c.Bools.Value(i) {
					dst = append(dst, "true"...)
				} else {
					dst = append(dst, "false"...)
				}
			case rowcodec.KindTimestamp:
				dst = rowcodec.AppendTimestamp(dst, c.I64[i], c.Unit)
			case rowcodec.KindDate32:
				dst = rowcodec.AppendDate(dst, int64(c.I32[i]))
			case rowcodec.KindDecimal:
				dst = rowcodec.AppendDecimal(dst, c.Dec[i], c.Scale)
			default:
				s := c.Arr.ValueStr(i)
				dst = appendCell(dst, []byte(s), delim, s == "")
			}
		}
		dst = append(dst, '\n')
	}
	return dst
}

// appendFloat writes the shortest text that parses back to the same value
// (strconv's -1 precision) with a point or an exponent, so that a float
// column reads back as float64, not int64, and -0 keeps its sign; NaN and
// ±Inf as strconv reads them back.
func appendFloat(dst []byte, f float64, bits int) []byte {
	switch {
	case math.IsNaN(f):
		return append(dst, "NaN"...)
	case math.IsInf(f, 1):
		return append(dst, "+Inf"...)
	case math.IsInf(f, -1):
		return append(dst, "-Inf"...)
	}
	if bits == 64 {
		// Below 1e6 'g' never uses an exponent, so the fast form is the same text.
		if d, ok := rowcodec.AppendCents(dst, f, 1e6); ok {
			return d
		}
	}
	start := len(dst)
	return rowcodec.FloatText(strconv.AppendFloat(dst, f, 'g', -1, bits), start)
}

// needsQuote marks the bytes that force a field into quotes (the delimiter
// is checked separately).
var needsQuote = [256]bool{'"': true, '\n': true, '\r': true}

// appendCell writes s, quoted only when it has to be: it holds the
// delimiter, a quote or a line end, or it is empty and must not read back
// as null (force).
func appendCell(dst, s []byte, delim byte, force bool) []byte {
	q := force
	if !q {
		md := uint64(delim) * rowcodec.LSB8
		i := 0
		for ; i+8 <= len(s); i += 8 {
			x := binary.LittleEndian.Uint64(s[i:])
			if rowcodec.ZeroBytes(x^md)|rowcodec.ZeroBytes(x^('"'*rowcodec.LSB8))|rowcodec.ZeroBytes(x^('\n'*rowcodec.LSB8))|rowcodec.ZeroBytes(x^('\r'*rowcodec.LSB8)) != 0 {
				q = true
				break
			}
		}
		for _, c := range s[i:] {
			if needsQuote[c] || c == delim {
				q = true
				break
			}
		}
	}
	if !q {
		return append(dst, s...)
	}
	dst = append(dst, '"')
	for {
		k := indexQuote(s)
		if k < 0 {
			break
		}
		dst = append(dst, s[:k+1]...)
		dst = append(dst, '"')
		s = s[k+1:]
	}
	dst = append(dst, s...)
	return append(dst, '"')
}

func indexQuote(s []byte) int {
	for i, c := range s {
		if c == '"' {
			return i
		}
	}
	return -1
}
