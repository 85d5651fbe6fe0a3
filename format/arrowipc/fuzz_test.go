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

// FuzzReadArrow feeds arbitrary bytes to the reader: it must return an
// error or records, never panic, and never leak.
func FuzzReadArrow(f *testing.F) {
	mem := memory.NewGoAllocator()
	for _, fields := range [][]arrow.Field{
		{{Name: "i", Type: arrow.PrimitiveTypes.Int64, Nullable: true}, {Name: "s", Type: arrow.BinaryTypes.String, Nullable: true}},
		{{Name: "l", Type: arrow.ListOf(arrow.PrimitiveTypes.Int32), Nullable: true}},
		{{Name: "d", Type: &arrow.DictionaryType{IndexType: arrow.PrimitiveTypes.Int32, ValueType: arrow.BinaryTypes.String}}},
	} {
		rec := testrecords.Record(mem, fields...)
		var stream bytes.Buffer
		sw := ipc.NewWriter(&stream, ipc.WithSchema(rec.Schema()))
		_ = sw.Write(rec)
		_ = sw.Close()
		f.Add(stream.Bytes())
		// The file writer wants an io.WriteSeeker.
		path := filepath.Join(f.TempDir(), "seed.arrow")
		file, err := os.Create(path)
		if err != nil {
			f.Fatal(err)
		}
		fw, _ := ipc.NewFileWriter(file, ipc.WithSchema(rec.Schema()))
		_ = fw.Write(rec)
		_ = fw.Close()
		_ = file.Close()
		rec.Release()
		data, err := os.ReadFile(path)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte("ARROW1\x00\x00"))
	f.Add([]byte{0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0})

	f.Fuzz(func(t *testing.T, data []byte) {
		mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
		err := readBytes(data, mem)
		// When arrow-go panics mid-batch on corrupt input (recovered by
		// the reader), buffers it had allocated are never released; the
		// Go allocator's GC reclaims them. Leaks are checked on success.
		if err == nil {
			mem.AssertSize(t, 0)
		}
		if err != nil && !bytes.Contains([]byte(err.Error()), []byte("bad.arrow")) {
			t.Fatalf("error does not name the file: %v", err)
		}
		if err != nil && !errors.Is(err, format.ErrMalformed) {
			t.Fatalf("error does not wrap ErrMalformed: %v", err)
		}
	})
}
