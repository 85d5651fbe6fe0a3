package avro

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"io"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/dataweaver/dataweaver/format"
)

// TestSkipRows: a resumed read (ReadOptions.SkipRows) returns exactly the
// rows after the position; blocks wholly before it are passed over
// without being decompressed (a block of garbage there goes unnoticed,
// while a read that must decode it fails); skipping past the end fails.
func TestSkipRows(t *testing.T) {
	mem := checkedMem(t)
	schema := arrow.NewSchema([]arrow.Field{{Name: "id", Type: arrow.PrimitiveTypes.Int64}}, nil)
	var buf bytes.Buffer
	w, err := NewWriter(&buf, schema, format.WriteOptions{Mem: mem, Compression: "deflate"})
	if err != nil {
		t.Fatal(err)
	}
	for blk := 0; blk < 5; blk++ { // five blocks of 100 rows: ids 0..499
		b := array.NewInt64Builder(mem)
		for i := 0; i < 100; i++ {
			b.Append(int64(blk*100 + i))
		}
		col := b.NewArray()
		rec := array.NewRecordBatch(schema, []arrow.Array{col}, 100)
		if err := w.Write(rec); err != nil {
			t.Fatal(err)
		}
		if err := w.Flush(); err != nil { // ends the block
			t.Fatal(err)
		}
		rec.Release()
		col.Release()
		b.Release()
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	good := buf.Bytes()

	read := func(data []byte, skip int64) (int64, error) {
		r, err := NewReader(format.Input{R: bytes.NewReader(data), Name: "skip.avro"}, format.ReadOptions{Mem: mem, BatchRows: 30, SkipRows: skip})
		if err != nil {
			return 0, err
		}
		defer r.Close()
		next := skip
		for {
			rec, _, err := r.Next()
			if err == io.EOF {
				return next, nil
			}
			if err != nil {
				return next, err
			}
			for _, id := range rec.Column(0).(*array.Int64).Int64Values() {
				if id != next {
					rec.Release()
					t.Fatalf("skip %d: id %d, want %d", skip, id, next)
				}
				next++
			}
			rec.Release()
		}
	}
	for _, skip := range []int64{0, 1, 99, 100, 250, 499, 500} {
		if next, err := read(good, skip); err != nil || next != 500 {
			t.Errorf("skip %d: read up to id %d, %v; want 499", skip, next-1, err)
		}
	}
	if _, err := read(good, 501); err == nil {
		t.Error("skipping 501 rows of 500: no error")
	}

	// Overwrite the compressed data of block 1 (ids 100..199) with bytes
	// deflate refuses.
	h, err := readHeader(bufio.NewReader(bytes.NewReader(good)))
	if err != nil {
		t.Fatal(err)
	}
	bad := bytes.Clone(good)
	first := bytes.Index(bad, h.sync[:]) + 16                  // block 0
	second := first + bytes.Index(bad[first:], h.sync[:]) + 16 // block 1
	_, n1 := binary.Varint(bad[second:])
	size, n2 := binary.Varint(bad[second+n1:])
	data := bad[second+n1+n2 : second+n1+n2+int(size)]
	for i := range data {
		data[i] = 0xff
	}
	if _, err := read(bad, 0); err == nil {
		t.Fatal("the damaged block reads without error: the test damages nothing")
	}
	if _, err := read(bad, 150); err == nil {
		t.Error("skipping into the damaged block: no error, but its records must be decoded")
	}
	if next, err := read(bad, 200); err != nil || next != 500 {
		t.Errorf("skipping the damaged block whole: read up to %d, %v; it must not be decompressed", next-1, err)
	}
}
