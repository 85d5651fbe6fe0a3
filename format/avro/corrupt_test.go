package avro

import (
	"bytes"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/dataweaver/dataweaver/format"
	"github.com/dataweaver/dataweaver/format/internal/sharedata"
	"github.com/dataweaver/dataweaver/format/internal/testrecords"
)

func TestCorruptFiles(t *testing.T) {
	orig, err := os.ReadFile(sharedata.Path(t, "avro", "weather.avro"))
	if err != nil {
		t.Fatal(err)
	}
	damage := func(fn func(b []byte) []byte) []byte { return fn(append([]byte(nil), orig...)) }
	tests := []struct {
		name string
		data []byte
		want string
	}{
		{name: "empty", data: nil, want: "bad magic"},
		{name: "not avro", data: []byte("station,time\n"), want: "bad magic"},
		{name: "truncated block", data: orig[:len(orig)-30], want: "truncated"},
		{name: "wrong sync", data: damage(func(b []byte) []byte { b[len(b)-1] ^= 0xff; return b }), want: "sync"},
		{name: "bad codec", data: bytes.Replace(orig, []byte("null"), []byte("lzma"), 1), want: "codec"},
		{name: "bad schema", data: bytes.Replace(orig, []byte(`"record"`), []byte(`"recxrd"`), 1), want: "avro.schema"},
		{name: "record overruns block", data: damage(func(b []byte) []byte {
			// The first record's station length, 12 (zig-zag 0x18), made huge.
			i := bytes.Index(b, []byte("\x18011990"))
			b[i] = 0x7e
			return b
		}), want: "record 1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mem := checkedMem(t)
			err := readErr(tt.data, mem)
			if !errors.Is(err, format.ErrMalformed) || !strings.Contains(err.Error(), "bad.avro") || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want ErrMalformed naming bad.avro and containing %q", err, tt.want)
			}
		})
	}
}

func FuzzReadAvro(f *testing.F) {
	mem := memory.NewGoAllocator()
	for _, codec := range []string{"", "deflate", "snappy", "zstd"} {
		rec := testrecords.Record(mem, testrecords.ByName("i64", "utf8", "list", "struct", "map", "dec")...)
		var buf bytes.Buffer
		w, err := NewWriter(&buf, rec.Schema(), format.WriteOptions{Compression: codec})
		if err != nil {
			f.Fatal(err)
		}
		if err := w.Write(rec); err != nil {
			f.Fatal(err)
		}
		_ = w.Close()
		rec.Release()
		f.Add(buf.Bytes())
	}
	f.Add([]byte("Obj\x01\x00"))
	f.Fuzz(func(t *testing.T, data []byte) {
		mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
		defer mem.AssertSize(t, 0)
		err := readErrN(data, mem, 3000)
		// Valid but unsupported schemas (decimal(70, 2)) are not
		// ErrMalformed; every error must still name the file.
		if err != nil && !strings.Contains(err.Error(), "bad.avro") {
			t.Fatalf("error without the file name: %v", err)
		}
	})
}
