package parquet

import (
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/dataweaver/dataweaver/format/internal/testrecords"
)

// FuzzReadParquet feeds arbitrary bytes to the reader: it must return an
// error naming the input or records, never panic.
func FuzzReadParquet(f *testing.F) {
	mem := memory.NewGoAllocator()
	for _, c := range []struct {
		codec  string
		fields []string
	}{
		{"none", []string{"i64", "utf8"}},
		{"snappy", []string{"list", "struct", "dict"}},
		{"zstd", []string{"f64", "ts_ms_utc", "dec"}},
	} {
		rec := testrecords.Record(mem, testrecords.ByName(c.fields...)...)
		f.Add(writeFile(f, mem, rec.Schema(), []arrow.RecordBatch{rec}, c.codec, defaultTuning))
		rec.Release()
	}
	// Files the direct reader decodes (direct.go): V2 and V1 pages,
	// dictionaries, nulls, Snappy.
	for _, pageV1 := range []bool{false, true} {
		rec := testrecords.Record(mem, testrecords.ByName("i32", "f64", "utf8", "binary", "ts_ns")...)
		tu := defaultTuning
		tu.pageV1, tu.dict = pageV1, dictAlways
		f.Add(writeFile(f, mem, rec.Schema(), []arrow.RecordBatch{rec}, "", tu))
		rec.Release()
	}
	f.Add([]byte("PAR1\x00\x00\x00\x00PAR1"))

	f.Fuzz(func(t *testing.T, data []byte) {
		err := readAllErr(data, memory.NewCheckedAllocator(memory.NewGoAllocator()))
		if err != nil && !strings.Contains(err.Error(), "damaged.parquet") {
			t.Fatalf("error does not name the file: %v", err)
		}
	})
}

var _ arrow.RecordBatch
