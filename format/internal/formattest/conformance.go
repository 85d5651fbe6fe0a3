package formattest

import (
	"bytes"
	"errors"
	"io"
	"reflect"
	"runtime"
	"strings"
	"testing"
	"testing/iotest"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/dataweaver/dataweaver/format"
	"github.com/dataweaver/dataweaver/format/internal/testrecords"
)

// RoundTripShared runs the formats' common test columns (testrecords) that
// f round-trips, named by types, through f's writer and back, batch for
// batch.
func RoundTripShared(t *testing.T, f *format.Format, types []string) {
	t.Helper()
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	want := []arrow.RecordBatch{testrecords.Record(mem, testrecords.ByName(types...)...)}
	defer testrecords.Release(want)
	schema := want[0].Schema()
	var buf bytes.Buffer
	w, err := f.NewWriter(&buf, schema, format.WriteOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Write(want[0]); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	r, err := f.NewReader(format.Input{R: &buf, Name: "shared." + f.Name}, format.ReadOptions{Mem: mem, Schema: schema})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var got []arrow.RecordBatch
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
	testrecords.RequireEqual(t, f.Name+" round trip", want, got)
}

// RejectLines decodes in (good and bad rows, rendered as ReadAll renders
// them and as "line:column") with schema on one worker, with tiny batches
// on four, and with one-byte reads, so rows and rejects cross many chunk
// boundaries: every reject must name its exact line, and good rows stay in
// order.
func RejectLines(t *testing.T, f *format.Format, in string, schema *arrow.Schema, wantRows, wantRejects []string) {
	tests := []struct {
		name    string
		batch   int
		workers int
		oneByte bool
	}{
		{"one worker", 1000, 1, false},
		{"tiny batches, four workers", 3, 4, false},
		{"one byte reads", 17, 2, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
			defer mem.AssertSize(t, 0)
			var rd io.Reader = strings.NewReader(in)
			if tt.oneByte {
				rd = iotest.OneByteReader(rd)
			}
			_, rows, rej, err := ReadAll(t, f, mem, rd, format.ReadOptions{Schema: schema, BatchRows: tt.batch, Workers: tt.workers})
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(rows, wantRows) {
				t.Errorf("%d rows, want %d; first difference at %d", len(rows), len(wantRows), FirstDiff(rows, wantRows))
			}
			if got := RejectsOf(rej); !reflect.DeepEqual(got, wantRejects) {
				t.Errorf("rejects differ at %d:\n got %q\nwant %q", FirstDiff(got, wantRejects), got[:min(5, len(got))], wantRejects[:min(5, len(wantRejects))])
			}
		})
	}
}

// ReadErrorIsFatal reads text one byte at a time until the reader times
// out: the I/O error must reach Next, after the rows read before it, and
// name the file.
func ReadErrorIsFatal(t *testing.T, f *format.Format, text string) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	r := iotest.TimeoutReader(iotest.OneByteReader(strings.NewReader(text)))
	_, _, _, err := ReadAll(t, f, mem, r, format.ReadOptions{})
	if err == nil || !strings.Contains(err.Error(), iotest.ErrTimeout.Error()) || !strings.Contains(err.Error(), "in."+f.Name) {
		t.Fatalf("err = %v, want the timeout with the file name", err)
	}
}

// CloseEarly closes a reader of text (many small batches) with batches
// still in flight: no goroutine or buffer may outlive Close, and Next after
// Close is an error.
func CloseEarly(t *testing.T, f *format.Format, text []byte) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	before := runtime.NumGoroutine()
	r, err := f.NewReader(format.Input{R: bytes.NewReader(text), Name: "in." + f.Name}, format.ReadOptions{Mem: mem, BatchRows: 10, Workers: 3})
	if err != nil {
		t.Fatal(err)
	}
	rec, _, err := r.Next()
	if err != nil {
		t.Fatal(err)
	}
	rec.Release()
	r.Close()
	if _, _, err := r.Next(); err == nil {
		t.Error("Next after Close returned no error")
	}
	for deadline := time.Now().Add(2 * time.Second); runtime.NumGoroutine() > before; {
		if time.Now().After(deadline) {
			t.Fatalf("%d goroutines after Close, %d before", runtime.NumGoroutine(), before)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

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

// TruncatedStream reads text from a stream that ends in
// io.ErrUnexpectedEOF: the reader must report that error, not a clean end
// that would silently drop the rest of the input.
func TruncatedStream(t *testing.T, f *format.Format, text string) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	in := format.Input{R: &cutReader{strings.NewReader(text)}, Name: "cut." + f.Name}
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

// ErrDiskFull is what FailWriter returns.
var ErrDiskFull = errors.New("disk full")

// FailWriter is an io.Writer that always fails with ErrDiskFull.
type FailWriter struct{}

func (FailWriter) Write([]byte) (int, error) { return 0, ErrDiskFull }
