package conformance

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"testing"
	"time"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/memory"

	"github.com/dataweaver/dataweaver/engine"
)

// SourceHarness adapts one source to the suite.
type SourceHarness struct {
	// New returns a source built with b that will produce exactly the rows
	// of want, and want itself (allocated from b.Mem; the suite releases
	// it). Most harnesses call [FromSample]; a source that makes its own
	// data (generate) returns what it is known to produce.
	New func(t *testing.T, rows int, b engine.Build) (src engine.Source, want arrow.Record)
	// BatchRows is Build.BatchRows for every case (default 8: small, so
	// that a few dozen rows cross several batch boundaries).
	BatchRows int
	// IgnoresBatchRows skips the check that no batch is larger than
	// BatchRows, for sources whose batches are fixed by the other side.
	IgnoresBatchRows bool
	// AtLeastOnce marks sources that keep their position across Close and
	// Open (message buses, databases with a cursor): what was acknowledged
	// (an Ack that returned) is not read again, what was not is. RunSource
	// then checks exactly that, and that a source whose rows were all
	// acknowledged ends at once when opened again. Needs a source that
	// ends (engine.ErrEndOfInput) once it has delivered everything.
	AtLeastOnce bool
	// Crash, when set, stands for the process dying mid-run: it drops src
	// without what Close does on the way out (nak'ing, committing). The
	// AtLeastOnce check calls it instead of Close, so redelivery must not
	// depend on a clean shutdown. The source is then opened again.
	Crash func(src engine.Source)
}

// FromSample is the usual SourceHarness.New: it builds Sample rows of
// schema (SampleSchema when nil) and hands them to put, which must return
// a source that reads them back (put writes a file, publishes messages, …).
func FromSample(schema *arrow.Schema, put func(t *testing.T, input arrow.Record, b engine.Build) engine.Source) func(*testing.T, int, engine.Build) (engine.Source, arrow.Record) {
	if schema == nil {
		schema = SampleSchema
	}
	return func(t *testing.T, rows int, b engine.Build) (engine.Source, arrow.Record) {
		want := Sample(b.Mem, schema, 0, rows)
		return put(t, want, b), want
	}
}

// Build returns the engine.Build the suite passes to constructors.
func Build(mem memory.Allocator, batchRows int, name string) engine.Build {
	return engine.Build{Mem: mem, BatchRows: batchRows, Name: name, Logger: slog.New(slog.DiscardHandler), Env: engine.DefaultEnvironment()}
}

const readTimeout = 10 * time.Second

// RunSource runs every source check as a subtest of t.
func RunSource(t *testing.T, h SourceHarness) {
	t.Helper()
	batch := h.BatchRows
	if batch <= 0 {
		batch = 8
	}
	t.Run("CloseWithoutOpen", func(t *testing.T) {
		mem := Checked(t)
		src, want := h.New(t, 3, Build(mem, batch, "source"))
		want.Release()
		if err := src.Close(); err != nil {
			t.Fatalf("Close without Open: %v", err)
		}
	})
	t.Run("OpenClose", func(t *testing.T) {
		mem := Checked(t)
		src, want := h.New(t, 3, Build(mem, batch, "source"))
		defer want.Release()
		schema, err := src.Open(context.Background())
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		if schema == nil {
			t.Fatal("Open returned a nil schema")
		}
		if d := SameColumns(want.Schema(), schema); d != "" {
			t.Errorf("Open schema: %s", d)
		}
		if err := src.Close(); err != nil {
			t.Fatalf("Close: %v", err)
		}
	})
	t.Run("ReopenAfterClose", func(t *testing.T) {
		// engine.Pipeline.Validate opens and closes the source, then Run
		// opens it again: the second opening must still see every row.
		mem := Checked(t)
		src, want := h.New(t, 2*batch+1, Build(mem, batch, "source"))
		defer want.Release()
		if _, err := src.Open(context.Background()); err != nil {
			t.Fatalf("first Open: %v", err)
		}
		if err := src.Close(); err != nil {
			t.Fatalf("first Close: %v", err)
		}
		got := ReadAll(t, src, batch, !h.IgnoresBatchRows)
		defer Release(got)
		EqualRows(t, want, got)
	})
	for _, n := range []int{0, 1, batch - 1, batch, batch + 1, 3*batch + 2} {
		t.Run(fmt.Sprintf("Rows%d", n), func(t *testing.T) {
			mem := Checked(t)
			src, want := h.New(t, n, Build(mem, batch, "source"))
			defer want.Release()
			got := ReadAll(t, src, batch, !h.IgnoresBatchRows)
			defer Release(got)
			EqualRows(t, want, got)
		})
	}
	if h.AtLeastOnce {
		t.Run("AtLeastOnce", func(t *testing.T) { atLeastOnce(t, h, batch) })
	}
	t.Run("CancelledRead", func(t *testing.T) {
		mem := Checked(t)
		src, want := h.New(t, 2*batch, Build(mem, batch, "source"))
		defer want.Release()
		if _, err := src.Open(context.Background()); err != nil {
			t.Fatalf("Open: %v", err)
		}
		defer src.Close()
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		// Either outcome is fine (a file source may well finish the batch
		// first); what matters is that Read returns rather than blocking a
		// pipeline that is shutting down.
		done := make(chan *engine.Batch, 1)
		go func() {
			b, _ := src.Read(ctx)
			done <- b
		}()
		select {
		case b := <-done:
			if b != nil && b.Record != nil {
				b.Record.Release()
			}
		case <-time.After(readTimeout):
			t.Fatal("Read with a cancelled context did not return")
		}
	})
}

// ReadAll opens src, reads it to the end checking the per-batch contract,
// acks every batch in order and closes it. It returns the records read.
func ReadAll(t testing.TB, src engine.Source, batchRows int, checkBatchRows bool) []arrow.Record {
	t.Helper()
	ctx := context.Background()
	schema, err := src.Open(ctx)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	defer func() {
		if err := src.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	}()
	var recs []arrow.Record
	for i := 0; ; i++ {
		b, err := src.Read(ctx)
		if errors.Is(err, engine.ErrEndOfInput) {
			break
		}
		if err != nil {
			Release(recs)
			t.Fatalf("Read batch %d: %v", i, err)
		}
		if b == nil {
			Release(recs)
			t.Fatalf("Read batch %d returned neither a batch nor an error", i)
		}
		for _, rej := range b.Rejects {
			t.Errorf("batch %d: unexpected reject: %v", i, &rej)
		}
		if rec := b.Record; rec != nil {
			recs = append(recs, rec)
			if !rec.Schema().Equal(schema) {
				t.Errorf("batch %d schema %s differs from the schema Open returned, %s", i, rec.Schema(), schema)
			}
			if checkBatchRows && batchRows > 0 && rec.NumRows() > int64(batchRows) {
				t.Errorf("batch %d has %d rows, more than BatchRows %d", i, rec.NumRows(), batchRows)
			}
		}
		if err := src.Ack(ctx, b.Checkpoint); err != nil {
			t.Errorf("Ack batch %d: %v", i, err)
		}
	}
	for range 2 {
		if b, err := src.Read(ctx); !errors.Is(err, engine.ErrEndOfInput) {
			if b != nil && b.Record != nil {
				b.Record.Release()
			}
			t.Errorf("Read after the end: got %v, want ErrEndOfInput every time", err)
		}
	}
	return recs
}

// atLeastOnce reads two batches, acknowledges only the first, crashes (or
// closes) and opens the source again: the rows of the second batch onwards
// must all come back, in any order, and those of the first must not; and once everything is
// acknowledged a further opening reads nothing.
func atLeastOnce(t *testing.T, h SourceHarness, batch int) {
	mem := Checked(t)
	n := 3*batch + 2
	src, want := h.New(t, n, Build(mem, batch, "source"))
	defer want.Release()
	ctx := context.Background()
	if _, err := src.Open(ctx); err != nil {
		t.Fatalf("Open: %v", err)
	}
	var acked int64
	for i := range 2 {
		b, err := src.Read(ctx)
		if err != nil || b == nil || b.Record == nil || b.Record.NumRows() == 0 {
			src.Close()
			t.Fatalf("Read batch %d of %d rows: %v", i, n, err)
		}
		if i == 0 {
			acked = b.Record.NumRows()
			if err := src.Ack(ctx, b.Checkpoint); err != nil {
				t.Errorf("Ack: %v", err)
			}
		}
		b.Record.Release()
	}
	if h.Crash != nil {
		h.Crash(src)
	} else if err := src.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	rest := want.NewSlice(acked, int64(n))
	defer rest.Release()
	got := ReadAll(t, src, batch, !h.IgnoresBatchRows)
	defer Release(got)
	SameRows(t, rest, got)
	again := ReadAll(t, src, batch, !h.IgnoresBatchRows)
	defer Release(again)
	for _, r := range again {
		if r.NumRows() > 0 {
			t.Errorf("after every row was acknowledged, opening again read %d more rows", r.NumRows())
		}
	}
}
