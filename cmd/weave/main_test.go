package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/dataweaver/dataweaver/internal/cli"
)

// weave runs the command in-process with the real connectors, a checked
// allocator, and OUT pointing at a fresh directory.
func weave(t *testing.T, args ...string) (code int, stdout, stderr, out string) {
	t.Helper()
	out = t.TempDir()
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	var o, e bytes.Buffer
	code = cli.Main(append([]string{"weave"}, args...), cli.Options{
		Stdout: &o, Stderr: &e, Mem: mem,
		Lookup: func(k string) (string, bool) {
			if k == "OUT" {
				return out, true
			}
			return "", false
		},
	})
	return code, o.String(), e.String(), out
}

func readJSONL(t *testing.T, path string) []map[string]any {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var rows []map[string]any
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var row map[string]any
		if err := json.Unmarshal(sc.Bytes(), &row); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		rows = append(rows, row)
	}
	return rows
}

// TestRunOrders runs testdata/orders.yaml end to end: CSV in, two stages,
// JSON Lines out, the undecodable row in the dead-letter file.
func TestRunOrders(t *testing.T) {
	code, stdout, stderr, out := weave(t, "run", "testdata/orders.yaml")
	if code != 0 {
		t.Fatalf("exit %d; stderr:\n%s", code, stderr)
	}
	if stdout != "" {
		t.Errorf("stdout: %q", stdout)
	}
	rows := readJSONL(t, filepath.Join(out, "orders.jsonl"))
	if len(rows) != 3 || rows[0]["contact"] != "ada@example.com" || rows[2]["id"] != 4.0 {
		t.Errorf("orders.jsonl = %v", rows)
	}
	if _, ok := rows[0]["country"]; ok {
		t.Errorf("select kept country: %v", rows[0])
	}
	rejected := readJSONL(t, filepath.Join(out, "rejected.jsonl"))
	if len(rejected) != 1 || rejected[0]["step"] != "source.file" || rejected[0]["line"] != 4.0 {
		t.Errorf("rejected.jsonl = %v", rejected)
	}
	for _, want := range []string{"source.file", "stages[0].select", "tidy", "sinks[0].file", "wall time"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("summary lacks %q:\n%s", want, stderr)
		}
	}
}

// TestRunSet swaps the source from the command line; the values hold
// commas, which must reach the YAML parser intact.
func TestRunSet(t *testing.T) {
	code, _, stderr, out := weave(t, "run", "testdata/orders.yaml", "--set", "source={generate: {preset: orders, rows: 50}}", "--set", "stages[0].select.columns=[id, email]")
	if code != 0 {
		t.Fatalf("exit %d; stderr:\n%s", code, stderr)
	}
	if rows := readJSONL(t, filepath.Join(out, "orders.jsonl")); len(rows) != 50 || len(rows[0]) != 2 {
		t.Errorf("got %d rows, first %v", len(rows), rows)
	}
}

func TestValidateOrders(t *testing.T) {
	code, stdout, stderr, _ := weave(t, "validate", "testdata/orders.yaml")
	if code != 0 {
		t.Fatalf("exit %d; stderr:\n%s", code, stderr)
	}
	want := `source.file
  id       int64
  email    utf8
  amount   float64
  country  utf8
stages[0].select
  id      int64
  email   utf8
  amount  float64
tidy
  id       int64
  contact  utf8
  amount   float64
pipeline "orders-clean" is valid: 4 step(s) checked
`
	if stdout != want {
		t.Errorf("stdout:\n%s\nwant:\n%s", stdout, want)
	}
}

func TestExitCodes(t *testing.T) {
	tests := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"unknown column", []string{"validate", "testdata/orders.yaml", "--set", "stages[0].select.columns=[nope]"}, 2, "weave: testdata/orders.yaml:7:5: stage stages[0].select: "},
		{"config error", []string{"run", "testdata/orders.yaml", "--set", "stages[1].rename={}"}, 2, "weave: testdata/orders.yaml: stages[1].rename.columns: missing required field"},
		{"missing input", []string{"run", "testdata/orders.yaml", "--set", "source.file.path=testdata/nope.csv"}, 1, "nope.csv"},
		{"unknown connector", []string{"connectors", "describe", "fiel"}, 2, `weave: unknown connector "fiel" (did you mean "file"?)`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, stderr, _ := weave(t, tt.args...)
			if code != tt.code || !strings.Contains(stderr, tt.want) {
				t.Errorf("exit %d (want %d); stderr does not contain %q:\n%s", code, tt.code, tt.want, stderr)
			}
		})
	}
}

// TestDocs checks that every registered connector renders.
func TestDocs(t *testing.T) {
	code, stdout, stderr, _ := weave(t, "connectors", "docs")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	for _, want := range []string{"## Sources", "### file", "### generate", "## Stages", "### select", "## Sinks", "### discard"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("docs lack %q", want)
		}
	}
}
