package parquet

import (
	"bytes"
	"io"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/dataweaver/dataweaver/format"
	"github.com/dataweaver/dataweaver/format/internal/formattest"
)

// readAll reads every batch; the caller releases the records.
func readAll(t testing.TB, in format.Input, opts format.ReadOptions) (*arrow.Schema, []arrow.RecordBatch) {
	t.Helper()
	r, err := NewReader(in, opts)
	if err != nil {
		t.Fatalf("NewReader(%s): %v", in.Name, err)
	}
	return formattest.Records(t, in.Name, r)
}

// writeAll writes recs as one Parquet file, flushing after each when flush is set.
func writeAll(t testing.TB, schema *arrow.Schema, recs []arrow.RecordBatch, opts format.WriteOptions, flush bool) []byte {
	t.Helper()
	var buf bytes.Buffer
	w, err := NewWriter(&buf, schema, opts)
	if err != nil {
		t.Fatal(err)
	}
	for _, rec := range recs {
		if err := w.Write(rec); err != nil {
			t.Fatal(err)
		}
		if flush {
			if err := w.Flush(); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func bytesInput(name string, data []byte) format.Input {
	return format.Input{R: bytes.NewReader(data), RA: bytes.NewReader(data), Size: int64(len(data)), Name: name}
}

func checkedMem(t testing.TB) *memory.CheckedAllocator {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	t.Cleanup(func() { mem.AssertSize(t, 0) })
	return mem
}

// readAllErr reads data to the end and returns the first error (nil at EOF).
func readAllErr(data []byte, mem memory.Allocator) error {
	r, err := NewReader(bytesInput("damaged.parquet", data), format.ReadOptions{Mem: mem, BatchRows: 4})
	if err != nil {
		return err
	}
	defer r.Close()
	for {
		rec, _, err := r.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		rec.Release()
	}
}

func containsStr(s, sub string) bool { return bytes.Contains([]byte(s), []byte(sub)) }

// setDirect turns the direct reader (direct.go) on or off for one test.
func setDirect(t testing.TB, on bool) {
	old := directRead
	directRead = on
	t.Cleanup(func() { directRead = old })
}

// writeFile writes recs with tu and returns the file.
func writeFile(t testing.TB, mem memory.Allocator, schema *arrow.Schema, recs []arrow.RecordBatch, compression string, tu tuning) []byte {
	t.Helper()
	var buf bytes.Buffer
	w, err := newWriter(&buf, schema, format.WriteOptions{Mem: mem, Name: "r.parquet", Compression: compression}, tu)
	if err != nil {
		t.Fatal(err)
	}
	for _, rec := range recs {
		if err := w.Write(rec); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}
