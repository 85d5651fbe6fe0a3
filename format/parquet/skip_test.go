package parquet

import (
	"bytes"
	"io"
	"sync/atomic"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	pq "github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"

	"github.com/dataweaver/dataweaver/format"
)

type countingRA struct {
	ra io.ReaderAt
	n  atomic.Int64
}

func (c *countingRA) ReadAt(p []byte, off int64) (int, error) {
	n, err := c.ra.ReadAt(p, off)
	c.n.Add(int64(n))
	return n, err
}

// TestSkipRows: a resumed read (ReadOptions.SkipRows) returns exactly the
// rows after the position, leaves whole row groups before it unread (most
// of the file's bytes are never fetched), and refuses to skip past the end.
func TestSkipRows(t *testing.T) {
	mem := checkedMem(t)
	schema := arrow.NewSchema([]arrow.Field{{Name: "id", Type: arrow.PrimitiveTypes.Int64}, {Name: "s", Type: arrow.BinaryTypes.String}}, nil)
	var recs []arrow.RecordBatch
	for g := 0; g < 5; g++ { // five row groups of 1,000 rows: ids 0..4999
		b := array.NewRecordBuilder(mem, schema)
		for i := 0; i < 1000; i++ {
			b.Field(0).(*array.Int64Builder).Append(int64(g*1000 + i))
			b.Field(1).(*array.StringBuilder).Append("a fairly long string value that makes a row group take some bytes")
		}
		recs = append(recs, b.NewRecordBatch())
		b.Release()
	}
	var buf bytes.Buffer
	fw, err := pqarrow.NewFileWriter(schema, &buf, pq.NewWriterProperties(pq.WithAllocator(mem)), pqarrow.NewArrowWriterProperties(pqarrow.WithAllocator(mem)))
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range recs {
		if err := fw.Write(r); err != nil { // a row group per call
			t.Fatal(err)
		}
		r.Release()
	}
	if err := fw.Close(); err != nil {
		t.Fatal(err)
	}
	data := buf.Bytes()
	var full int64 // bytes a read without skipping fetches
	for _, skip := range []int64{0, 1, 999, 1000, 3500, 4999, 5000} {
		ra := &countingRA{ra: bytes.NewReader(data)}
		in := format.Input{R: bytes.NewReader(data), RA: ra, Size: int64(len(data)), Name: "skip.parquet"}
		r, err := NewReader(in, format.ReadOptions{Mem: mem, BatchRows: 300, SkipRows: skip})
		if err != nil {
			t.Fatalf("skip %d: %v", skip, err)
		}
		if got := r.(*reader).RowGroupRows(); len(got) != 5 || got[0] != 1000 {
			t.Errorf("RowGroupRows() = %v, want five of 1000", got)
		}
		want := skip
		for {
			rec, _, err := r.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatalf("skip %d: %v", skip, err)
			}
			for _, id := range rec.Column(0).(*array.Int64).Int64Values() {
				if id != want {
					t.Fatalf("skip %d: id %d, want %d", skip, id, want)
				}
				want++
			}
			rec.Release()
		}
		r.Close()
		if want != 5000 {
			t.Errorf("skip %d: read up to id %d, want 4999", skip, want-1)
		}
		if skip == 0 {
			full = ra.n.Load()
		}
		// Each row group left out saves its share of the file, less the
		// page headers checked at open: count half of it.
		if saved := full - ra.n.Load(); saved < skip/1000*int64(len(data))/5/2 {
			t.Errorf("skip %d: %d bytes read, %d fewer than a full read: the skipped row groups were fetched", skip, ra.n.Load(), saved)
		}
		if skip >= 3000 && r.(*reader).SkippedBytes() < int64(len(data))/2 {
			t.Errorf("skip %d: SkippedBytes %d of a %d-byte file", skip, r.(*reader).SkippedBytes(), len(data))
		}
	}
	if _, err := NewReader(bytesInput("skip.parquet", data), format.ReadOptions{Mem: memory.DefaultAllocator, SkipRows: 5001}); err == nil {
		t.Error("skipping 5001 rows of 5000: no error")
	}
}
