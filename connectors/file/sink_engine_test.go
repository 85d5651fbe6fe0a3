package file

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/memory"

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
// dead-letter file with its own (here: its only) rejects. A JSON Lines
// file now appends; Parquet dead letters go to a directory of parts.
func TestDeadLetterPipelineKeepsRejects(t *testing.T) {
	for _, tc := range []struct {
		name    string
		conf    string // the dead-letter sink's configuration; %s is the path
		path    string // of the dead letters, under the test's directory
		rejects func(t *testing.T, mem memory.Allocator, path string) int
	}{
		{name: "jsonl file", conf: "%q", path: "rejects.jsonl", rejects: func(t *testing.T, _ memory.Allocator, path string) int {
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			return strings.Count(string(data), `"record":"seven"`)
		}},
		{name: "parquet directory", conf: "{path: %q, format: parquet}", path: "rejects/", rejects: func(t *testing.T, mem memory.Allocator, path string) int {
			got := readGlob(t, mem, filepath.Join(path, "part-*.parquet"), "parquet")
			defer conformance.Release(got)
			n := 0
			for _, rec := range got {
				n += int(rec.NumRows())
			}
			return n
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			mem := conformance.Checked(t)
			dir := t.TempDir()
			in := filepath.Join(dir, "in.csv")
			writeFile(t, in, "id\n1\nseven\n2\n")
			path := filepath.ToSlash(dir) + "/" + tc.path
			for run := range 2 {
				conformance.RunPipeline(t, mem, fmt.Sprintf(`name: dl
source: {file: {path: %q, schema: {id: int64}}}
state: %q
on_error: dead_letter
dead_letter: {file: %s}
sinks: [{file: %q}]
`, in, filepath.Join(dir, "state"), fmt.Sprintf(tc.conf, path), filepath.Join(dir, "out.jsonl")))
				if n := tc.rejects(t, mem, path); n != run+1 {
					t.Fatalf("after run %d the dead letters hold %d rejects, want %d", run+1, n, run+1)
				}
			}
		})
	}
}
