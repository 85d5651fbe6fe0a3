package csv

import (
	"bytes"
	"io"
	"testing"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/memory"

	"github.com/dataweaver/dataweaver/format"
	"github.com/dataweaver/dataweaver/format/internal/testrecords"
)

// csvTypes are the testrecords columns CSV round-trips; the rest (fixed-size
// binary, date64, time, duration, nested, map, dictionary) are written as
// text but not read back as their type.
var csvTypes = []string{"bool", "i8", "i16", "i32", "i64", "u8", "u16", "u32", "u64", "f32", "f64",
	"utf8", "large_utf8", "binary", "date32", "ts_s", "ts_ms_utc", "ts_us_paris", "ts_ns", "dec"}

// TestRoundTripSharedRecords runs the formats' common test columns through
// the writer and back, batch for batch.
func TestRoundTripSharedRecords(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	want := []arrow.Record{testrecords.Record(mem, testrecords.ByName(csvTypes...)...)}
	defer testrecords.Release(want)
	schema := want[0].Schema()
	var buf bytes.Buffer
	w, err := NewWriter(&buf, schema, format.WriteOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Write(want[0]); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	r, err := NewReader(format.Input{R: &buf, Name: "shared.csv"}, format.ReadOptions{Mem: mem, Schema: schema})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var got []arrow.Record
	defer func() { testrecords.Release(got) }()
	for {
		rec, rej, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range rej {
			t.Errorf("reject: %v", &e)
		}
		got = append(got, rec)
	}
	testrecords.RequireEqual(t, "csv round trip", want, got)
}
