package file

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dataweaver/dataweaver/connectors/conformance"
	"github.com/dataweaver/dataweaver/connectors/generate"
)

// TestDirPipelineResume runs a pipeline writing Parquet parts three times
// with one state directory: the second run resumes where the first
// stopped and adds parts, the third finds nothing new and adds no (empty)
// part. The file source then reads every order exactly once, in order.
func TestDirPipelineResume(t *testing.T) {
	mem := conformance.Checked(t)
	dir := filepath.Join(t.TempDir(), "orders")
	state := filepath.Join(t.TempDir(), "state")
	pipeline := func(rows int) string {
		return fmt.Sprintf(`name: parts
source: {generate: {preset: orders, rows: %d}}
batch: {rows: 700}
checkpoint_every: 1ms
state: %q
sinks: [{file: {path: %q, format: parquet}}]
`, rows, state, dir+"/")
	}
	for _, run := range []struct {
		rows    int
		resumed bool
		parts   int // at least this many parts after the run
	}{
		{rows: 5000, parts: 1},
		{rows: 12000, resumed: true, parts: 2},
		{rows: 12000, resumed: true},
	} {
		before, _ := dirEntries(t, dir)
		m := conformance.RunPipeline(t, mem, pipeline(run.rows))
		if m.Resumed != run.resumed {
			t.Fatalf("run to %d rows: resumed %v (started at %s, positions %s), want %v", run.rows, m.Resumed, m.StartPosition, m.Positions, run.resumed)
		}
		parts, temps := dirEntries(t, dir)
		if len(temps) != 0 {
			t.Fatalf("temporary parts left after a clean run: %v", temps)
		}
		if run.parts == 0 && len(parts) != len(before) {
			t.Fatalf("a run with nothing to read added parts: %v, before %v", parts, before)
		}
		if len(parts) < len(before)+run.parts {
			t.Fatalf("run to %d rows: parts %v, before %v", run.rows, parts, before)
		}
	}
	want := generate.Orders(mem, 12000, 1)
	defer want.Release()
	got := readGlob(t, mem, filepath.Join(dir, "part-*.parquet"), "parquet")
	defer conformance.Release(got)
	conformance.EqualRows(t, want, got)
}

// TestDeadLetterPipelineKeepsRejects is loss path 1 of issue 10 at the
// pipeline level: a second run used to replace the first run's
// dead-letter file with its own (here: its only) rejects.
func TestDeadLetterPipelineKeepsRejects(t *testing.T) {
	mem := conformance.Checked(t)
	dir := t.TempDir()
	in := filepath.Join(dir, "in.csv")
	writeFile(t, in, "id\n1\nseven\n2\n")
	rejects := filepath.Join(dir, "rejects.jsonl")
	for run := range 2 {
		conformance.RunPipeline(t, mem, fmt.Sprintf(`name: dl
source: {file: {path: %q, schema: {id: int64}}}
state: %q
on_error: dead_letter
dead_letter: {file: %q}
sinks: [{file: %q}]
`, in, filepath.Join(dir, "state"), rejects, filepath.Join(dir, "out.jsonl")))
		data, err := os.ReadFile(rejects)
		if err != nil {
			t.Fatal(err)
		}
		if n := strings.Count(string(data), `"record":"seven"`); n != run+1 {
			t.Fatalf("after run %d the dead-letter file holds %d rejects, want %d:\n%s", run+1, n, run+1, data)
		}
	}
}
