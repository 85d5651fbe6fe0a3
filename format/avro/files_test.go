package avro

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/dataweaver/dataweaver/format"
	"github.com/dataweaver/dataweaver/format/internal/sharedata"
	"github.com/dataweaver/dataweaver/format/internal/testrecords"
)

// weatherRow is one line of weather.json, the expected rows that ship
// with Avro's weather test files.
type weatherRow struct {
	Station string `json:"station"`
	Time    int64  `json:"time"`
	Temp    int32  `json:"temp"`
}

func expectedWeather(t *testing.T) []weatherRow {
	f, err := os.Open(sharedata.Path(t, "avro", "weather.json"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var rows []weatherRow
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if len(sc.Bytes()) == 0 {
			continue
		}
		var r weatherRow
		dec := json.NewDecoder(bytesReader(sc.Bytes()))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&r); err != nil {
			t.Fatalf("weather.json: %v", err)
		}
		rows = append(rows, r)
	}
	if len(rows) == 0 {
		t.Fatal("weather.json has no rows")
	}
	return rows
}

// TestWeather reads the null, deflate and zstandard encodings of the same
// data, in batches of 2 so batches split blocks, and compares every row
// with weather.json.
func TestWeather(t *testing.T) {
	want := expectedWeather(t)
	for _, file := range []string{"weather.avro", "weather-deflate.avro", "weather-zstd.avro"} {
		t.Run(file, func(t *testing.T) {
			mem := checkedMem(t)
			schema, recs := readAll(t, fileInput(t, sharedata.Path(t, "avro", file)), format.ReadOptions{Mem: mem, BatchRows: 2})
			defer testrecords.Release(recs)
			wantSchema := arrow.NewSchema([]arrow.Field{
				{Name: "station", Type: arrow.BinaryTypes.String},
				{Name: "time", Type: arrow.PrimitiveTypes.Int64},
				{Name: "temp", Type: arrow.PrimitiveTypes.Int32},
			}, nil)
			if !schema.Equal(wantSchema) {
				t.Fatalf("schema\n%s\nwant\n%s", schema, wantSchema)
			}
			var got []weatherRow
			for _, rec := range recs {
				if rec.NumRows() > 2 {
					t.Fatalf("batch of %d rows, BatchRows is 2", rec.NumRows())
				}
				st := rec.Column(0).(*array.String)
				tm := rec.Column(1).(*array.Int64)
				tp := rec.Column(2).(*array.Int32)
				for i := 0; i < int(rec.NumRows()); i++ {
					got = append(got, weatherRow{st.Value(i), tm.Value(i), tp.Value(i)})
				}
			}
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Fatalf("rows\n%v\nwant (weather.json)\n%v", got, want)
			}
		})
	}
}

// TestOtherFiles checks simple.avro and with_union.avro; the expected
// values were read with avsc 5.7 (JavaScript), an independent decoder.
func TestOtherFiles(t *testing.T) {
	tests := []struct {
		file   string
		schema string
		want   map[string]string
		nulls  map[string]string // column -> validity as printed
	}{
		{
			file:   "simple.avro",
			schema: "text: utf8",
			want:   map[string]string{"text": `["hello" "bonjour" "guten tag"]`},
		},
		{
			// ["string","int"] is a dense union; ["inner","null"] a nullable
			// struct; ["string","int","boolean","null"] a dense union with a
			// null child. Rows: {"textValue", null}, {123, {d1: false}},
			// {3, {d1: "text value"}}.
			file:   "with_union.avro",
			schema: "data1: dense_union<string: type=utf8, nullable=0, int: type=int32, nullable=1>; data2: struct<d1: dense_union<string: type=utf8, nullable=0, int: type=int32, nullable=1, boolean: type=bool, nullable=2, null: type=null, nullable=3>>",
			want: map[string]string{
				"data1": "[{string=textValue} {int=123} {int=3}]",
			},
			nulls: map[string]string{"data2": "[false true true]"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			mem := checkedMem(t)
			schema, recs := readAll(t, fileInput(t, sharedata.Path(t, "avro", tt.file)), format.ReadOptions{Mem: mem})
			defer testrecords.Release(recs)
			if got := schemaSummary(schema); got != tt.schema {
				t.Fatalf("schema %s\nwant   %s", got, tt.schema)
			}
			if len(recs) != 1 || recs[0].NumRows() != 3 {
				t.Fatalf("want one batch of 3 rows, got %d batches", len(recs))
			}
			rec := recs[0]
			for i, f := range schema.Fields() {
				if want, ok := tt.want[f.Name]; ok && fmt.Sprint(rec.Column(i)) != want {
					t.Errorf("column %s = %v, want %s", f.Name, rec.Column(i), want)
				}
				if want, ok := tt.nulls[f.Name]; ok {
					var valid []bool
					for r := 0; r < rec.Column(i).Len(); r++ {
						valid = append(valid, rec.Column(i).IsValid(r))
					}
					if fmt.Sprint(valid) != want {
						t.Errorf("column %s validity %v, want %s", f.Name, valid, want)
					}
				}
			}
			if tt.file == "with_union.avro" {
				d1 := rec.Column(1).(*array.Struct).Field(0).(*array.DenseUnion)
				b := d1.Field(2).(*array.Boolean).Value(int(d1.ValueOffset(1)))
				s := d1.Field(0).(*array.String).Value(int(d1.ValueOffset(2)))
				if d1.ChildID(1) != 2 || b || d1.ChildID(2) != 0 || s != "text value" {
					t.Errorf("data2.d1 rows 1, 2 = %v, want boolean false and string \"text value\"", d1)
				}
			}
		})
	}
}

func schemaSummary(s *arrow.Schema) string {
	out := ""
	for i, f := range s.Fields() {
		if i > 0 {
			out += "; "
		}
		out += f.Name + ": " + f.Type.String()
	}
	return out
}
