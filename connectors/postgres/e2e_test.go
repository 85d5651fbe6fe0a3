package postgres

import (
	"fmt"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/dataweaver/dataweaver/connectors/conformance"
	"github.com/dataweaver/dataweaver/connectors/generate"
	mem "github.com/dataweaver/dataweaver/connectors/inmemory"
	"github.com/dataweaver/dataweaver/internal/pgtest"
)

// TestGenerateToPostgresAndBack: generate → postgres (upsert, twice, so
// the second run only updates) → postgres source → memory sink.
func TestGenerateToPostgresAndBack(t *testing.T) {
	checked := conformance.Checked(t)
	dsn := pgtest.DB(t)
	// Each run keeps its positions in a directory of its own: the second
	// must read the input again, and the third is another pipeline.
	for range 2 {
		conformance.RunPipeline(t, checked, fmt.Sprintf(`
state: %q
batch: {rows: 500}
source:
  generate: {preset: orders, rows: 5003}
sinks:
  - postgres: {dsn: %s, table: orders, mode: upsert, key: [id], create_table: true}
`, t.TempDir(), q(dsn)))
	}
	conformance.RunPipeline(t, checked, fmt.Sprintf(`
state: %q
batch: {rows: 700}
source:
  postgres: {dsn: %s, table: orders, cursor: id, stop_at_end: true}
sinks:
  - memory: {name: pg-e2e}
`, t.TempDir(), q(dsn)))
	out := mem.Lookup("pg-e2e")
	defer out.Release()
	want := generate.Orders(memory.NewGoAllocator(), 5003, 1)
	defer want.Release()
	conformance.EqualRows(t, want, out.Records())
}
