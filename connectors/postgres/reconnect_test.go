package postgres

import (
	"context"
	"fmt"
	"log/slog"
	"runtime"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/dataweaver/dataweaver/connectors/conformance"
	mem "github.com/dataweaver/dataweaver/connectors/inmemory"
	"github.com/dataweaver/dataweaver/engine"
	"github.com/dataweaver/dataweaver/internal/pgtest"
)

// TestReconnect: a Write that finds its connection terminated fails with
// an error the engine retries, and the retry writes the batch on a new
// connection (in upsert mode with the session's staging table made
// again); nothing is lost or doubled.
func TestReconnect(t *testing.T) {
	for _, mode := range []string{"mode: append", "mode: upsert, key: [id]"} {
		t.Run(mode, func(t *testing.T) {
			alloc := conformance.Checked(t)
			dsn := pgtest.DB(t)
			s := mustSink(t, fmt.Sprintf("{dsn: %s, table: events, create_table: true, %s}", q(dsn), mode), conformance.Build(alloc, 10, "sink"))
			if err := s.Open(context.Background(), conformance.SampleSchema); err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			writeRows(t, s, alloc, 0, 30)
			terminate(t, dsn, s)
			if failed := writeRetrying(t, s, alloc, 30, 60); failed != 1 {
				t.Errorf("%d attempts failed, want 1", failed)
			}
			if n := count(t, dsn, "SELECT count(*) * 1000 + count(DISTINCT id) FROM events"); n != 60060 {
				t.Errorf("count*1000 + distinct = %d, want 60060", n)
			}
		})
	}
}

// hookSource calls hook before serving batch at of its source.
type hookSource struct {
	*mem.Source
	n, at int
	hook  func()
}

func (h *hookSource) Read(ctx context.Context) (*engine.Batch, error) {
	if h.n++; h.n == h.at {
		h.hook()
	}
	return h.Source.Read(ctx)
}

// TestReconnectMidRun: the sink's server process is terminated while a
// pipeline runs (from the source, halfway through the input); the engine
// retries the Write that finds out, the sink reconnects, and the table
// ends with every row.
func TestReconnectMidRun(t *testing.T) {
	before := runtime.NumGoroutine()
	t.Cleanup(func() { conformance.NoGoroutineLeak(t, before) }) // last: after every Close
	alloc := conformance.Checked(t)
	dsn := pgtest.DB(t)
	const batches, rows = 40, 50
	in := conformance.Sample(alloc, conformance.SampleSchema, 0, batches*rows)
	defer in.Release()
	var parts []arrow.RecordBatch
	for i := range batches {
		parts = append(parts, in.NewSlice(int64(i*rows), int64(i*rows+rows)))
	}
	defer conformance.Release(parts)
	src := mem.NewSource(conformance.SampleSchema, parts...)
	defer src.Release()
	name := "sinks[0].postgres"
	b := conformance.Build(alloc, rows, name)
	sink := mustSink(t, fmt.Sprintf("{dsn: %s, table: events, create_table: true}", q(dsn)), b)
	terminated := int64(0)
	hook := &hookSource{Source: src, at: batches / 2, hook: func() {
		// The sink has its connection by now: it has written batches.
		terminated = count(t, dsn, fmt.Sprintf("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = %s AND datname = current_database()", quoteLit("dataweaver "+name)))
	}}
	p := &engine.Pipeline{
		Name:   "reconnect",
		Source: engine.SourceStep{Name: "source", Source: hook},
		Sinks:  []engine.SinkStep{{Name: name, Sink: sink}},
		Logger: slog.New(slog.DiscardHandler),
		Mem:    alloc,
	}
	if _, err := p.Run(context.Background()); err != nil {
		t.Fatalf("run: %v", err)
	}
	if terminated != 1 {
		t.Fatalf("terminated %d backends of the sink, want 1", terminated)
	}
	// At least once: a batch whose COMMIT was answered by the terminated
	// backend may be in twice; none is missing.
	total, distinct := count(t, dsn, "SELECT count(*) FROM events"), count(t, dsn, "SELECT count(DISTINCT id) FROM events")
	if distinct != batches*rows || total > batches*rows+rows {
		t.Errorf("%d rows, %d distinct, want %d", total, distinct, batches*rows)
	}
}

func quoteLit(s string) string { return "'" + s + "'" }
