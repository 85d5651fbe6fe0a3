package arrowipc

import (
	"bytes"
	"io"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/dataweaver/dataweaver/format"
)

// TestSkipRows: a resumed read (ReadOptions.SkipRows) of a stream and of
// a file returns exactly the rows after the position, says in which
// record batch each record starts, and fails when asked to skip past
// the end.
func TestSkipRows(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	schema := arrow.NewSchema([]arrow.Field{{Name: "id", Type: arrow.PrimitiveTypes.Int64}}, nil)
	sizes := []int64{5, 1, 4} // record batches: ids 0..9
	for _, stream := range []bool{true, false} {
		var buf bytes.Buffer
		opts := format.WriteOptions{Mem: mem, Name: "skip.arrow"}
		var w interface {
			Write(arrow.RecordBatch) error
			Close() error
		}
		if stream {
			opts.Name = "skip.arrows"
			fw, err := NewWriter(&buf, schema, opts)
			if err != nil {
				t.Fatal(err)
			}
			w = fw
		} else {
			fw, err := ipc.NewFileWriter(&seekBuffer{b: &buf}, ipc.WithSchema(schema), ipc.WithAllocator(mem))
			if err != nil {
				t.Fatal(err)
			}
			w = fw
		}
		var id int64
		for _, n := range sizes {
			b := array.NewInt64Builder(mem)
			for range n {
				b.Append(id)
				id++
			}
			col := b.NewArray()
			rec := array.NewRecordBatch(schema, []arrow.Array{col}, n)
			if err := w.Write(rec); err != nil {
				t.Fatal(err)
			}
			rec.Release()
			col.Release()
			b.Release()
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		if got := bytes.HasPrefix(buf.Bytes(), fileMagic); got == stream {
			t.Fatalf("%s: file magic %v, want %v", opts.Name, got, !stream)
		}
		data := buf.Bytes()
		for skip := int64(0); skip <= 11; skip++ {
			in := format.Input{R: bytes.NewReader(data), RA: bytes.NewReader(data), Size: int64(len(data)), Name: opts.Name}
			r, err := NewReader(in, format.ReadOptions{Mem: mem, SkipRows: skip})
			if err != nil {
				t.Fatal(err)
			}
			next := skip
			for {
				rec, _, err := r.Next()
				if err == io.EOF {
					break
				}
				if err != nil {
					next = -1
					if skip <= 10 {
						t.Errorf("%s skip %d: %v", opts.Name, skip, err)
					}
					break
				}
				// The batch holding the record's first row, and that row's place in it.
				batch, row := int64(0), next
				for row >= sizes[batch] {
					row -= sizes[batch]
					batch++
				}
				if b, off := r.(*reader).RecordBatchStart(); b != batch || off != row {
					t.Errorf("%s skip %d: record at id %d starts in batch %d row %d, want batch %d row %d", opts.Name, skip, next, b, off, batch, row)
				}
				for _, v := range rec.Column(0).(*array.Int64).Int64Values() {
					if v != next {
						t.Errorf("%s skip %d: id %d, want %d", opts.Name, skip, v, next)
					}
					next++
				}
				rec.Release()
			}
			r.Close()
			if skip <= 10 && next != 10 {
				t.Errorf("%s skip %d: read up to id %d, want 9", opts.Name, skip, next-1)
			}
			if skip == 11 && next != -1 {
				t.Errorf("%s: skipping 11 rows of 10: no error", opts.Name)
			}
		}
	}
}

// seekBuffer is the io.WriteSeeker ipc.NewFileWriter asks for; it only
// appends, and reports where the end is.
type seekBuffer struct{ b *bytes.Buffer }

func (s *seekBuffer) Write(p []byte) (int, error) { return s.b.Write(p) }

func (s *seekBuffer) Seek(off int64, whence int) (int64, error) {
	if off != 0 || whence != io.SeekCurrent {
		return 0, io.ErrUnexpectedEOF
	}
	return int64(s.b.Len()), nil
}
