package csv

import (
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"strconv"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/array"
	"github.com/apache/arrow/go/v15/arrow/decimal128"

	"github.com/dataweaver/dataweaver/format"
	"github.com/dataweaver/dataweaver/format/internal/rowcodec"
)

type writer struct {
	rowcodec.Output
	schema *arrow.Schema
	delim  byte
	kinds  []rowcodec.Kind
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
		k, err := rowcodec.NewColumn(f.Name, f.Type, false)
		kd := rowcodec.Kind(255)
		if err == nil {
			kd = k.Kind
		}
		wr.kinds = append(wr.kinds, kd)
	}
	return wr, nil
}

func (w *writer) Write(rec arrow.Record) error {
	if err := w.Err(); err != nil {
		return err
	}
	if !rec.Schema().Equal(w.schema) {
		return fmt.Errorf("%s: %w: record schema %s differs from the writer's %s", w.Name(), ErrOptions, rec.Schema(), w.schema)
	}
	cols := make([]colView, rec.NumCols())
	for i := range cols {
		cols[i] = view(rec.Column(i), w.kinds[i])
	}
	return w.Encode(int(rec.NumRows()), func(dst []byte, lo, hi int) []byte {
		return w.encode(dst, cols, lo, hi)
	})
}

// colView holds one column's typed buffers for the encode loop.
type colView struct {
	kind   rowcodec.Kind
	arr    arrow.Array
	nulls  bool
	i64    []int64
	i32    []int32
	u64    []uint64
	f64    []float64
	f32    []float32
	dec    []decimal128.Num
	offs   []int32
	loffs  []int64
	bytes  []byte
	bools  *array.Boolean
	unit   arrow.TimeUnit
	scale  int32
	intVal func(i int) int64  // narrow ints
	uVal   func(i int) uint64 // narrow uints
}

func view(a arrow.Array, k rowcodec.Kind) colView {
	v := colView{kind: k, arr: a, nulls: a.NullN() > 0}
	switch a := a.(type) {
	case *array.Int64:
		v.i64 = a.Int64Values()
	case *array.Int32:
		v.i32 = a.Int32Values()
	case *array.Int16:
		v.intVal = func(i int) int64 { return int64(a.Value(i)) }
	case *array.Int8:
		v.intVal = func(i int) int64 { return int64(a.Value(i)) }
	case *array.Uint64:
		v.u64 = a.Uint64Values()
	case *array.Uint32:
		v.uVal = func(i int) uint64 { return uint64(a.Value(i)) }
	case *array.Uint16:
		v.uVal = func(i int) uint64 { return uint64(a.Value(i)) }
	case *array.Uint8:
		v.uVal = func(i int) uint64 { return uint64(a.Value(i)) }
	case *array.Float64:
		v.f64 = a.Float64Values()
	case *array.Float32:
		v.f32 = a.Float32Values()
	case *array.String:
		v.offs, v.bytes = a.ValueOffsets(), a.ValueBytes()
	case *array.LargeString:
		v.loffs, v.bytes = a.ValueOffsets(), a.ValueBytes()
	case *array.Binary:
		v.offs, v.bytes = a.ValueOffsets(), a.ValueBytes()
	case *array.Boolean:
		v.bools = a
	case *array.Date32:
		v.i32 = arrow.Int32Traits.CastFromBytes(arrow.Date32Traits.CastToBytes(a.Date32Values()))
	case *array.Timestamp:
		v.i64 = arrow.Int64Traits.CastFromBytes(arrow.TimestampTraits.CastToBytes(a.TimestampValues()))
		v.unit = a.DataType().(*arrow.TimestampType).Unit
	case *array.Decimal128:
		v.dec = a.Values()
		v.scale = a.DataType().(*arrow.Decimal128Type).Scale
	}
	return v
}

// encode appends rows [lo,hi) of cols to dst. The switch runs per cell on
// a small integer; there is no interface call on the fast paths.
func (w *writer) encode(dst []byte, cols []colView, lo, hi int) []byte {
	delim := w.delim
	for i := lo; i < hi; i++ {
		for j := range cols {
			c := &cols[j]
			if j > 0 {
				dst = append(dst, delim)
			}
			if c.nulls && c.arr.IsNull(i) {
				continue
			}
			switch c.kind {
			case rowcodec.KindInt:
				switch {
				case c.i64 != nil:
					dst = strconv.AppendInt(dst, c.i64[i], 10)
				case c.i32 != nil:
					dst = strconv.AppendInt(dst, int64(c.i32[i]), 10)
				default:
					dst = strconv.AppendInt(dst, c.intVal(i), 10)
				}
			case rowcodec.KindUint:
				if c.u64 != nil {
					dst = strconv.AppendUint(dst, c.u64[i], 10)
				} else {
					dst = strconv.AppendUint(dst, c.uVal(i), 10)
				}
			case rowcodec.KindFloat64:
				dst = appendFloat(dst, c.f64[i], 64)
			case rowcodec.KindFloat32:
				dst = appendFloat(dst, float64(c.f32[i]), 32)
			case rowcodec.KindString, rowcodec.KindLargeString:
				var s []byte
				if c.offs != nil {
					s = c.bytes[c.offs[i]-c.offs[0] : c.offs[i+1]-c.offs[0]]
				} else {
					s = c.bytes[c.loffs[i]-c.loffs[0] : c.loffs[i+1]-c.loffs[0]]
				}
				dst = appendCell(dst, s, delim, len(s) == 0)
			case rowcodec.KindBinary:
				s := c.bytes[c.offs[i]-c.offs[0] : c.offs[i+1]-c.offs[0]]
				if len(s) == 0 {
					dst = append(dst, '"', '"')
				} else {
					dst = base64.StdEncoding.AppendEncode(dst, s)
				}
			case rowcodec.KindBool:
				if c.bools.Value(i) {
					dst = append(dst, "true"...)
				} else {
					dst = append(dst, "false"...)
				}
			case rowcodec.KindTimestamp:
				dst = rowcodec.AppendTimestamp(dst, c.i64[i], c.unit)
			case rowcodec.KindDate32:
				dst = rowcodec.AppendDate(dst, int64(c.i32[i]))
			case rowcodec.KindDecimal:
				dst = rowcodec.AppendDecimal(dst, c.dec[i], c.scale)
			default:
				s := c.arr.ValueStr(i)
				dst = appendCell(dst, []byte(s), delim, s == "")
			}
		}
		dst = append(dst, '\n')
	}
	return dst
}

// appendFloat writes the shortest text that parses back to the same value
// (strconv's -1 precision); NaN and ±Inf as strconv reads them back.
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
	return strconv.AppendFloat(dst, f, 'g', -1, bits)
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
