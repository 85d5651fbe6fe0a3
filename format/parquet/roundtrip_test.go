package parquet

import (
	"bytes"
	"github.com/apache/arrow-go/v18/parquet/file"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"
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
			recs := make([]arrow.RecordBatch, tt.batches)
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
// Row groups are sized by rowGroupRows, not by when the engine happens to
// flush: flushing after every batch still gives one row group here.
func TestFlushDoesNotCutRowGroups(t *testing.T) {
	mem := checkedMem(t)
	rec := testrecords.Record(mem, testrecords.ByName("i64", "utf8")...)
	defer rec.Release()
	var buf bytes.Buffer
	w, err := NewWriter(&buf, rec.Schema(), format.WriteOptions{Mem: mem, Compression: "none"})
	if err != nil {
		t.Fatal(err)
	}
	const batches = 5
	for range batches {
		if err := w.Write(rec); err != nil {
			t.Fatal(err)
		}
		if err := w.Flush(); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	pf, err := file.NewParquetReader(bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	defer pf.Close()
	if n, rows := pf.NumRowGroups(), pf.NumRows(); n != 1 || rows != batches*rec.NumRows() {
		t.Fatalf("%d row groups holding %d rows, want 1 holding %d", n, rows, batches*rec.NumRows())
	}
	// Read back in batches of the written size, to compare batch by batch.
	_, got := readAll(t, bytesInput("flushed.parquet", buf.Bytes()), format.ReadOptions{Mem: mem, BatchRows: int(rec.NumRows())})
	defer testrecords.Release(got)
	want := make([]arrow.RecordBatch, batches)
	for i := range want {
		want[i] = rec
	}
	testrecords.RequireEqual(t, "flushed", want, got)
}
