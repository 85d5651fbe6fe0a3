package file

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/dataweaver/dataweaver/connectors/conformance"
	"github.com/dataweaver/dataweaver/engine"
)

// TestSplitsShareFirstSchema: every split of a glob of CSV files decodes
// into the schema inferred from the first file, as a run alone does, not
// into one inferred from its own rows (file 2 alone would say v is int64).
func TestSplitsShareFirstSchema(t *testing.T) {
	mem := conformance.Checked(t)
	dir := t.TempDir()
	for name, text := range map[string]string{"a.csv": "id,v\n1,1.5\n", "b.csv": "id,v\n2,3\n"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o666); err != nil {
			t.Fatal(err)
		}
	}
	b := engine.Build{Mem: mem, BatchRows: 10}
	conf := "{path: " + q(filepath.Join(dir, "*.csv")) + "}"
	planner := mustSource(t, conf, b)
	splits, err := planner.Splits(context.Background())
	if err != nil || len(splits) != 2 {
		t.Fatalf("Splits = %d, %v; want one per file", len(splits), err)
	}
	for _, sp := range splits {
		src := mustSource(t, conf, b)
		if err := src.ReadSplit(sp); err != nil {
			t.Fatal(err)
		}
		schema, err := src.Open(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if got := schema.Field(1).Type.String(); got != "float64" {
			t.Errorf("split %s: v is %s, want float64 (the first file's)", sp.ID, got)
		}
		batch, err := src.Read(context.Background())
		if err != nil || batch.Record == nil || batch.Record.NumRows() != 1 {
			t.Fatalf("split %s: Read = %v, %v; want its one row", sp.ID, batch, err)
		}
		batch.Record.Release()
		if _, err := src.Read(context.Background()); err != engine.ErrEndOfInput {
			t.Errorf("split %s: second Read = %v, want the end", sp.ID, err)
		}
		src.Close()
	}
}
