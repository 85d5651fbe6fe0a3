package beamrun_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/apache/beam/sdks/v2/go/pkg/beam/runners/prism"

	"github.com/dataweaver/dataweaver/beam/beamrun"
	"github.com/dataweaver/dataweaver/beam/internal/beamtest"
	"github.com/dataweaver/dataweaver/engine"
	"github.com/dataweaver/dataweaver/internal/pgtest"
)

// TestPostgresRanges: a PostgreSQL table read on Beam in cursor ranges
// (split_rows apart, at quantiles of the cursor), each range a split and
// a part, through a Wasm stage: the rows equal weave run's.
func TestPostgresRanges(t *testing.T) {
	dsn := pgtest.DB(t)
	ctx := context.Background()
	pgtest.Exec(t, dsn,
		"CREATE TABLE orders (id bigint PRIMARY KEY, email text, amount float8)",
		"INSERT INTO orders SELECT i, 'user' || i || '@example.org', (i % 97) - 10 FROM generate_series(1, 2500) AS i")

	wasm := beamtest.CGuests(t)
	file := filepath.Join(t.TempDir(), "pg.yaml")
	if err := os.WriteFile(file, []byte(fmt.Sprintf(`name: pg-ranges
source:
  postgres: {dsn: %q, table: orders, cursor: id, split_rows: 400, stop_at_end: true}
stages:
  - wasm:
      path: ${WASM}/filter.wasm
      config: {column: amount, op: ">=", value: 0}
  - wasm:
      path: ${WASM}/mask.wasm
      config: {columns: [email]}
sinks:
  - file: "${OUT}/orders.jsonl"
`, dsn)), 0o644); err != nil {
		t.Fatal(err)
	}
	j := beamtest.Job{Name: "pg", File: file, Sinks: []string{"sinks[0]=jsonl"}}
	local, onBeam := t.TempDir(), t.TempDir()
	if _, err := (engine.Local{}).Run(ctx, j.Load(t, wasm, local)); err != nil {
		t.Fatal(err)
	}
	if _, err := (beamrun.Runner{Execute: prism.Execute}).Run(ctx, j.Load(t, wasm, onBeam)); err != nil {
		t.Fatal(err)
	}
	j.SameRows(t, local, onBeam)
	parts, err := os.ReadDir(filepath.Join(onBeam, "sinks[0]"))
	if err != nil {
		t.Fatal(err)
	}
	// 2,500 rows at about 400 a range: 7 ranges, as the coordinator's test plans.
	if len(parts) != 7 {
		t.Errorf("Beam wrote %d parts, want one per cursor range (7)", len(parts))
	}
}
