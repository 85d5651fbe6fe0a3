package cli_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	_ "github.com/dataweaver/dataweaver/connectors/all"
	"github.com/dataweaver/dataweaver/engine"
	"github.com/dataweaver/dataweaver/internal/cli"
)

// weaveTest runs `weave test args...` in process with the real connectors
// and the prebuilt C modules of transforms/c; run checks that the whole
// run, every test of it, leaves no Arrow buffer and no goroutine behind.
func weaveTest(t *testing.T, args ...string) result {
	t.Helper()
	return run(t, cli.Options{Env: engine.DefaultEnvironment()}, append([]string{"test"}, args...)...)
}

func wantOut(t *testing.T, r result, code int, want ...string) {
	t.Helper()
	if r.code != code {
		t.Errorf("exit code %d, want %d\nstdout:\n%s\nstderr:\n%s", r.code, code, r.stdout, r.stderr)
	}
	for _, w := range want {
		if !strings.Contains(r.stdout+r.stderr, w) {
			t.Errorf("output does not contain %q\nstdout:\n%s\nstderr:\n%s", w, r.stdout, r.stderr)
		}
	}
}

func TestWeaveTestPasses(t *testing.T) {
	r := weaveTest(t, "testdata/weavetest")
	wantOut(t, r, 0,
		"--- PASS: refunds are dropped and cents derived",
		"--- PASS: an amount too large for cents is dead-lettered",
		"--- PASS: a malformed input line is dead-lettered by the source",
		"--- PASS: zero is not a refund",
		"ok  \ttestdata/weavetest/orders.test.yaml",
		"ok  \ttestdata/weavetest/sub/more.test.yaml",
		"PASS: 4 tests (2 files)")
	if r.stderr != "" {
		t.Errorf("stderr not empty:\n%s", r.stderr)
	}
}

func TestWeaveTestRunFilter(t *testing.T) {
	r := weaveTest(t, "--run", "dead-lettered$", "testdata/weavetest")
	wantOut(t, r, 0, "--- PASS: an amount too large for cents is dead-lettered", "PASS: 1 test (1 file)")
	if strings.Contains(r.stdout, "zero is not a refund") {
		t.Errorf("--run did not filter:\n%s", r.stdout)
	}
}

func TestWeaveTestWrongValue(t *testing.T) {
	f := filepath.Join("testdata", "weavetest-fail", "wrong_value.test.yaml")
	r := weaveTest(t, f)
	wantOut(t, r, 1,
		"--- FAIL: cents off by one",
		f+":10: step cents: rows differ (2 expected, 2 got):",
		"row 2 ("+f+":13), column amount_cents: expected 51, got 50",
		`expected: {id: 3, country: "FR", amount: 0.5, amount_cents: 51}`,
		`got:      {id: 3, country: "FR", amount: 0.5, amount_cents: 50}`,
		"FAIL\t"+f,
		"weave: 1 of 1 test failed (1 file)")
	if strings.Contains(r.stdout, "row 1 (") {
		t.Errorf("the matching row 1 is reported:\n%s", r.stdout)
	}
}

// TestWeaveTestSchemaMismatch: a schema difference is reported, naming the
// column and both types, and the rows are then not compared.
func TestWeaveTestSchemaMismatch(t *testing.T) {
	f := filepath.Join("testdata", "weavetest-fail", "schema.test.yaml")
	r := weaveTest(t, f)
	wantOut(t, r, 1,
		f+":9: step cents: schema differs (rows not compared):",
		"column amount_cents: expected type float64, got int64")
	if n := strings.Count(r.stdout, "step cents:"); n != 1 {
		t.Errorf("rows compared after a schema mismatch (%d reports on step cents):\n%s", n, r.stdout)
	}
}

func TestWeaveTestDeadLetterMismatch(t *testing.T) {
	f := filepath.Join("testdata", "weavetest-fail", "dead_letters.test.yaml")
	r := weaveTest(t, f)
	wantOut(t, r, 1,
		"dead letters differ (1 expected, 1 got)",
		"not found ("+f+":10): step: cents, error containing \"does not fit\", row: {id: 1}",
		`not expected: step cents: "amount: 1e+300 × 100 does not fit in int64": {"id":2,"country":null,"amount":1e+300}`)
}

// TestWeaveTestFailedDirectory: a directory with failing files fails as a
// whole, each file reported, and exits 1.
func TestWeaveTestFailedDirectory(t *testing.T) {
	r := weaveTest(t, "testdata/weavetest-fail", "testdata/weavetest")
	wantOut(t, r, 1, "PASS: zero is not a refund", "weave: 3 of 7 tests failed (5 files)")
}

func TestWeaveTestInvalid(t *testing.T) {
	pipeline, err := filepath.Abs("testdata/weavetest/orders.yaml")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, text string
		want       []string
	}{
		{"unknown key", "pipeline: " + pipeline + "\ntests:\n  - name: x\n    input: {rows: []}\n    expekt: []\n",
			[]string{"x.test.yaml:5:5: tests[0].expekt: unknown field (did you mean \"expect\"?)"}},
		{"unknown step", "pipeline: " + pipeline + "\nenv: {WASM: ../../transforms/c}\ntests:\n  - name: x\n    input: {rows: []}\n    expect:\n      - {step: centz, count: 0}\n",
			[]string{"x.test.yaml:7:16: tests[0].expect[0].step: pipeline \"orders\" has no step \"centz\" (did you mean \"cents\"?)"}},
		{"missing pipeline", "pipeline: nope.yaml\ntests:\n  - {name: x, input: {rows: []}, error: boom}\n",
			[]string{"pipeline ", "nope.yaml: no such file or directory"}},
		{"bad expected schema", "pipeline: " + pipeline + "\nenv: {WASM: ../../transforms/c}\ntests:\n  - name: x\n    input: {rows: []}\n    expect:\n      - step: cents\n        schema: {id: int65}\n",
			[]string{"x.test.yaml:8:17: tests[0].expect[0].schema: line 8: column \"id\": invalid type \"int65\""}},
		{"bad module", "pipeline: " + pipeline + "\nenv: {WASM: /nonexistent}\ntests:\n  - {name: x, input: {rows: []}, error: boom}\n",
			[]string{"[setup failed]", "/nonexistent/filter/filter.wasm: no such file or directory"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := writeFile(t, "x.test.yaml", tt.text)
			r := weaveTest(t, path)
			wantOut(t, r, 2, append(tt.want, "[setup failed]", "weave: invalid configuration: 1 test file could not run")...)
		})
	}
}

// TestWeaveTestNoSchema: inline rows need a schema, from the test or the
// pipeline's source; the message says which source declares none.
func TestWeaveTestNoSchema(t *testing.T) {
	dir := t.TempDir()
	for name, text := range map[string]string{
		"p.yaml":      "source:\n  file: in.jsonl\nsinks:\n  - discard\n",
		"p.test.yaml": "tests:\n  - name: x\n    input:\n      rows: [{id: 1}]\n    expect: [{step: \"sinks[0].discard\", count: 1}]\n",
	} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	r := weaveTest(t, dir)
	wantOut(t, r, 2, "p.test.yaml:4:7: tests[0].input: rows need a schema: (the pipeline's source source.file declares none)")
}

func TestWeaveTestNoFiles(t *testing.T) {
	r := weaveTest(t, t.TempDir())
	wantOut(t, r, 2, "no test files (*.test.yaml) in")
}
