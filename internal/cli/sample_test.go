package cli_test

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	_ "github.com/dataweaver/dataweaver/connectors/columns" // the select stage
	"github.com/dataweaver/dataweaver/engine"
	"github.com/dataweaver/dataweaver/internal/cli"
)

// TestValidateSample samples a generated input through a native stage:
// each step prints exactly the rows it made, the sink's directory stays
// empty, and no state directory appears.
func TestValidateSample(t *testing.T) {
	out := t.TempDir()
	for _, tc := range []struct {
		name   string
		rows   int
		sample string
		want   string // row count line of each step
	}{
		{"fewer than the input", 1000, "7", "7 rows"},
		{"more than the input", 3, "10", "3 rows"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := writeFile(t, "p.yaml", "name: s\nbatch: {rows: 5}\n"+
				"source: {generate: {preset: orders, rows: "+strconv.Itoa(tc.rows)+", seed: 1}}\n"+
				"stages: [{select: {columns: [id, email]}}]\n"+
				"sinks: [{file: {path: \""+out+"/\", format: jsonl}}]\n")
			r := run(t, cli.Options{Env: engine.DefaultEnvironment()}, "validate", "--sample", tc.sample, "--width", "8", path)
			if r.code != 0 {
				t.Fatalf("exit %d:\n%s", r.code, r.stderr)
			}
			for _, step := range []string{"source.generate", "stages[0].select"} {
				if !strings.Contains(r.stdout, step+": "+tc.want+"\n") {
					t.Errorf("%s does not say %q:\n%s", step, tc.want, r.stdout)
				}
			}
			// Rows of the select table: id, then the e-mail cut to 8 runes.
			sel := r.stdout[strings.Index(r.stdout, "stages[0].select"):]
			lines := strings.Split(strings.TrimSpace(sel), "\n")
			if hdr := strings.Fields(lines[1]); len(hdr) != 2 || hdr[0] != "id" || hdr[1] != "email" {
				t.Errorf("select header %q, want id email", lines[1])
			}
			rows := lines[2 : len(lines)-1]
			if want, _ := strconv.Atoi(strings.Fields(tc.want)[0]); len(rows) != want {
				t.Errorf("select table has %d rows, want %d:\n%s", len(rows), want, sel)
			}
			for _, l := range rows {
				f := strings.Fields(l)
				if len(f) != 2 || len([]rune(f[1])) > 8 || !strings.HasSuffix(f[1], "…") {
					t.Errorf("row %q: want an id and an e-mail cut to 8 characters", l)
				}
			}
			if entries, _ := os.ReadDir(out); len(entries) != 0 {
				t.Errorf("the sink's directory holds %d entries after a sample", len(entries))
			}
			if _, err := os.Stat(filepath.Join(filepath.Dir(path), ".weave-state")); err == nil {
				t.Error("a sample created a state directory")
			}
		})
	}
}

// TestValidateSampleEscapes: a value holding a terminal escape, a tab and
// a newline is shown written out, on one line of its table.
func TestValidateSampleEscapes(t *testing.T) {
	in := writeFile(t, "in.jsonl", `{"id": 1, "note": "\u001b[2Jwiped\tand\nmore"}`+"\n")
	path := writeFile(t, "p.yaml", "source: {file: {path: \""+in+"\", schema: {id: int64, note: utf8}}}\n"+
		"sinks: [{file: {path: \""+filepath.Join(t.TempDir(), "out.jsonl")+"\"}}]\n")
	r := run(t, cli.Options{Env: engine.DefaultEnvironment()}, "validate", "--sample", "1", "--width", "40", path)
	if r.code != 0 {
		t.Fatalf("exit %d:\n%s", r.code, r.stderr)
	}
	if strings.ContainsAny(r.stdout, "\x1b\t") || !strings.Contains(r.stdout, `  1   \x1b[2Jwiped\tand\nmore`+"\n") {
		t.Errorf("value not escaped on one line:\n%q", r.stdout)
	}
}
