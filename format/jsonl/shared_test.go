package jsonl

import (
	"bytes"
	"io"
	"testing"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/memory"

	"github.com/dataweaver/dataweaver/format"
	"github.com/dataweaver/dataweaver/format/internal/testrecords"
)

// jsonlTypes are the testrecords columns JSONL round-trips. Floats are left
// out because their NaN and infinities are written as null (TestRoundTrip
// covers every finite edge value); fixed-size binary, date64, time,
// duration, map and dictionary are written through arrow's JSON values but
// not read back as their type.
var jsonlTypes = []string{"bool", "i8", "i16", "i32", "i64", "u8", "u16", "u32", "u64",
	"utf8", "large_utf8", "binary", "date32", "ts_s", "ts_ms_utc", "ts_us_paris", "ts_ns", "dec",
	"list", "list_str", "struct"}

// TestRoundTripSharedRecords runs the formats' common test columns through
// the writer and back, batch for batch.
func TestRoundTripSharedRecords(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	want := []arrow.Record{testrecords.Record(mem, testrecords.ByName(jsonlTypes...)...)}
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
	r, err := NewReader(format.Input{R: &buf, Name: "shared.jsonl"}, format.ReadOptions{Mem: mem, Schema: schema})
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
	testrecords.RequireEqual(t, "jsonl round trip", want, got)
}
