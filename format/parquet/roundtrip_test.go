package parquet

import (
	"bytes"
	"strings"
	"testing"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/memory"
	"github.com/dataweaver/dataweaver/format"
	"github.com/dataweaver/dataweaver/format/internal/testrecords"
)

// supported is every type of testrecords.AllTypes but duration.
func supported() []arrow.Field {
	var out []arrow.Field
	for _, f := range testrecords.AllTypes() {
		if f.Type.ID() != arrow.DURATION {
			out = append(out, f)
		}
	}
	return out
}

func TestRoundTrip(t *testing.T) {
	tests := []struct {
		name        string
		compression string
		batches     int
		flush       bool
	}{
		{name: "snappy", batches: 1},
		{name: "zstd", compression: "zstd", batches: 2},
		{name: "gzip", compression: "gzip", batches: 1},
		{name: "none", compression: "none", batches: 3},
		{name: "flush after each batch", batches: 3, flush: true},
		{name: "no rows", batches: 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mem := checkedMem(t)
			rec := testrecords.Record(mem, supported()...)
			defer rec.Release()
			recs := make([]arrow.Record, tt.batches)
			for i := range recs {
				recs[i] = rec
			}
			data := writeAll(t, rec.Schema(), recs, format.WriteOptions{Mem: mem, Compression: tt.compression, Name: "rt.parquet"}, tt.flush)

			// One batch holds everything, so compare with all rows at once.
			schema, got := readAll(t, bytesInput("rt.parquet", data), format.ReadOptions{Mem: mem, BatchRows: testrecords.Rows})
			defer testrecords.Release(got)
			if !schema.Equal(rec.Schema()) {
				t.Fatalf("schema\n%s\nwant\n%s", schema, rec.Schema())
			}
			testrecords.RequireEqual(t, "round trip", recs, got)
		})
	}
}

func TestWriteUnsupported(t *testing.T) {
	schema := arrow.NewSchema([]arrow.Field{{Name: "took", Type: arrow.FixedWidthTypes.Duration_ms}}, nil)
	_, err := NewWriter(&bytes.Buffer{}, schema, format.WriteOptions{Name: "out.parquet", Mem: memory.NewGoAllocator()})
	if err == nil || !strings.Contains(err.Error(), "out.parquet") || !strings.Contains(err.Error(), "DURATION") {
		t.Fatalf("err = %v, want an error naming the file and the type", err)
	}
	_, err = NewWriter(&bytes.Buffer{}, schema, format.WriteOptions{Name: "out.parquet", Compression: "lzma"})
	if err == nil || !strings.Contains(err.Error(), "lzma") {
		t.Fatalf("err = %v, want an unknown-compression error", err)
	}
}

// TestFlushWritesRowGroup checks that Flush encodes what was written
// instead of holding it for a bigger row group.
func TestFlushWritesRowGroup(t *testing.T) {
	mem := checkedMem(t)
	rec := testrecords.Record(mem, testrecords.ByName("i64", "utf8")...)
	defer rec.Release()
	var buf bytes.Buffer
	w, err := NewWriter(&buf, rec.Schema(), format.WriteOptions{Mem: mem, Compression: "none"})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Write(rec); err != nil {
		t.Fatal(err)
	}
	before := buf.Len()
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	// The int64 column is the first chunk and is complete after Flush.
	if buf.Len() <= before+8*testrecords.Rows {
		t.Fatalf("Flush wrote %d bytes, want at least the int64 column", buf.Len()-before)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	_, got := readAll(t, bytesInput("flushed.parquet", buf.Bytes()), format.ReadOptions{Mem: mem})
	defer testrecords.Release(got)
	testrecords.RequireEqual(t, "flushed", []arrow.Record{rec}, got)
}
