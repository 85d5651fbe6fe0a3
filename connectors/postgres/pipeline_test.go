package postgres

import (
	"context"
	"fmt"
	"log/slog"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/dataweaver/dataweaver/connectors/conformance"
	mem "github.com/dataweaver/dataweaver/connectors/inmemory"
	"github.com/dataweaver/dataweaver/engine"
	"github.com/dataweaver/dataweaver/internal/pgtest"
)

// onceRun is one run of the pipeline postgres table src → postgres table
// dst with exactly_once, both built from their configuration as a new
// process builds them; hook runs before the source serves batch at.
func onceRun(t *testing.T, dsn string, alloc memory.Allocator, every time.Duration, at int, hook func(drain chan struct{})) (*engine.Metrics, error) {
	t.Helper()
	const name = "sinks[0].postgres"
	src := mustSource(t, fmt.Sprintf("{dsn: %s, table: src, cursor: id, stop_at_end: true}", q(dsn)), conformance.Build(alloc, 50, "source"))
	sink := conformance.MustBuild[txSink](t, engine.KindSink, "postgres",
		fmt.Sprintf("{dsn: %s, table: dst, create_table: true, exactly_once: true}", q(dsn)), conformance.Build(alloc, 50, name))
	drain := make(chan struct{})
	var once sync.Once
	p := &engine.Pipeline{
		Name: "orders-copy",
		Source: engine.SourceStep{Name: "source", Source: &hookedSource{Source: src, at: at, hook: func() {
			once.Do(func() { hook(drain) })
		}}},
		Sinks:           []engine.SinkStep{{Name: name, Sink: sink}},
		Logger:          slog.New(slog.DiscardHandler),
		Mem:             alloc,
		Drain:           drain,
		CheckpointEvery: every,
	}
	return p.Run(context.Background())
}

// hookedSource calls hook before serving batch at of its source, and
// keeps being a Resumer.
type hookedSource struct {
	*Source
	n, at int
	hook  func()
}

func (h *hookedSource) Read(ctx context.Context) (*engine.Batch, error) {
	if h.n++; h.n == h.at {
		h.hook()
	}
	return h.Source.Read(ctx)
}

// terminateByName ends the server process of the step's connection (the
// sink's, not its position store's).
func terminateByName(t *testing.T, dsn, step string) int64 {
	return count(t, dsn, fmt.Sprintf("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = %s AND datname = current_database()",
		quoteLit("dataweaver "+step)))
}

// TestExactlyOnceThroughPipeline: runs of a pipeline that stop early (a
// drain), lose the sink's connection with a checkpoint interval's rows
// written, and then finish, leave the table with every source row once,
// and after each run the saved position accounts for exactly the rows the
// table holds.
func TestExactlyOnceThroughPipeline(t *testing.T) {
	before := runtime.NumGoroutine()
	t.Cleanup(func() { conformance.NoGoroutineLeak(t, before) }) // last: after every Close
	alloc := conformance.Checked(t)
	dsn := pgtest.DB(t)
	const total = 2000 // 40 batches of 50
	pgtest.Exec(t, dsn, `CREATE TABLE src (id bigint, name text, amount numeric(12,2))`,
		fmt.Sprintf(`INSERT INTO src SELECT i, 'n' || i, i / 100.0 FROM generate_series(1, %d) i`, total))
	consistent := func(run string, want int64) {
		t.Helper()
		n := count(t, dsn, "SELECT count(*) FROM dst")
		if d := count(t, dsn, "SELECT count(DISTINCT id) FROM dst"); d != n {
			t.Fatalf("after %s: %d rows but %d distinct", run, n, d)
		}
		pos := count(t, dsn, "SELECT coalesce((SELECT (record->>'rows')::bigint FROM weave_positions), 0)")
		if pos != n {
			t.Fatalf("after %s: the position accounts for %d rows, the table holds %d", run, pos, n)
		}
		if want >= 0 && n != want {
			t.Fatalf("after %s: %d rows, want %d", run, n, want)
		}
		if n > 0 {
			if max := count(t, dsn, "SELECT max(id) FROM dst"); max != n {
				t.Fatalf("after %s: rows up to id %d, want the first %d", run, max, n)
			}
		}
		t.Logf("after %s: %d rows, position %d", run, n, pos)
	}

	// Run 1 stops (a drain) at batch 10: its last checkpoint commits what
	// it read.
	if _, err := onceRun(t, dsn, alloc, time.Hour, 10, func(drain chan struct{}) { close(drain) }); err != nil {
		t.Fatalf("run 1: %v", err)
	}
	consistent("a drained run", -1)
	first := count(t, dsn, "SELECT count(*) FROM dst")
	if first == 0 || first == total {
		t.Fatalf("the drained run wrote %d rows", first)
	}

	// Run 2 resumes, and loses the sink's connection with batches written
	// since the start of its only checkpoint interval: it fails, and
	// leaves table and position as they were.
	_, err := onceRun(t, dsn, alloc, time.Hour, 12, func(chan struct{}) {
		if n := terminateByName(t, dsn, "sinks[0].postgres"); n != 1 {
			t.Errorf("terminated %d backends", n)
		}
	})
	if err == nil || !strings.Contains(err.Error(), "the run must stop, and the next resumes from the last saved position") {
		t.Fatalf("run 2 with the sink's connection terminated: %v", err)
	}
	t.Log(err)
	consistent("a run that lost its connection", first)

	// Run 3 checkpoints often and finishes: every row, once.
	m, err := onceRun(t, dsn, alloc, time.Millisecond, 0, nil)
	if err != nil {
		t.Fatalf("run 3: %v", err)
	}
	if !m.Resumed {
		t.Error("run 3 did not resume")
	}
	consistent("the last run", total)
}

// TestExactlyOnceWithoutPositions: when the engine saves no position (a
// source that cannot resume), it calls Commit without Save, and the rows
// are committed at each checkpoint all the same.
func TestExactlyOnceWithoutPositions(t *testing.T) {
	before := runtime.NumGoroutine()
	t.Cleanup(func() { conformance.NoGoroutineLeak(t, before) }) // last: after every Close
	alloc := conformance.Checked(t)
	dsn := pgtest.DB(t)
	in := conformance.Sample(alloc, conformance.SampleSchema, 0, 500)
	defer in.Release()
	src := mem.NewSource(conformance.SampleSchema, in)
	defer src.Release()
	const name = "sinks[0].postgres"
	sink := conformance.MustBuild[txSink](t, engine.KindSink, "postgres",
		fmt.Sprintf("{dsn: %s, table: dst, create_table: true, exactly_once: true}", q(dsn)), conformance.Build(alloc, 50, name))
	p := &engine.Pipeline{
		Name:   "no-positions",
		Source: engine.SourceStep{Name: "source", Source: src},
		Sinks:  []engine.SinkStep{{Name: name, Sink: sink}},
		Logger: slog.New(slog.DiscardHandler),
		Mem:    alloc,
	}
	m, err := p.Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("positions: %s", m.Positions)
	if n := count(t, dsn, "SELECT count(*) * 1000 + count(DISTINCT id) FROM dst"); n != 500500 {
		t.Errorf("count*1000 + distinct = %d, want 500500", n)
	}
}

// TestExactlyOnceIdleInTransaction: a server that ends sessions idle in a
// transaction (idle_in_transaction_session_timeout, a common safety
// setting) does not end the sink's, which is idle in its checkpoint's
// transaction whenever the source is slower than the sink.
func TestExactlyOnceIdleInTransaction(t *testing.T) {
	alloc := conformance.Checked(t)
	dsn := pgtest.DB(t)
	pgtest.Exec(t, dsn, `CREATE TABLE src (id bigint, name text, amount numeric(12,2))`,
		`INSERT INTO src SELECT i, 'n' || i, i / 100.0 FROM generate_series(1, 500) i`,
		`DO $$ BEGIN EXECUTE format('ALTER DATABASE %I SET idle_in_transaction_session_timeout = 50', current_database()); END $$`)
	// The source pauses past the timeout with batches in the transaction.
	if _, err := onceRun(t, dsn, alloc, time.Hour, 5, func(chan struct{}) { time.Sleep(300 * time.Millisecond) }); err != nil {
		t.Fatalf("run: %v", err)
	}
	if n := count(t, dsn, "SELECT count(*) * 1000 + count(DISTINCT id) FROM dst"); n != 500500 {
		t.Errorf("count*1000 + distinct = %d, want 500500", n)
	}
}
