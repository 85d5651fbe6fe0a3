package cli_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dataweaver/dataweaver/engine"
	"github.com/dataweaver/dataweaver/internal/cli"
)

// TestSchemaChangeMidRunExits1: a glob of Parquet files whose second file
// has other columns fails the run after the first file's rows moved, with
// an error wrapping engine.ErrSchema. That is a runtime failure, exit 1,
// not the configuration code 2, which says nothing ran and re-running will
// not help: issue 11's "runtime failures never exit 2".
func TestSchemaChangeMidRunExits1(t *testing.T) {
	dir := t.TempDir()
	opts := cli.Options{Env: engine.DefaultEnvironment()}
	state := filepath.Join(dir, "state")
	pipeline := func(name, text string) string {
		t.Helper()
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	// Two Parquet files with different columns, written by weave itself.
	for _, f := range []struct{ name, schema string }{{"a", "{id: int64}"}, {"b", "{name: utf8}"}} {
		p := pipeline(f.name+".yaml", "source: {generate: {rows: 3, schema: "+f.schema+"}}\nsinks: [{file: "+filepath.Join(dir, "in", f.name+".parquet")+"}]\n")
		if r := run(t, opts, "run", "--state", state, p); r.code != 0 {
			t.Fatalf("writing %s.parquet: exit %d\n%s", f.name, r.code, r.stderr)
		}
	}
	p := pipeline("p.yaml", "source: {file: {path: "+filepath.Join(dir, "in", "*.parquet")+"}}\nsinks: [{file: "+filepath.Join(dir, "out.jsonl")+"}]\n")
	r := run(t, opts, "run", "--state", state, p)
	if r.code != 1 {
		t.Fatalf("exit %d, want 1 (a runtime failure); stderr:\n%s", r.code, r.stderr)
	}
	if !strings.Contains(r.stderr, "b.parquet has columns") {
		t.Errorf("the error does not name the file whose columns differ:\n%s", r.stderr)
	}
}
