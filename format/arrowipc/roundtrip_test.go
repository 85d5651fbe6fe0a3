package arrowipc

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/dataweaver/dataweaver/format"
	"github.com/dataweaver/dataweaver/format/internal/testrecords"
)

// allTypes is every type the round-trip test writes; Types in register.go
// claims all of them.
var allTypes = testrecords.AllTypes()

func TestRoundTrip(t *testing.T) {
	tests := []struct {
		name        string
		compression string
		batches     int
	}{
		{name: "none", batches: 2},
		{name: "zstd", compression: "zstd", batches: 2},
		{name: "lz4", compression: "lz4", batches: 1},
		{name: "no batches", batches: 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
			defer mem.AssertSize(t, 0)
			rec := testrecords.Record(mem, allTypes...)
			defer rec.Release()

			var buf bytes.Buffer
			w, err := NewWriter(&buf, rec.Schema(), format.WriteOptions{Mem: mem, Compression: tt.compression, Name: "rt.arrows"})
			if err != nil {
				t.Fatal(err)
			}
			for i := 0; i < tt.batches; i++ {
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

			schema, got := readAll(t, format.Input{R: &buf, Name: "rt.arrows"}, mem)
			defer testrecords.Release(got)
			if !schema.Equal(rec.Schema()) {
				t.Fatalf("schema\n%s\nwant\n%s", schema, rec.Schema())
			}
			want := make([]arrow.RecordBatch, tt.batches)
			for i := range want {
				want[i] = rec
			}
			testrecords.RequireEqual(t, "round trip", want, got)
		})
	}
}

func TestBadInput(t *testing.T) {
	tests := []struct {
		name string
		data []byte
	}{
		{name: "empty", data: nil},
		{name: "text", data: []byte("id,name\n1,x\n")},
		{name: "file magic then garbage", data: []byte("ARROW1\x00\x00garbage")},
		{name: "truncated length", data: []byte{0xff, 0xff, 0xff, 0xff, 0x10}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
			defer mem.AssertSize(t, 0)
			err := readBytes(tt.data, mem)
			if !errors.Is(err, format.ErrMalformed) {
				t.Fatalf("err = %v, want ErrMalformed", err)
			}
			if !bytes.Contains([]byte(err.Error()), []byte("bad.arrow")) {
				t.Fatalf("error %q does not name the file", err)
			}
		})
	}
}

func TestUnknownCompression(t *testing.T) {
	schema := arrow.NewSchema([]arrow.Field{{Name: "a", Type: arrow.PrimitiveTypes.Int8}}, nil)
	if _, err := NewWriter(&bytes.Buffer{}, schema, format.WriteOptions{Compression: "brotli"}); err == nil {
		t.Fatal("want an error for an unknown compression")
	}
}

// readBytes reads data to the end, returning the first error (nil at EOF).
func readBytes(data []byte, mem memory.Allocator) error {
	r, err := NewReader(format.Input{R: bytes.NewReader(data), Name: "bad.arrow"}, format.ReadOptions{Mem: mem})
	if err != nil {
		return err
	}
	defer r.Close()
	for {
		rec, _, err := r.Next()
		if err != nil {
			if err.Error() == "EOF" {
				return nil
			}
			return err
		}
		rec.Release()
	}
}

// TestReadGoFileFormat reads the IPC file format as arrow-go writes it
// (unlike Arrow C++, without an end-of-stream marker before the footer),
// from a file and from a pipe.
func TestReadGoFileFormat(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	// arrow-go's FileWriter never releases the dictionaries it is given,
	// so the input comes from an allocator this test does not check.
	rec := testrecords.Record(memory.NewGoAllocator(), allTypes...)
	defer rec.Release()

	path := filepath.Join(t.TempDir(), "go.arrow")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	fw, err := ipc.NewFileWriter(f, ipc.WithSchema(rec.Schema()), ipc.WithAllocator(memory.NewGoAllocator()))
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 2; i++ {
		if err := fw.Write(rec); err != nil {
			t.Fatal(err)
		}
	}
	if err := fw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	for _, in := range inputs(t, path) {
		_, got := readAll(t, in, mem)
		testrecords.RequireEqual(t, in.Name, []arrow.RecordBatch{rec, rec}, got)
		testrecords.Release(got)
	}
}
