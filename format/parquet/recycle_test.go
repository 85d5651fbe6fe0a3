package parquet

import (
	"bytes"
	"errors"
	"io"
	"testing"
	"unsafe"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/dataweaver/dataweaver/format"
	"github.com/dataweaver/dataweaver/format/internal/testrecords"
)

func TestRecycler(t *testing.T) {
	mem := checkedMem(t)
	r := newRecycler(mem)
	const n = 100_000
	a := r.Allocate(n)
	if len(a) != n || cap(a) != sizeClass(n) {
		t.Fatalf("Allocate(%d): len %d cap %d, want cap %d", n, len(a), cap(a), sizeClass(n))
	}
	for i := range a {
		a[i] = 7
	}
	r.Free(a)
	b := r.Allocate(n - 10) // same class
	if unsafe.SliceData(a) != unsafe.SliceData(b) {
		t.Fatal("a released buffer of the same class was not reused")
	}
	for i, v := range b[:cap(b)] {
		if v != 0 {
			t.Fatalf("reused buffer: byte %d is %d, want 0", i, v)
		}
	}
	// Reallocate within the capacity keeps the buffer.
	if c := r.Reallocate(cap(b), b); unsafe.SliceData(c) != unsafe.SliceData(b) {
		t.Fatal("Reallocate within capacity moved the buffer")
	}
	b = r.Reallocate(4*n, b[:n])
	small := r.Allocate(100) // below recycleMin: straight from mem
	r.Free(small)
	r.Free(b)
	if r.held == 0 {
		t.Fatal("released buffer not kept")
	}
	held := r.Allocate(n)
	r.close()
	r.Free(held) // after close: back to mem
	if r.held != 0 || r.reused != 2 {
		t.Fatalf("held %d reused %d, want 0 and 2", r.held, r.reused)
	}
	// mem's AssertSize(0) in the cleanup: every buffer went back.
}

func TestRecyclerSizeClass(t *testing.T) {
	for _, n := range []int{recycleMin, recycleMin + 1, 131072, 131072 + 64, 1<<20 - 1, 3 << 20} {
		c := sizeClass(n)
		if c < n || c > n+n/8 || sizeClass(c) != c {
			t.Errorf("sizeClass(%d) = %d", n, c)
		}
	}
}

// TestReaderRecyclesBatches reads the orders table the way a pipeline
// does: each batch is held while the next ones are read (stages and the
// sink still have it) and released from another goroutine. Released
// buffers are poisoned and reused, so a batch whose buffers were reused
// while still held, or a reader that read a buffer after releasing it,
// gives wrong values; the checked allocator finds buffers never returned.
func TestReaderRecyclesBatches(t *testing.T) {
	recyclePoison = true
	t.Cleanup(func() { recyclePoison = false })
	const rows = 40_000
	want := testrecords.Orders(memory.NewGoAllocator(), rows, 10_000)
	defer testrecords.Release(want)
	whole := concat(t, memory.NewGoAllocator(), want)
	defer whole.Release()
	// Several row groups and pages of each kind: page buffers come from
	// the recycler too.
	small := defaultTuning
	small.rowGroupRows, small.pageBytes = 9_000, 16<<10
	v1 := small
	v1.pageV1 = true
	for _, c := range []struct {
		name string
		tu   tuning
	}{{"default", defaultTuning}, {"small-pages", small}, {"v1-pages", v1}} {
		t.Run(c.name, func(t *testing.T) {
			var buf bytes.Buffer
			w, err := newWriter(&buf, ordersSchema, format.WriteOptions{}, c.tu)
			if err != nil {
				t.Fatal(err)
			}
			for _, rec := range want {
				if err := w.Write(rec); err != nil {
					t.Fatal(err)
				}
			}
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			readHeld(t, buf.Bytes(), whole)
		})
	}
}

// readHeld reads data in batches of 4096 rows, holding 3 at a time and
// releasing them from another goroutine, and compares them with whole.
func readHeld(t *testing.T, data []byte, whole arrow.RecordBatch) {
	mem := checkedMem(t)
	rd, err := NewReader(bytesInput("orders.parquet", data), format.ReadOptions{Mem: mem, BatchRows: 4096})
	if err != nil {
		t.Fatal(err)
	}
	if len(rd.(*reader).expand) == 0 {
		t.Fatal("no column read as a dictionary: the test would not cover expand")
	}
	release := make(chan arrow.RecordBatch)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for rec := range release {
			rec.Release()
		}
	}()
	const window = 3 // batches held at once
	var held []arrow.RecordBatch
	var off int64
	check := func(rec arrow.RecordBatch) {
		t.Helper()
		exp := whole.NewSlice(off, off+rec.NumRows())
		defer exp.Release()
		if !array.RecordEqual(exp, rec) {
			t.Errorf("rows %d-%d differ from what was written", off, off+rec.NumRows())
		}
		off += rec.NumRows()
	}
	for {
		rec, _, err := rd.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		held = append(held, rec)
		if len(held) > window {
			check(held[0])
			release <- held[0]
			held = held[1:]
		}
	}
	reused := rd.(*reader).recycler.reused
	if err := rd.Close(); err != nil {
		t.Fatal(err)
	}
	// Batches still held after Close stay valid and go back to mem.
	for _, rec := range held {
		check(rec)
		release <- rec
	}
	close(release)
	<-done
	if off != whole.NumRows() {
		t.Fatalf("read %d rows, want %d", off, whole.NumRows())
	}
	if reused == 0 {
		t.Fatal("no buffer was reused")
	}
	t.Logf("%d buffers reused", reused)
}
