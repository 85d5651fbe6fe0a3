package cli_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	_ "github.com/dataweaver/dataweaver/connectors/discard"
	_ "github.com/dataweaver/dataweaver/connectors/file"
	_ "github.com/dataweaver/dataweaver/connectors/generate"
	"github.com/dataweaver/dataweaver/engine"
	"github.com/dataweaver/dataweaver/internal/cli"
)

// TestPositionsCommand walks a pipeline through the commands a user has:
// run, run again (resumes, reads nothing), positions, --from-start,
// positions --reset.
func TestPositionsCommand(t *testing.T) {
	path := writeFile(t, "gen.yaml", "name: gen\nbatch: {rows: 100}\n"+
		"source: {generate: {preset: orders, rows: 1000, seed: 7}}\nsinks: [discard]\n")
	opts := cli.Options{Env: engine.DefaultEnvironment()}
	want := func(r result, code int, parts ...string) {
		t.Helper()
		if r.code != code {
			t.Errorf("exit %d, want %d; stderr:\n%s", r.code, code, r.stderr)
		}
		for _, p := range parts {
			if !strings.Contains(r.stdout+r.stderr, p) {
				t.Errorf("output lacks %q:\nstdout:\n%s\nstderr:\n%s", p, r.stdout, r.stderr)
			}
		}
	}
	want(run(t, opts, "positions", path), 0, "no saved positions")
	want(run(t, opts, "run", path), 0, "started at the start (no saved position)", "position saved: row 1000 (seed 7)")
	if _, err := os.Stat(filepath.Join(filepath.Dir(path), ".weave-state", "gen.positions")); err != nil {
		t.Errorf("the state is not beside the pipeline file: %v", err)
	}
	r := run(t, opts, "run", path)
	want(r, 0, "started at row 1000 (seed 7)")
	if rowsIn(r.stderr, "source.generate") != "0" {
		t.Errorf("a run after the end should read nothing:\n%s", r.stderr)
	}
	want(run(t, opts, "positions", path), 0, "source.generate", "row 1000 (seed 7)", "read to the end")
	r = run(t, opts, "run", "--from-start", path)
	want(r, 0, "started at the start (--from-start)")
	if rowsIn(r.stderr, "source.generate") != "1,000" {
		t.Errorf("--from-start should read everything:\n%s", r.stderr)
	}
	want(run(t, opts, "positions", "--reset", path), 0, "reset source.generate")
	want(run(t, opts, "positions", path), 0, "no saved positions")

	// --state moves the state; another seed refuses the saved position.
	state := t.TempDir()
	want(run(t, opts, "run", "--state", state, path), 0, "position saved: row 1000")
	want(run(t, opts, "run", "--state", state, "--set", "source.generate.seed=8", path), 1, "made with seed 7", "--from-start")
}

// A pipeline reading stdin keeps no positions: running it twice reads the
// input twice, without a complaint about a stdin position.
func TestPositionsStdinPipeline(t *testing.T) {
	in := writeFile(t, "in.jsonl", "{\"id\":1}\n{\"id\":2}\n")
	path := writeFile(t, "stdin.yaml", "source: {file: {path: \"-\", format: jsonl}}\nsinks: [discard]\n")
	for range 2 {
		f, err := os.Open(in)
		if err != nil {
			t.Fatal(err)
		}
		// The file source reads os.Stdin itself; no test here runs in parallel.
		old := os.Stdin
		os.Stdin = f
		r := run(t, cli.Options{Env: engine.DefaultEnvironment()}, "run", path)
		os.Stdin = old
		f.Close()
		if r.code != 0 || rowsIn(r.stderr, "source.file") != "2" || strings.Contains(r.stderr, "position saved") {
			t.Fatalf("exit %d; stderr:\n%s", r.code, r.stderr)
		}
	}
}
