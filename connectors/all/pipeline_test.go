package all_test

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/dataweaver/dataweaver/connectors/conformance"
	"github.com/dataweaver/dataweaver/connectors/inmemory"
	"github.com/dataweaver/dataweaver/engine"
	"github.com/dataweaver/dataweaver/engine/config"
)

// run loads a pipeline file through the real config loader, validates it
// and runs it on the real engine with a checked allocator, as `weave run`
// does: every source is opened twice.
func run(t *testing.T, yaml string, vars map[string]string) (*engine.Metrics, error) {
	t.Helper()
	mem := conformance.Checked(t)
	p, err := config.Build(mustParse(t, yaml, vars), config.Options{Mem: mem, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatalf("build: %v", err)
	}
	if _, err := p.Validate(context.Background()); err != nil {
		return nil, err
	}
	return p.Run(context.Background())
}

func mustParse(t *testing.T, yaml string, vars map[string]string) *config.File {
	t.Helper()
	f, err := config.Parse([]byte(yaml), "pipeline.yaml", config.Options{
		Lookup: func(k string) (string, bool) { v, ok := vars[k]; return v, ok },
	})
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	return f
}

var orders = filepath.Join("..", "..", "testdata", "orders.csv")

// TestPipelineEndToEnd: the demo shape — orders.csv, skipping its two
// malformed rows, through select and rename into Parquet — then read back
// through a second pipeline into a named memory sink.
func TestPipelineEndToEnd(t *testing.T) {
	out := filepath.Join(t.TempDir(), "out", "orders.parquet")
	m, err := run(t, `
source:
  file: ${IN}
  on_error: skip
stages:
  - select: {columns: [id, country, amount]}
  - rename: {columns: {amount: total}}
sinks:
  - file: {path: "${OUT}", compression: zstd}
batch: {rows: 16}
`, map[string]string{"IN": orders, "OUT": out})
	if err != nil {
		t.Fatal(err)
	}
	src := m.Steps[0]
	if src.RowsOut.Load() != 50 || src.Skipped.Load() != 2 || src.Bytes.Load() == 0 {
		t.Fatalf("source: %d rows out, %d skipped, %d bytes; want 50, 2 and the file size", src.RowsOut.Load(), src.Skipped.Load(), src.Bytes.Load())
	}

	if _, err := run(t, `
source:
  file: ${OUT}
sinks:
  - memory: {name: e2e}
`, map[string]string{"OUT": out}); err != nil {
		t.Fatal(err)
	}
	sink := inmemory.Lookup("e2e")
	defer sink.Release()
	tbl := sink.Table()
	defer tbl.Release()
	want := arrow.NewSchema([]arrow.Field{
		{Name: "id", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
		{Name: "country", Type: arrow.BinaryTypes.String, Nullable: true},
		{Name: "total", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
	}, nil)
	if tbl.NumRows() != 50 || conformance.SameColumns(want, tbl.Schema()) != "" {
		t.Fatalf("read back %d rows of %s", tbl.NumRows(), tbl.Schema())
	}
	if first := tbl.Column(0).Data().Chunk(0).(*array.Int64).Value(0); first != 1001 {
		t.Fatalf("first id %d, want 1001", first)
	}
}

// TestPipelineFailureLeavesNoFile: with the default fail policy the run
// stops at orders.csv:19, and the file sink, closed after the failure,
// must not put a partial file in place.
func TestPipelineFailureLeavesNoFile(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "orders.jsonl")
	_, err := run(t, `
source:
  file: ${IN}
sinks:
  - file: ${OUT}
batch: {rows: 4}
`, map[string]string{"IN": orders, "OUT": out})
	if err == nil || !strings.Contains(err.Error(), "orders.csv:19") {
		t.Fatalf("run error %v, want one naming orders.csv:19", err)
	}
	if _, serr := os.Stat(out); !errors.Is(serr, os.ErrNotExist) {
		t.Fatalf("a failed run left %s in place (%v)", out, serr)
	}
	if left, _ := filepath.Glob(filepath.Join(dir, ".*")); len(left) > 0 {
		t.Fatalf("temporary files left: %v", left)
	}
}

func TestPipelineGenerateDiscard(t *testing.T) {
	m, err := run(t, `
source:
  generate: {preset: orders, rows: 100000, seed: 9}
stages:
  - select: {drop: [note]}
sinks: [discard]
`, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := m.Steps[len(m.Steps)-1].RowsIn.Load(); got != 100000 {
		t.Fatalf("discard saw %d rows, want 100000", got)
	}
}

// TestPipelineValidateErrors: mistakes that need the data's schema are
// reported by Validate, before anything is written.
func TestPipelineValidateErrors(t *testing.T) {
	out := filepath.Join(t.TempDir(), "x.csv")
	for _, tc := range []struct{ yaml, want string }{
		{`
source: {file: "${IN}"}
stages: [{select: {columns: [id, amnt]}}]
sinks: [{file: "${OUT}"}]`, `no column "amnt" in the input (columns: id, customer, email, country, amount, ts, note)`},
		{`
source: {file: "${IN}"}
stages: [{rename: {columns: {amount: id}}}]
sinks: [{file: "${OUT}"}]`, `would both be called "id"`},
		{`
source:
  memory: {schema: {tags: list<utf8>}}
sinks: [{file: "${OUT}"}]`, "CSV cannot hold nested type"},
	} {
		_, err := run(t, tc.yaml, map[string]string{"IN": orders, "OUT": out})
		if !errors.Is(err, engine.ErrSchema) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s\nerror %v, want ErrSchema containing %q", tc.yaml, err, tc.want)
		}
		if _, serr := os.Stat(out); serr == nil {
			t.Fatalf("validation failed but %s was written", out)
		}
	}
}
