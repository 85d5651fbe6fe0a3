package csv

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/dataweaver/dataweaver/format"
	"github.com/dataweaver/dataweaver/format/internal/formattest"
)

func TestWrite(t *testing.T) {
	tests := []struct {
		name   string
		fields []arrow.Field
		rows   string // JSON rows for array.RecordFromJSON
		opts   format.WriteOptions
		want   string
	}{
		{
			name:   "quoting only when needed; null empty, empty string quoted",
			fields: []arrow.Field{{Name: "s", Type: arrow.BinaryTypes.String, Nullable: true}, {Name: "i", Type: arrow.PrimitiveTypes.Int64, Nullable: true}},
			rows:   `[{"s":"plain","i":1},{"s":"a,b","i":null},{"s":"q\"q","i":-2},{"s":"l\nl","i":3},{"s":"","i":4},{"s":null,"i":5},{"s":"cr\r","i":6}]`,
			want:   "s,i\nplain,1\n\"a,b\",\n\"q\"\"q\",-2\n\"l\nl\",3\n\"\",4\n,5\n\"cr\r\",6\n",
		},
		{
			name:   "floats: shortest text that reads back",
			fields: []arrow.Field{{Name: "f", Type: arrow.PrimitiveTypes.Float64}, {Name: "g", Type: arrow.PrimitiveTypes.Float32}},
			rows:   `[{"f":0.1,"g":0.1},{"f":100,"g":1e21},{"f":-1.5e-7,"g":16777216},{"f":0.30000000000000004,"g":3.4028235e38}]`,
			want:   "f,g\n0.1,0.1\n100.0,1e+21\n-1.5e-07,1.6777216e+07\n0.30000000000000004,3.4028235e+38\n",
		},
		{
			name: "time, dates, decimals, binary, bool",
			fields: []arrow.Field{
				{Name: "ts", Type: &arrow.TimestampType{Unit: arrow.Nanosecond, TimeZone: "UTC"}},
				{Name: "d", Type: arrow.FixedWidthTypes.Date32},
				{Name: "dec", Type: &arrow.Decimal128Type{Precision: 6, Scale: 3}},
				{Name: "b", Type: arrow.BinaryTypes.Binary},
				{Name: "ok", Type: arrow.FixedWidthTypes.Boolean},
			},
			rows: `[{"ts":"2024-02-29T23:59:59.5Z","d":"2024-02-29","dec":"-1.5","b":"aGk=","ok":true},{"ts":"1969-12-31T23:59:59.000000001Z","d":"1900-01-01","dec":"0.001","b":"","ok":false}]`,
			want: "ts,d,dec,b,ok\n2024-02-29T23:59:59.5Z,2024-02-29,-1.500,aGk=,true\n1969-12-31T23:59:59.000000001Z,1900-01-01,0.001,\"\",false\n",
		},
		{
			name:   "semicolon delimiter quotes semicolons, not commas; no header",
			fields: []arrow.Field{{Name: "s", Type: arrow.BinaryTypes.String}},
			rows:   `[{"s":"a;b"},{"s":"a,b"}]`,
			opts:   format.WriteOptions{Delimiter: ';', NoHeader: true},
			want:   "\"a;b\"\na,b\n",
		},
		{
			name:   "other types go through ValueStr",
			fields: []arrow.Field{{Name: "t", Type: arrow.FixedWidthTypes.Time32s}},
			rows:   `[{"t":"01:02:03"}]`,
			want:   "t\n01:02:03\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := formattest.WriteJSONRows(t, csvFormat, tt.fields, tt.rows, tt.opts); got != tt.want {
				t.Errorf("got\n%q\nwant\n%q", got, tt.want)
			}
		})
	}
}

func TestWriteEmptyTableHasHeader(t *testing.T) {
	var buf bytes.Buffer
	schema := arrow.NewSchema([]arrow.Field{{Name: "a", Type: arrow.PrimitiveTypes.Int64}, {Name: "b", Type: arrow.BinaryTypes.String}}, nil)
	w, err := NewWriter(&buf, schema, format.WriteOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if buf.String() != "a,b\n" {
		t.Errorf("got %q", buf.String())
	}
}

func TestWriteErrors(t *testing.T) {
	nested := arrow.NewSchema([]arrow.Field{{Name: "l", Type: arrow.ListOf(arrow.PrimitiveTypes.Int64)}}, nil)
	if _, err := NewWriter(&bytes.Buffer{}, nested, format.WriteOptions{}); err == nil || !strings.Contains(err.Error(), `column "l"`) {
		t.Errorf("nested column: err = %v", err)
	}
	// A failing io.Writer surfaces on Flush with the file name, and sticks.
	schema := arrow.NewSchema([]arrow.Field{{Name: "a", Type: arrow.PrimitiveTypes.Int64}}, nil)
	w, err := NewWriter(formattest.FailWriter{}, schema, format.WriteOptions{Name: "out.csv"})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Flush(); err == nil || !strings.Contains(err.Error(), "out.csv") || !errors.Is(err, formattest.ErrDiskFull) {
		t.Errorf("Flush: err = %v", err)
	}
	if err := w.Close(); err == nil {
		t.Error("Close after a failed Flush returned nil")
	}
}

// TestFloatsStayFloats: a float column written and read back without a
// schema is float64 again, bit for bit (461.0 is written "461.0", not
// "461", which inference reads as an integer), NaN and ±Inf included.
func TestFloatsStayFloats(t *testing.T) { formattest.FloatsStayFloats(t, csvFormat, true) }
