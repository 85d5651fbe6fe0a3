package conformance

import (
	"context"
	"fmt"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/dataweaver/dataweaver/engine"
)

// ReadBack returns, after the sink has been closed, the records it stored
// (allocated from mem; the suite releases them). An empty result may have
// no records at all.
type ReadBack func(t *testing.T, mem memory.Allocator) []arrow.RecordBatch

// SinkHarness adapts one sink to the suite.
type SinkHarness struct {
	// New returns a sink built with b, and how to read back what it stored;
	// a nil ReadBack (a sink that keeps nothing, like discard) limits the
	// checks to the open/write/flush/close contract and leaks.
	New func(t *testing.T, b engine.Build) (engine.Sink, ReadBack)
	// Schema of the rows written (SampleSchema when nil).
	Schema *arrow.Schema
	// BatchRows is the size of the batches written (default 8).
	BatchRows int
}

// RunSink runs every sink check as a subtest of t.
func RunSink(t *testing.T, h SinkHarness) {
	t.Helper()
	schema := h.Schema
	if schema == nil {
		schema = SampleSchema
	}
	batch := h.BatchRows
	if batch <= 0 {
		batch = 8
	}
	t.Run("CloseWithoutOpen", func(t *testing.T) {
		mem := Checked(t)
		sink, _ := h.New(t, Build(mem, batch, "sink"))
		if err := sink.Close(); err != nil {
			t.Fatalf("Close without Open: %v", err)
		}
	})
	if cs, ok := newSinkForCheck(t, h); ok {
		t.Run("CheckSchema", func(t *testing.T) {
			if err := cs.CheckSchema(schema); err != nil {
				t.Fatalf("CheckSchema rejects the sample schema: %v", err)
			}
		})
	}
	for _, n := range []int{0, 1, batch - 1, batch, batch + 1, 3*batch + 2} {
		t.Run(fmt.Sprintf("Rows%d", n), func(t *testing.T) {
			mem := Checked(t)
			want := Sample(mem, schema, 0, n)
			defer want.Release()
			var parts []arrow.RecordBatch
			for off := 0; off < n; off += batch {
				parts = append(parts, want.NewSlice(int64(off), int64(min(off+batch, n))))
			}
			defer Release(parts)
			writeAndCheck(t, h, mem, want, parts, batch)
		})
	}
	t.Run("SlicedRecords", func(t *testing.T) {
		// Slices with odd offsets catch writers that read a column's
		// buffers from the start instead of from the array's offset.
		mem := Checked(t)
		want := Sample(mem, schema, 0, 5*batch+3)
		defer want.Release()
		var parts []arrow.RecordBatch
		for off, step := 0, 1; off < int(want.NumRows()); off, step = off+step, step+2 {
			parts = append(parts, want.NewSlice(int64(off), int64(min(off+step, int(want.NumRows())))))
		}
		defer Release(parts)
		writeAndCheck(t, h, mem, want, parts, batch)
	})
}

func newSinkForCheck(t *testing.T, h SinkHarness) (engine.SchemaChecker, bool) {
	mem := memory.NewGoAllocator()
	sink, _ := h.New(t, Build(mem, 8, "sink"))
	cs, ok := sink.(engine.SchemaChecker)
	return cs, ok
}

func writeAndCheck(t *testing.T, h SinkHarness, mem memory.Allocator, want arrow.RecordBatch, parts []arrow.RecordBatch, batch int) {
	t.Helper()
	ctx := context.Background()
	sink, readBack := h.New(t, Build(mem, batch, "sink"))
	if err := sink.Open(ctx, want.Schema()); err != nil {
		t.Fatalf("Open: %v", err)
	}
	if err := sink.Flush(ctx); err != nil {
		t.Fatalf("Flush before any Write: %v", err)
	}
	for i, p := range parts {
		if err := sink.Write(ctx, p); err != nil {
			sink.Close()
			t.Fatalf("Write batch %d: %v", i, err)
		}
		if i%2 == 1 {
			if err := sink.Flush(ctx); err != nil {
				sink.Close()
				t.Fatalf("Flush after batch %d: %v", i, err)
			}
		}
	}
	if err := sink.Flush(ctx); err != nil {
		sink.Close()
		t.Fatalf("final Flush: %v", err)
	}
	if err := sink.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if readBack == nil {
		return
	}
	got := readBack(t, mem)
	defer Release(got)
	EqualRows(t, want, got)
}
