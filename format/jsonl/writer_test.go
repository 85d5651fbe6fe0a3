package jsonl

import (
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/dataweaver/dataweaver/format"
	"github.com/dataweaver/dataweaver/format/internal/formattest"
)

func TestWrite(t *testing.T) {
	tests := []struct {
		name   string
		fields []arrow.Field
		rows   string // JSON rows for array.RecordFromJSON
		want   string
	}{
		{
			name:   "keys in schema order, nulls, escaping",
			fields: []arrow.Field{{Name: "s", Type: arrow.BinaryTypes.String, Nullable: true}, {Name: "k\"ey\n", Type: arrow.PrimitiveTypes.Int64, Nullable: true}},
			rows:   `[{"s":"q\"b\\s\n\t\u0001é✓","k\"ey\n":1},{"s":null,"k\"ey\n":null},{"s":"","k\"ey\n":-9223372036854775808}]`,
			want:   `{"s":"q\"b\\s\n\t\u0001é✓","k\"ey\n":1}` + "\n" + `{"s":null,"k\"ey\n":null}` + "\n" + `{"s":"","k\"ey\n":-9223372036854775808}` + "\n",
		},
		{
			name:   "floats: shortest, exponent only outside 1e-6..1e21",
			fields: []arrow.Field{{Name: "f", Type: arrow.PrimitiveTypes.Float64}, {Name: "g", Type: arrow.PrimitiveTypes.Float32}},
			rows:   `[{"f":0.1,"g":0.1},{"f":1e21,"g":1e20},{"f":-1.5e-7,"g":1e-7},{"f":100,"g":16777216}]`,
			want:   `{"f":0.1,"g":0.1}` + "\n" + `{"f":1e+21,"g":100000000000000000000.0}` + "\n" + `{"f":-1.5e-7,"g":1e-7}` + "\n" + `{"f":100.0,"g":16777216.0}` + "\n",
		},
		{
			name: "time, dates, decimals as strings, binary as base64, nested",
			fields: []arrow.Field{
				{Name: "ts", Type: &arrow.TimestampType{Unit: arrow.Millisecond, TimeZone: "UTC"}},
				{Name: "d", Type: arrow.FixedWidthTypes.Date32},
				{Name: "dec", Type: &arrow.Decimal128Type{Precision: 6, Scale: 3}},
				{Name: "b", Type: arrow.BinaryTypes.Binary},
				{Name: "u", Type: arrow.PrimitiveTypes.Uint64},
				{Name: "o", Type: arrow.StructOf(arrow.Field{Name: "l", Type: arrow.ListOf(arrow.PrimitiveTypes.Int8), Nullable: true})},
			},
			rows: `[{"ts":"2024-02-29T23:59:59.5Z","d":"2024-02-29","dec":"-1.5","b":"aGk=","u":4294967296,"o":{"l":[1,null,-128]}}]`,
			want: `{"ts":"2024-02-29T23:59:59.5Z","d":"2024-02-29","dec":"-1.500","b":"aGk=","u":4294967296,"o":{"l":[1,null,-128]}}` + "\n",
		},
		{
			name:   "other types go through arrow's JSON value",
			fields: []arrow.Field{{Name: "t", Type: arrow.FixedWidthTypes.Time32s}},
			rows:   `[{"t":"01:02:03"}]`,
			want:   `{"t":"01:02:03"}` + "\n",
		},
		{
			name:   "no columns",
			fields: nil,
			rows:   `[{}]`,
			want:   "{}\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := formattest.WriteJSONRows(t, jsonlFormat, tt.fields, tt.rows, format.WriteOptions{})
			if got != tt.want {
				t.Errorf("got\n%s\nwant\n%s", got, tt.want)
			}
			for _, line := range strings.SplitAfter(strings.TrimSuffix(got, "\n"), "\n") {
				if !json.Valid([]byte(line)) {
					t.Errorf("invalid JSON line %q", line)
				}
			}
		})
	}
}

// TestWriteNonFiniteAndInvalidUTF8 covers values JSON cannot carry as they
// are: NaN and infinities become null, invalid UTF-8 bytes become \ufffd.
func TestWriteNonFiniteAndInvalidUTF8(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	schema := arrow.NewSchema([]arrow.Field{{Name: "f", Type: arrow.PrimitiveTypes.Float64}, {Name: "s", Type: arrow.BinaryTypes.String}}, nil)
	b := array.NewRecordBuilder(mem, schema)
	defer b.Release()
	b.Field(0).(*array.Float64Builder).AppendValues([]float64{math.NaN(), math.Inf(1), math.Inf(-1)}, nil)
	b.Field(1).(*array.StringBuilder).AppendValues([]string{"a\xffb", "\xe2\x82", "ok\u2028"}, nil)
	rec := b.NewRecordBatch()
	defer rec.Release()
	want := `{"f":null,"s":"a\ufffdb"}` + "\n" + `{"f":null,"s":"\ufffd\ufffd"}` + "\n" + "{\"f\":null,\"s\":\"ok\u2028\"}\n"
	if got := formattest.WriteText(t, jsonlFormat, rec, format.WriteOptions{}); got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}

func TestWriteErrors(t *testing.T) {
	schema := arrow.NewSchema([]arrow.Field{{Name: "a", Type: arrow.PrimitiveTypes.Int64}}, nil)
	w, err := NewWriter(formattest.FailWriter{}, schema, format.WriteOptions{Name: "out.jsonl"})
	if err != nil {
		t.Fatal(err)
	}
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	rec, _, err := array.RecordFromJSON(mem, schema, strings.NewReader(`[{"a":1}]`))
	if err != nil {
		t.Fatal(err)
	}
	defer rec.Release()
	if err := w.Write(rec); err != nil {
		t.Fatal(err)
	}
	if err := w.Flush(); err == nil || !strings.Contains(err.Error(), "out.jsonl") || !errors.Is(err, formattest.ErrDiskFull) {
		t.Errorf("Flush: err = %v", err)
	}
	if err := w.Close(); err == nil {
		t.Error("Close after a failed Flush returned nil")
	}
}

// TestAppendStringMatchesEncodingJSON compares the escaper with
// encoding/json (HTML escaping off) on strings that straddle the 8-byte
// fast path with every kind of byte.
func TestAppendStringMatchesEncodingJSON(t *testing.T) {
	pieces := []string{"a", "abcdefgh", "\"", "\\", "\n", "\x01", "\x1f", " ", "~", "\x7f", "é", "日本", "\xff", "\xe2\x82", "<>&"}
	for i := range 4000 {
		var b strings.Builder
		for j := 0; j < 1+i%7; j++ {
			b.WriteString(pieces[(i*7+j*3)%len(pieces)])
			b.WriteString(strings.Repeat("x", (i+j)%9))
		}
		s := b.String()
		var want bytes.Buffer
		enc := json.NewEncoder(&want)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(s); err != nil {
			t.Fatal(err)
		}
		got := string(appendString(nil, []byte(s)))
		// encoding/json spells some escapes differently (\u000a vs \n,
		// \u2028); compare what they decode to, and that ours is valid.
		var back string
		if err := json.Unmarshal([]byte(got), &back); err != nil {
			t.Fatalf("%q encodes to invalid JSON %s: %v", s, got, err)
		}
		var wantBack string
		_ = json.Unmarshal(want.Bytes(), &wantBack)
		if back != wantBack {
			t.Fatalf("%q: ours reads back as %q, encoding/json's as %q", s, back, wantBack)
		}
	}
}

// TestFloatsStayFloats: a float column written and read back without a
// schema is float64 again, bit for bit (461.0 is written 461.0, not
// encoding/json's 461, which reads back as an integer; -0 as -0.0). NaN
// and ±Inf are written as null, as JSON has neither, and are left out.
func TestFloatsStayFloats(t *testing.T) { formattest.FloatsStayFloats(t, jsonlFormat, false) }
