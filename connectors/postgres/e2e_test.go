package postgres

import (
	"context"
	"fmt"
	"log/slog"
	"testing"

	"github.com/apache/arrow/go/v15/arrow/memory"

	"github.com/dataweaver/dataweaver/connectors/generate"
	"github.com/dataweaver/dataweaver/connectors/internal/conformance"
	mem "github.com/dataweaver/dataweaver/connectors/memory"
	"github.com/dataweaver/dataweaver/connectors/postgres/internal/pgtest"
	"github.com/dataweaver/dataweaver/engine/config"
)

func runPipeline(t *testing.T, mem memory.Allocator, text string) {
	t.Helper()
	opts := config.Options{Mem: mem, Logger: slog.New(slog.DiscardHandler)}
	f, err := config.Parse([]byte(text), "t.yaml", opts)
	if err != nil {
		t.Fatalf("parse:\n%s\n%v", text, err)
	}
	p, err := config.Build(f, opts)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.Run(context.Background()); err != nil {
		t.Fatalf("run:\n%s\n%v", text, err)
	}
}

// TestGenerateToPostgresAndBack: generate → postgres (upsert, twice, so
// the second run only updates) → postgres source → memory sink.
func TestGenerateToPostgresAndBack(t *testing.T) {
	checked := conformance.Checked(t)
	dsn := pgtest.DB(t)
	for range 2 {
		runPipeline(t, checked, fmt.Sprintf(`
batch: {rows: 500}
source:
  generate: {preset: orders, rows: 5003}
sinks:
  - postgres: {dsn: %s, table: orders, mode: upsert, key: [id], create_table: true}
`, q(dsn)))
	}
	runPipeline(t, checked, fmt.Sprintf(`
batch: {rows: 700}
source:
  postgres: {dsn: %s, table: orders, cursor: id, stop_at_end: true}
sinks:
  - memory: {name: pg-e2e}
`, q(dsn)))
	out := mem.Lookup("pg-e2e")
	defer out.Release()
	want := generate.Orders(memory.NewGoAllocator(), 5003, 1)
	defer want.Release()
	conformance.EqualRows(t, want, out.Records())
}
