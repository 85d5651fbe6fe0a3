package csv

import (
	"os"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/dataweaver/dataweaver/format"
	"github.com/dataweaver/dataweaver/format/internal/formattest"
	"github.com/dataweaver/dataweaver/format/internal/sharedata"
)

// sharedCSV opens a file of ../shared/data/csv (see its README), failing
// the test when it is missing.
func sharedCSV(t *testing.T, name string) *os.File {
	t.Helper()
	f, err := os.Open(sharedata.Path(t, "csv", name))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

// The expected cells below were read off the file by hand: line 2 (first
// row), line 51 and line 101 (the last row, which has no newline).
var aggregateRows = map[int]string{
	0:  `"c"|2|1|18109|2033001162|-6513304855495910254|25|43062|1491205016|5863949479783605708|0.110830784|0.9294097332465232|"6WfVFBVGJSQb7FhA7E0lBwdvjfZnSW"`,
	49: `"d"|1|125|31106|-1176490478|-4306856842351827308|90|17910|3625286410|17869394731126786457|0.8882508|0.7631239070049998|"dVdvo6nUD5FgCgsbOZLds28RyGTpnx"`,
	99: `"e"|4|30|-16110|61035129|-3356533792537910152|159|299|28774375|13526465947516666293|0.6999775|0.03968347085780355|"cq4WSAIFwx3wwTUS5bp1wCe71R6U5I"`,
}

func TestAggregateInferred(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	s, rows, rej, err := formattest.ReadAll(t, csvFormat, mem, sharedCSV(t, "aggregate_test_100.csv"), format.ReadOptions{BatchRows: 16})
	if err != nil {
		t.Fatal(err)
	}
	// c10 holds values above MaxInt64, all non-negative: uint64.
	want := "c1:utf8,c2:int64,c3:int64,c4:int64,c5:int64,c6:int64,c7:int64,c8:int64,c9:int64,c10:uint64,c11:float64,c12:float64,c13:utf8"
	if got := formattest.TypesOf(s); got != want {
		t.Errorf("types:\n got %s\nwant %s", got, want)
	}
	if len(rows) != 100 || len(rej) != 0 || s.NumFields() != 13 {
		t.Fatalf("%d rows, %d rejects, %d columns; want 100, 0, 13 (%v)", len(rows), len(rej), s.NumFields(), rej)
	}
	for i, w := range aggregateRows {
		if rows[i] != w {
			t.Errorf("row %d:\n got %s\nwant %s", i, rows[i], w)
		}
	}
}

func TestAggregateExplicitSchema(t *testing.T) {
	f := func(name string, dt arrow.DataType) arrow.Field {
		return arrow.Field{Name: name, Type: dt, Nullable: true}
	}
	// The schema the file was made for (DataFusion's aggregate_test_100).
	fields := []arrow.Field{
		f("c1", arrow.BinaryTypes.String), f("c2", arrow.PrimitiveTypes.Uint32),
		f("c3", arrow.PrimitiveTypes.Int8), f("c4", arrow.PrimitiveTypes.Int16),
		f("c5", arrow.PrimitiveTypes.Int32), f("c6", arrow.PrimitiveTypes.Int64),
		f("c7", arrow.PrimitiveTypes.Uint8), f("c8", arrow.PrimitiveTypes.Uint16),
		f("c9", arrow.PrimitiveTypes.Uint32), f("c10", arrow.PrimitiveTypes.Uint64),
		f("c11", arrow.PrimitiveTypes.Float32), f("c12", arrow.PrimitiveTypes.Float64),
		f("c13", arrow.BinaryTypes.String),
	}
	tests := []struct {
		name   string
		file   string
		fields []arrow.Field
		rows   map[int]string
	}{
		{"aggregate_test_100", "aggregate_test_100.csv", fields, aggregateRows},
		{
			"with dates", "aggregate_test_100_with_dates.csv",
			append(fields[:13:13], f("c14", arrow.FixedWidthTypes.Date32), f("c15", &arrow.TimestampType{Unit: arrow.Millisecond})),
			map[int]string{
				0: aggregateRows[0] + `|2023-01-01|2023-01-01 09:00:00Z`,
				1: `"d"|5|-40|22614|706441268|-7542719935673075327|155|14337|3373581039|11720144131976083864|0.69632107|0.3114712539863804|"C2GT5KVyOPZpgKVl110TyZO0NcJ434"|2023-05-01|2023-01-01 11:07:13.123Z`,
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
			defer mem.AssertSize(t, 0)
			schema := arrow.NewSchema(tt.fields, nil)
			s, rows, rej, err := formattest.ReadAll(t, csvFormat, mem, sharedCSV(t, tt.file), format.ReadOptions{Schema: schema, BatchRows: 7, Workers: 2})
			if err != nil {
				t.Fatal(err)
			}
			if !s.Equal(schema) {
				t.Errorf("schema %s, want %s", s, schema)
			}
			if len(rows) != 100 || len(rej) != 0 {
				t.Fatalf("%d rows, %d rejects; want 100, 0 (%v)", len(rows), len(rej), rej)
			}
			for i, w := range tt.rows {
				if rows[i] != w {
					t.Errorf("row %d:\n got %s\nwant %s", i, rows[i], w)
				}
			}
		})
	}
}
