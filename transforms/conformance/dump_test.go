package conformance_test

import (
	"crypto/sha256"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
)

// dump writes a record as text that differs whenever the records differ in
// schema, row count, a value or a null: floats by their bits as well as
// their value, strings quoted with every byte visible.
func dump(w *strings.Builder, rec arrow.RecordBatch, rejected []int) {
	fmt.Fprintf(w, "schema: %s\n", schemaLine(rec.Schema()))
	fmt.Fprintf(w, "rows: %d, rejected: %v\n", rec.NumRows(), rejected)
	for i := range int(rec.NumRows()) {
		for j, col := range rec.Columns() {
			if j > 0 {
				w.WriteString(" | ")
			}
			w.WriteString(value(col, i))
		}
		w.WriteByte('\n')
	}
}

func schemaLine(s *arrow.Schema) string {
	var parts []string
	for _, f := range s.Fields() {
		n := ""
		if f.Nullable {
			n = "?"
		}
		parts = append(parts, f.Name+": "+f.Type.String()+n)
	}
	return strings.Join(parts, ", ")
}

func value(col arrow.Array, i int) string {
	if col.IsNull(i) {
		return "null"
	}
	switch a := col.(type) {
	case *array.Int32:
		return strconv.FormatInt(int64(a.Value(i)), 10)
	case *array.Int64:
		return strconv.FormatInt(a.Value(i), 10)
	case *array.Float64:
		v := a.Value(i)
		return strconv.FormatFloat(v, 'g', -1, 64) + "/" + strconv.FormatUint(math.Float64bits(v), 16)
	case *array.String:
		return str(a.Value(i))
	case *array.LargeString:
		return str(a.Value(i))
	case *array.Binary:
		return fmt.Sprintf("%x", a.Value(i))
	}
	return "?" + col.DataType().String()
}

// str quotes s; a long value is shown by its start, length and hash so the
// golden files stay small.
func str(s string) string {
	if len(s) <= 120 {
		return strconv.Quote(s)
	}
	return fmt.Sprintf("%s…(%d bytes, sha256 %x)", strconv.Quote(s[:40]), len(s), sha256.Sum256([]byte(s)))
}
