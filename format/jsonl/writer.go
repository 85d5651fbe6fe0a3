package jsonl

import (
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"strconv"
	"unicode/utf8"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/dataweaver/dataweaver/format"
	"github.com/dataweaver/dataweaver/format/internal/rowcodec"
)

type writer struct {
	rowcodec.Output
	schema *arrow.Schema
	keys   [][]byte // `{"name":` for the first column, `,"name":` after
}

// NewWriter writes one object per record row. Types without a fast path
// (dictionaries, maps, durations...) go through arrow's own JSON value
// (GetOneForMarshal), slower but complete.
func NewWriter(w io.Writer, schema *arrow.Schema, opts format.WriteOptions) (format.Writer, error) {
	return &writer{Output: rowcodec.NewOutput(w, opts.Name, nil), schema: schema, keys: objectKeys(schema.Fields())}, nil
}

func objectKeys(fields []arrow.Field) [][]byte {
	keys := make([][]byte, len(fields))
	for i, f := range fields {
		sep := byte(',')
		if i == 0 {
			sep = '{'
		}
		k := appendString([]byte{sep}, []byte(f.Name))
		keys[i] = append(k, ':')
	}
	return keys
}

func (w *writer) Write(rec arrow.RecordBatch) error {
	if err := w.Err(); err != nil {
		return err
	}
	if !rec.Schema().Equal(w.schema) {
		return fmt.Errorf("%s: %w: record schema %s differs from the writer's %s", w.Name(), ErrOptions, rec.Schema(), w.schema)
	}
	cols := make([]view, rec.NumCols())
	for i := range cols {
		cols[i] = newView(rec.Column(i))
	}
	return w.Encode(int(rec.NumRows()), func(dst []byte, lo, hi int) []byte {
		return encodeRows(dst, w.keys, cols, lo, hi)
	})
}

// view is one array's typed buffers (rowcodec.View, shared with the CSV
// writer) plus what only JSON writes: a struct's field keys and the views
// of its fields or of a list's elements.
type view struct {
	rowcodec.View
	keys [][]byte // struct
	kids []view   // struct fields, or the list element
}

func newView(a arrow.Array) view {
	v := view{View: rowcodec.NewView(a)}
	switch a := a.(type) {
	case *array.Struct:
		v.keys = objectKeys(a.DataType().(*arrow.StructType).Fields())
		for i := range a.NumField() {
			v.kids = append(v.kids, newView(a.Field(i)))
		}
	case *array.List:
		v.kids = []view{newView(a.ListValues())}
	}
	return v
}

// encodeRows appends rows [lo,hi) as JSON lines.
func encodeRows(dst []byte, keys [][]byte, cols []view, lo, hi int) []byte {
	if len(cols) == 0 {
		for i := lo; i < hi; i++ {
			dst = append(dst, "{}\n"...)
		}
		return dst
	}
	var days rowcodec.Days // per call: calls run on several goroutines
	for i := lo; i < hi; i++ {
		for j := range cols {
			dst = append(dst, keys[j]...)
			dst = appendValue(dst, &cols[j], i, &days)
		}
		dst = append(dst, '}', '\n')
	}
	return dst
}

// appendValue writes element i of v. The switch is on a small integer per
// cell; the scalar cases index typed slices directly.
func appendValue(dst []byte, v *view, i int, days *rowcodec.Days) []byte {
	if v.Nulls && v.Arr.IsNull(i) {
		return append(dst, "null"...)
	}
	switch v.Kind {
	case rowcodec.KindInt:
		switch {
		case v.I64 != nil:
			return strconv.AppendInt(dst, v.I64[i], 10)
		case v.I32 != nil:
			return strconv.AppendInt(dst, int64(v.I32[i]), 10)
		}
		return strconv.AppendInt(dst, v.NarrowInt(i), 10)
	case rowcodec.KindUint:
		if v.U64 != nil {
			return strconv.AppendUint(dst, v.U64[i], 10)
		}
		return strconv.AppendUint(dst, v.NarrowUint(i), 10)
	case rowcodec.KindFloat64:
		return appendFloat(dst, v.F64[i], 64)
	case rowcodec.KindFloat32:
		return appendFloat(dst, float64(v.F32[i]), 32)
	case rowcodec.KindString:
		return appendString(dst, v.Bytes[v.Offs[i]-v.Offs[0]:v.Offs[i+1]-v.Offs[0]])
	case rowcodec.KindLargeString:
		return appendString(dst, v.Bytes[v.LOffs[i]-v.LOffs[0]:v.LOffs[i+1]-v.LOffs[0]])
	case rowcodec.KindBinary:
		dst = append(dst, '"')
		dst = base64.StdEncoding.AppendEncode(dst, v.Bytes[v.Offs[i]-v.Offs[0]:v.Offs[i+1]-v.Offs[0]])
		return append(dst, '"')
	case rowcodec.KindBool:
		if v.Bools.Value(i) {
			return append(dst, "true"...)
		}
		return append(dst, "false"...)
	case rowcodec.KindTimestamp:
		dst = append(dst, '"')
		dst = days.AppendTimestamp(dst, v.I64[i], v.Unit)
		return append(dst, '"')
	case rowcodec.KindDate32:
		dst = append(dst, '"')
		dst = rowcodec.AppendDate(dst, int64(v.I32[i]))
		return append(dst, '"')
	case rowcodec.KindDecimal:
		dst = append(dst, '"')
		dst = rowcodec.AppendDecimal(dst, v.Dec[i], v.Scale)
		return append(dst, '"')
	case rowcodec.KindStruct:
		if len(v.kids) == 0 {
			return append(dst, '{', '}')
		}
		for k := range v.kids {
			dst = append(dst, v.keys[k]...)
			dst = appendValue(dst, &v.kids[k], i, days)
		}
		return append(dst, '}')
	case rowcodec.KindList:
		dst = append(dst, '[')
		for k := v.I32[i]; k < v.I32[i+1]; k++ {
			if k > v.I32[i] {
				dst = append(dst, ',')
			}
			dst = appendValue(dst, &v.kids[0], int(k), days)
		}
		return append(dst, ']')
	}
	b, err := json.Marshal(v.Arr.GetOneForMarshal(i))
	if err != nil {
		return appendString(dst, []byte(v.Arr.ValueStr(i)))
	}
	return append(dst, b...)
}

// appendFloat writes the shortest text that reads back as the same value,
// in encoding/json's style (exponent only outside 1e-6..1e21) but always
// with a point or an exponent: encoding/json's 461 for 461.0 reads back as
// an integer, so a float column would come back as int64 (issue 10), and
// its -0 as 0. JSON has no NaN or Infinity, so those become null.
func appendFloat(dst []byte, f float64, bits int) []byte {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return append(dst, "null"...)
	}
	if bits == 64 {
		if d, ok := rowcodec.AppendCents(dst, f, 1e13); ok {
			return d
		}
	}
	fmtc := byte('f')
	if a := math.Abs(f); a != 0 {
		if bits == 64 && (a < 1e-6 || a >= 1e21) || bits == 32 && (float32(a) < 1e-6 || float32(a) >= 1e21) {
			fmtc = 'e'
		}
	}
	start := len(dst)
	dst = strconv.AppendFloat(dst, f, fmtc, -1, bits)
	if fmtc == 'f' {
		return rowcodec.FloatText(dst, start)
	}
	if fmtc == 'e' {
		// 1e-07 → 1e-7, as encoding/json does.
		if n := len(dst); n >= 4 && dst[n-4] == 'e' && dst[n-3] == '-' && dst[n-2] == '0' {
			dst[n-2] = dst[n-1]
			dst = dst[:n-1]
		}
	}
	return dst
}

// plainWord reports whether 8 bytes need no escaping: all ASCII, no
// control character, quote or backslash. Checking a word at a time halves
// the cost of writing typical strings.
func plainWord(x uint64) bool {
	ctl := (x - 0x20*rowcodec.LSB8) & ^x & rowcodec.MSB8
	return (ctl | x&rowcodec.MSB8 | rowcodec.ZeroBytes(x^('"'*rowcodec.LSB8)) | rowcodec.ZeroBytes(x^('\\'*rowcodec.LSB8))) == 0
}

// safe marks bytes that go into a JSON string as they are.
var safe = func() (t [256]bool) {
	for c := 0x20; c < 0x80; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

const hexDigits = "0123456789abcdef"

// appendString writes s as a JSON string. Runs of safe ASCII are copied in
// one append; invalid UTF-8 bytes become \ufffd so the output is always
// valid JSON.
func appendString(dst, s []byte) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		if i+8 <= len(s) && plainWord(binary.LittleEndian.Uint64(s[i:])) {
			i += 8
			continue
		}
		c := s[i]
		if safe[c] {
			i++
			continue
		}
		if c < utf8.RuneSelf {
			dst = append(dst, s[start:i]...)
			switch c {
			case '"', '\\':
				dst = append(dst, '\\', c)
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRune(s[i:])
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
			i++
			start = i
			continue
		}
		i += size
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}
