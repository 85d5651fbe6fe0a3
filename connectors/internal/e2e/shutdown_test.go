package e2e

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/dataweaver/dataweaver/connectors/conformance"
	"github.com/dataweaver/dataweaver/engine"
	"github.com/dataweaver/dataweaver/engine/config"

	_ "github.com/dataweaver/dataweaver/connectors/all"
)

// failAt is where the in-process run's sink fails (rows it has stored).
const failAt = 3_000

// TestOrderlyShutdownAfterSinkError runs each pipeline in-process, with
// a checked allocator, and has its sink fail permanently once it has
// stored failAt rows (failingSink). That is not a crash: the engine stops
// in order — stops reading, closes the source, which naks what it held —
// and these are the properties checked, which a SIGKILL cannot show: the
// run returns the sink's error, no Arrow buffer is leaked on that path,
// and the destination holds no more than the sink stored; then a rerun in
// the same process completes the copy.
func TestOrderlyShutdownAfterSinkError(t *testing.T) {
	for _, tc := range []struct {
		name  string
		setup func(t *testing.T) fixture
	}{
		{"postgres_mask_jetstream", func(t *testing.T) fixture { f, _, _ := postgresMaskJetStream(t); return f }},
		{"jetstream_to_kafka", func(t *testing.T) fixture { f, _ := jetStreamToKafka(t); return f }},
		{"kafka_to_postgres_upsert", kafkaToPostgresUpsert},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// First, so that its leak check runs after the servers and
			// clients the fixture starts are gone.
			checked := conformance.Checked(t)
			f := tc.setup(t)
			_, err := runInProcess(t, f.p.File, f.p.Env, f.p.Set, checked, failAt)
			var fail *sinkFailure
			if !errors.As(err, &fail) {
				t.Fatalf("the run whose sink fails after %d rows returned %v", failAt, err)
			}
			if n := f.p.Stored(t); n == 0 || n > int(fail.written) || n >= rows {
				t.Fatalf("after the sink error the destination holds %d rows, want 1 to %d (what the sink stored, fewer than %d)", n, fail.written, rows)
			}
			if _, err := runInProcess(t, f.p.File, f.p.Env, append(f.p.Set, f.p.Finish...), checked, 0); err != nil {
				t.Fatalf("rerun: %v", err)
			}
			f.check(t)
		})
	}
}

// runInProcess is `weave run` of file in this process: ${VAR} from vars
// only (not the environment, so a stray PG_DSN cannot point a test at a
// real database), set as --set, Validate and then Run. With failAfter > 0
// the first sink fails once it has stored that many rows.
func runInProcess(t *testing.T, file string, vars map[string]string, set []string, mem memory.Allocator, failAfter int64) (*engine.Metrics, error) {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	opts := config.Options{
		Mem: mem, Logger: slog.New(slog.DiscardHandler), Set: set,
		Lookup: func(k string) (string, bool) { v, ok := vars[k]; return v, ok },
	}
	f, err := config.Parse(data, file, opts)
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	p, err := config.Build(f, opts)
	if err != nil {
		t.Fatalf("build: %v", err)
	}
	if failAfter > 0 {
		p.Sinks[0].Sink = &failingSink{Sink: p.Sinks[0].Sink, after: failAfter}
	}
	ctx := context.Background()
	if _, err := p.Validate(ctx); err != nil {
		return nil, err
	}
	return p.Run(ctx)
}

// sinkFailure is failingSink's error: how many rows the sink had stored.
type sinkFailure struct{ written int64 }

func (e *sinkFailure) Error() string { return "e2e: the sink fails on purpose" }

// failingSink, once the sink has stored `after` rows, flushes them (they
// are in the next system for good) and fails the Write permanently, so
// the engine stops the run without acknowledging that batch.
type failingSink struct {
	engine.Sink
	after, written int64
}

func (c *failingSink) Write(ctx context.Context, rec arrow.RecordBatch) error {
	if err := c.Sink.Write(ctx, rec); err != nil {
		return err
	}
	c.written += rec.NumRows()
	if c.written < c.after {
		return nil
	}
	if err := c.Sink.Flush(ctx); err != nil {
		return err
	}
	return engine.Permanent(&sinkFailure{written: c.written})
}

// CheckSchema keeps the wrapped sink's check for Validate.
func (c *failingSink) CheckSchema(s *arrow.Schema) error {
	if sc, ok := c.Sink.(engine.SchemaChecker); ok {
		return sc.CheckSchema(s)
	}
	return nil
}
