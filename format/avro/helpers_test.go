package avro

import (
	"bytes"
	"io"
	"os"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/dataweaver/dataweaver/format"
	"github.com/dataweaver/dataweaver/format/internal/formattest"
)

func checkedMem(t testing.TB) *memory.CheckedAllocator {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	t.Cleanup(func() { mem.AssertSize(t, 0) })
	return mem
}

// readAll reads every batch; the caller releases the records.
func readAll(t testing.TB, in format.Input, opts format.ReadOptions) (*arrow.Schema, []arrow.RecordBatch) {
	t.Helper()
	r, err := NewReader(in, opts)
	if err != nil {
		t.Fatalf("NewReader(%s): %v", in.Name, err)
	}
	return formattest.Records(t, in.Name, r)
}

func fileInput(t testing.TB, path string) format.Input {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return format.Input{R: bytes.NewReader(data), Name: path}
}

// readErr reads data to the end and returns the first error (nil at EOF).
func readErr(data []byte, mem memory.Allocator) error { return readErrN(data, mem, -1) }

// readErrN stops after maxRows rows (when >= 0): a few bytes of zstd can
// legitimately hold millions of rows, which is slow, not wrong.
func readErrN(data []byte, mem memory.Allocator, maxRows int64) error {
	r, err := NewReader(format.Input{R: bytes.NewReader(data), Name: "bad.avro"}, format.ReadOptions{Mem: mem, BatchRows: 3})
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
		limited := maxRows >= 0
		maxRows -= rec.NumRows()
		rec.Release()
		if limited && maxRows <= 0 {
			return nil
		}
	}
}

func bytesReader(b []byte) *bytes.Reader { return bytes.NewReader(b) }
