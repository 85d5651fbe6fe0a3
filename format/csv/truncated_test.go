package csv_test

import (
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/apache/arrow/go/v15/arrow/memory"

	"github.com/dataweaver/dataweaver/format"
	_ "github.com/dataweaver/dataweaver/format/csv"
)

// cutReader returns its text, then io.ErrUnexpectedEOF, the way a gzip or
// zstd reader reports a stream cut short.
type cutReader struct{ r io.Reader }

func (c *cutReader) Read(b []byte) (int, error) {
	n, err := c.r.Read(b)
	if err == io.EOF {
		return n, io.ErrUnexpectedEOF
	}
	return n, err
}

func TestReadTruncatedStreamIsAnError(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	f, err := format.Lookup("csv")
	if err != nil {
		t.Fatal(err)
	}
	in := format.Input{R: &cutReader{strings.NewReader("a,b\n1,2\n3,4\n")}, Name: "cut.csv"}
	// Inference may already read to the cut; then NewReader reports it.
	r, err := f.NewReader(in, format.ReadOptions{Mem: mem})
	if err != nil {
		if !errors.Is(err, io.ErrUnexpectedEOF) {
			t.Fatalf("NewReader on a cut stream = %v, want an error wrapping io.ErrUnexpectedEOF", err)
		}
		return
	}
	defer r.Close()
	for {
		rec, _, err := r.Next()
		if rec != nil {
			rec.Release()
		}
		if err == nil {
			continue
		}
		if err == io.EOF || !errors.Is(err, io.ErrUnexpectedEOF) {
			t.Fatalf("Next on a cut stream = %v, want an error wrapping io.ErrUnexpectedEOF", err)
		}
		return
	}
}
