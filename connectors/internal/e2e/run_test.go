package e2e

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"testing"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/memory"

	"github.com/dataweaver/dataweaver/engine"
	"github.com/dataweaver/dataweaver/engine/config"
	"github.com/dataweaver/dataweaver/wasmabi/wasmtest"

	_ "github.com/dataweaver/dataweaver/connectors/all"
)

// run is one `weave run` of a file in testdata/pipelines: ${VAR} from
// vars only (not the environment, so a stray PG_DSN cannot point a test
// at a real database), --set overrides, Validate and then Run.
type run struct {
	file string
	vars map[string]string
	set  []string
	// crashAfter, when positive, crashes the run once the first sink has
	// stored that many rows (see crashingSink).
	crashAfter int64
}

// do runs r with mem and returns the run's metrics and error.
func (r run) do(t *testing.T, mem memory.Allocator) (*engine.Metrics, error) {
	t.Helper()
	root, err := wasmtest.Root()
	if err != nil {
		t.Fatal(err)
	}
	name := filepath.Join("testdata", "pipelines", r.file)
	data, err := os.ReadFile(filepath.Join(root, name))
	if err != nil {
		t.Fatal(err)
	}
	opts := config.Options{
		Mem: mem, Logger: slog.New(slog.DiscardHandler), Set: r.set,
		Lookup: func(k string) (string, bool) { v, ok := r.vars[k]; return v, ok },
	}
	f, err := config.Parse(data, name, opts)
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	p, err := config.Build(f, opts)
	if err != nil {
		t.Fatalf("build: %v", err)
	}
	var crash *crashingSink
	if r.crashAfter > 0 {
		crash = &crashingSink{Sink: p.Sinks[0].Sink, after: r.crashAfter}
		p.Sinks[0].Sink = crash
	}
	ctx := context.Background()
	if _, err := p.Validate(ctx); err != nil {
		return nil, err
	}
	m, err := p.Run(ctx)
	if crash != nil && err == nil {
		t.Fatalf("%s: the run meant to crash after %d rows ended normally after %d", r.file, r.crashAfter, crash.written)
	}
	return m, err
}

// mustRun runs r and fails t on an error.
func (r run) mustRun(t *testing.T, mem memory.Allocator) *engine.Metrics {
	t.Helper()
	m, err := r.do(t, mem)
	if err != nil {
		t.Fatalf("%s: %v", r.file, err)
	}
	return m
}

// crashes runs r, which must crash, and returns how many rows its first
// sink stored before it did.
func (r run) crashes(t *testing.T, mem memory.Allocator) int {
	t.Helper()
	_, err := r.do(t, mem)
	if !errors.Is(err, errCrash) {
		t.Fatalf("%s: run meant to crash returned %v", r.file, err)
	}
	return int(written(err))
}

var errCrash = errors.New("e2e: simulated crash")

// crashError says how many rows the sink had stored when it crashed.
type crashError struct{ written int64 }

func (e *crashError) Error() string { return errCrash.Error() }
func (e *crashError) Unwrap() error { return errCrash }

func written(err error) int64 {
	var c *crashError
	if errors.As(err, &c) {
		return c.written
	}
	return -1
}

// crashingSink stands for the process dying between a sink storing a
// batch and the source hearing of it: once the sink has stored `after`
// rows it flushes them (they are in the next system for good) and fails
// the Write permanently, so the engine stops the run without
// acknowledging that batch, and the next run must read it again.
type crashingSink struct {
	engine.Sink
	after, written int64
}

func (c *crashingSink) Write(ctx context.Context, rec arrow.Record) error {
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
	return engine.Permanent(&crashError{written: c.written})
}

// CheckSchema keeps the wrapped sink's check for Validate.
func (c *crashingSink) CheckSchema(s *arrow.Schema) error {
	if sc, ok := c.Sink.(engine.SchemaChecker); ok {
		return sc.CheckSchema(s)
	}
	return nil
}
