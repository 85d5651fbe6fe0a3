package conformance

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"reflect"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/dataweaver/dataweaver/engine"
)

// SourceBuilder builds one source object from the configuration a
// harness prepared, as a process does when it starts. Every call must
// return a new object: the suite builds one per opening that stands for a
// new process (after a crash or a restart), so that a position kept only
// in the object's fields is lost exactly as it is in production.
type SourceBuilder func(b engine.Build) engine.Source

// SourceHarness adapts one source to the suite.
type SourceHarness struct {
	// New prepares an input holding exactly the rows of want (allocated
	// from b.Mem; the suite releases it after the last source it built is
	// closed) and returns how to build sources
	// that read it. Most harnesses call [FromSample] and [SourceFromConfig];
	// a source that makes its own data (generate) returns what it is known
	// to produce.
	New func(t *testing.T, rows int, b engine.Build) (build SourceBuilder, want arrow.RecordBatch)
	// BatchRows is Build.BatchRows for every case (default 8: small, so
	// that a few dozen rows cross several batch boundaries).
	BatchRows int
	// IgnoresBatchRows skips the check that no batch is larger than
	// BatchRows, for sources whose batches are fixed by the other side.
	IgnoresBatchRows bool
	// AtLeastOnce marks sources that lose nothing across a restart: after
	// a source is closed (or crashed, see Crash) with rows read but not
	// acknowledged, a new source built from the same configuration reads
	// every one of those rows again. Rows that were acknowledged may come
	// back too, unless Resumes is set. A file re-read from the start is
	// at-least-once; so is a message bus that redelivers. Needs a source
	// that ends (engine.ErrEndOfInput) once it has delivered everything.
	AtLeastOnce bool
	// Resumes marks sources that keep a durable position outside the
	// process (a consumer group's committed offsets, a durable consumer):
	// a new source built after a restart reads exactly what was not
	// acknowledged (an Ack that returned), and once everything was
	// acknowledged it reads nothing. Implies AtLeastOnce.
	Resumes bool
	// Crash, when set, stands for the process dying mid-run: it drops src
	// without what Close does on the way out (nak'ing, answering,
	// committing). The at-least-once checks then run twice, once after a
	// Close and once after Crash, so redelivery must not depend on a
	// clean shutdown. The crashed object is never used again.
	Crash func(src engine.Source)
}

// FromSample is the usual SourceHarness.New: it builds Sample rows of
// schema (SampleSchema when nil) and hands them to put, which stores them
// where the source will read them (writes a file, publishes messages, …)
// and returns how to build such a source.
func FromSample(schema *arrow.Schema, put func(t *testing.T, input arrow.RecordBatch, b engine.Build) SourceBuilder) func(*testing.T, int, engine.Build) (SourceBuilder, arrow.RecordBatch) {
	if schema == nil {
		schema = SampleSchema
	}
	return func(t *testing.T, rows int, b engine.Build) (SourceBuilder, arrow.RecordBatch) {
		want := Sample(b.Mem, schema, 0, rows)
		return put(t, want, b), want
	}
}

// SourceFromConfig returns a SourceBuilder that builds the source
// registered as name in the default environment from config (a YAML
// mapping, as under source.<name> in a pipeline file), through its spec
// as the pipeline loader does. A configuration the spec rejects fails t.
func SourceFromConfig(t testing.TB, name, config string) SourceBuilder {
	return func(b engine.Build) engine.Source {
		t.Helper()
		return MustBuild[engine.Source](t, engine.KindSource, name, config, b)
	}
}

// Build returns the engine.Build the suite passes to constructors.
func Build(mem memory.Allocator, batchRows int, name string) engine.Build {
	return engine.Build{Mem: mem, BatchRows: batchRows, Name: name, Logger: slog.New(slog.DiscardHandler), Env: engine.DefaultEnvironment()}
}

// RunSource runs every source check as a subtest of t.
func RunSource(t *testing.T, h SourceHarness) {
	t.Helper()
	batch := h.batchRows()
	// setup calls h.New for one case; the builder it returns checks that
	// each source it hands out is a new object.
	setup := func(t *testing.T, rows int) (*builds, arrow.RecordBatch) {
		b := Build(Checked(t), batch, "source")
		build, want := h.New(t, rows, b)
		return &builds{t: t, b: b, build: build}, want
	}
	t.Run("CloseWithoutOpen", func(t *testing.T) {
		bs, want := setup(t, 3)
		defer want.Release()
		if err := bs.next().Close(); err != nil {
			t.Fatalf("Close without Open: %v", err)
		}
	})
	t.Run("OpenClose", func(t *testing.T) {
		bs, want := setup(t, 3)
		defer want.Release()
		src := bs.next()
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
		// opens the same object again: the second opening must still see
		// every row. (A restart, which builds a new object, is AtLeastOnce.)
		bs, want := setup(t, 2*batch+1)
		defer want.Release()
		src := bs.next()
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
			bs, want := setup(t, n)
			defer want.Release()
			got := ReadAll(t, bs.next(), batch, !h.IgnoresBatchRows)
			defer Release(got)
			EqualRows(t, want, got)
		})
	}
	if h.AtLeastOnce || h.Resumes {
		t.Run("AtLeastOnce/Restart", func(t *testing.T) {
			bs, want := setup(t, 3*batch+2)
			defer want.Release()
			atLeastOnce(t, h, bs, want, func(src engine.Source) {
				if err := src.Close(); err != nil {
					t.Errorf("Close: %v", err)
				}
			})
		})
		if h.Crash != nil {
			t.Run("AtLeastOnce/Crash", func(t *testing.T) {
				bs, want := setup(t, 3*batch+2)
				defer want.Release()
				atLeastOnce(t, h, bs, want, h.Crash)
			})
		}
	}
	t.Run("CancelledRead", func(t *testing.T) {
		bs, want := setup(t, 2*batch)
		defer want.Release()
		src := bs.next()
		if _, err := src.Open(context.Background()); err != nil {
			t.Fatalf("Open: %v", err)
		}
		defer src.Close()
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		// Either outcome is fine (a file source may well finish the batch
		// first); what matters is that Read returns rather than blocking a
		// pipeline that is shutting down. A Read that blocks is caught by
		// go test's -timeout, which also prints where it blocked.
		if b, _ := src.Read(ctx); b != nil && b.Record != nil {
			b.Record.Release()
		}
	})
}

func (h SourceHarness) batchRows() int {
	if h.BatchRows <= 0 {
		return 8
	}
	return h.BatchRows
}

// builds hands out the sources of one case and fails it when the
// harness's SourceBuilder returns an object it returned before: the
// restart checks would then test a reopened object, which keeps in its
// fields what a new process would have lost.
type builds struct {
	t     testing.TB
	b     engine.Build
	build SourceBuilder
	seen  []engine.Source
}

func (bs *builds) next() engine.Source {
	bs.t.Helper()
	src := bs.build(bs.b)
	if src == nil {
		bs.t.Fatal("the harness's SourceBuilder returned a nil source")
	}
	for _, old := range bs.seen {
		if sameObject(old, src) {
			bs.t.Fatalf("the harness's SourceBuilder returned the same %T object twice: each call must build a new source, as a restarted process does", src)
		}
	}
	bs.seen = append(bs.seen, src)
	return src
}

// sameObject reports whether a and b are the same pointer (or other
// reference). A source held by value cannot carry state between calls
// except through references it holds, and two such values built from one
// configuration compare equal without being the same object, so values
// are never reported.
func sameObject(a, b engine.Source) bool {
	va, vb := reflect.ValueOf(a), reflect.ValueOf(b)
	if va.Type() != vb.Type() {
		return false
	}
	switch va.Kind() {
	case reflect.Pointer, reflect.Map, reflect.Chan, reflect.Func, reflect.UnsafePointer:
		return va.Pointer() == vb.Pointer()
	}
	return false
}

// ReadAll opens src, reads it to the end checking the per-batch contract,
// acks every batch in order and closes it. It returns the records read.
func ReadAll(t testing.TB, src engine.Source, batchRows int, checkBatchRows bool) []arrow.RecordBatch {
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
	var recs []arrow.RecordBatch
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

// atLeastOnce reads two batches from a first source, acknowledges only
// the first batch and stops the source with stop (a Close or the harness's
// Crash). A new source built from the same configuration, as a restarted
// process builds it, must then read every row of the second batch
// onwards, in any order. Of the acknowledged rows, a source that Resumes
// reads none, and once everything is acknowledged a third source reads
// nothing at all; any other at-least-once source may read them again.
func atLeastOnce(t *testing.T, h SourceHarness, bs *builds, want arrow.RecordBatch, stop func(engine.Source)) {
	n := want.NumRows()
	ctx := context.Background()
	src := bs.next()
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
	stop(src)
	rest := want.NewSlice(acked, n)
	defer rest.Release()
	got := ReadAll(t, bs.next(), h.batchRows(), !h.IgnoresBatchRows)
	defer Release(got)
	if !h.Resumes {
		CoversRows(t, rest, want, got)
		return
	}
	SameRows(t, rest, got)
	again := ReadAll(t, bs.next(), h.batchRows(), !h.IgnoresBatchRows)
	defer Release(again)
	for _, r := range again {
		if r.NumRows() > 0 {
			t.Errorf("after every row was acknowledged, a new source read %d rows again", r.NumRows())
		}
	}
}
