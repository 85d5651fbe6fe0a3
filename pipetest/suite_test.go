package pipetest

import (
	"errors"
	"strconv"
	"strings"
	"testing"

	"github.com/dataweaver/dataweaver/engine"
)

// TestParseSuite: every problem of a test file is reported with its file,
// line and key, all at once.
func TestParseSuite(t *testing.T) {
	tests := []struct {
		name string
		text string
		want []string // each a whole problem line; none: the file is valid
	}{
		{name: "valid", text: `
tests:
  - name: ok
    input: {rows: [{id: 1}]}
    expect:
      - {step: s, rows: [{id: 1}], unordered: true, count: 1}
    dead_letters: []
`},
		{name: "valid file input and error only", text: `
pipeline: other.yaml
env: {A: b}
set: [batch.rows=2]
tests:
  - name: ok
    input: {file: {path: in.csv, csv: {delimiter: ";"}}}
    error: boom
`},
		{name: "empty", text: "", want: []string{"t.test.yaml: empty test file: it needs tests:"}},
		{name: "not YAML", text: "tests: [", want: []string{"t.test.yaml:1: YAML syntax: did not find expected node content"}},
		{name: "unquoted step with brackets", text: "tests:\n  - name: x\n    input: {rows: []}\n    expect: [{step: sinks[0].file, count: 0}]\n",
			want: []string{`t.test.yaml:3: YAML syntax: did not find expected ',' or '}' (line 4: quote a step name with brackets inside {…}: {step: "sinks[0].file"})`}},
		{name: "two documents", text: "tests: []\n---\nx: 1\n", want: []string{"t.test.yaml:2:1: a pipeline file holds one YAML document; remove the second \"---\" and what follows"}},
		{name: "unknown top key", text: "test:\n  - name: x\n", want: []string{
			"t.test.yaml:1:1: test: unknown field (did you mean \"tests\"?)",
			"t.test.yaml:1:1: tests: missing required field (any)"}},
		{name: "tests not a list", text: "tests: {name: x}\n", want: []string{"t.test.yaml:1:8: tests: expected a list of tests"}},
		{name: "no tests", text: "tests: []\n", want: []string{"t.test.yaml:1:8: tests: no tests: give a list of {name, input, expect}"}},
		{name: "case problems", text: `tests:
  - name: ""
    input: {rows: [], file: x.csv}
    expect: {step: s}
  - name: b
    input: {}
    expekt: []
  - name: c
    input: {file: x.csv, schema: {a: int64}}
    dead_letters: [{stepp: x}]
`, want: []string{
			"t.test.yaml:2:11: tests[0].name: must not be empty",
			"t.test.yaml:3:12: tests[0].input: give either rows: or file:",
			"t.test.yaml:4:13: tests[0].expect: expected a list of {step, rows} mappings",
			"t.test.yaml:6:12: tests[1].input: give either rows: or file:",
			"t.test.yaml:7:5: tests[1].expekt: unknown field (did you mean \"expect\"?)",
			"t.test.yaml:9:34: tests[2].input.schema: goes inside file: (file: {path: …, schema: …}) for a file input",
			"t.test.yaml:10:21: tests[2].dead_letters[0].stepp: unknown field (did you mean \"step\"?)",
		}},
		{name: "expectation problems", text: `tests:
  - name: a
    input: {rows: []}
    expect:
      - {step: s}
      - {step: s, count: -1}
      - {step: s, rows: {id: 1}}
      - {rows: []}
`, want: []string{
			"t.test.yaml:5:9: tests[0].expect[0]: checks nothing: give rows:, schema: or count:",
			"t.test.yaml:6:26: tests[0].expect[1].count: must not be negative",
			"t.test.yaml:7:25: tests[0].expect[2].rows: expected a list of rows (mappings of column to value)",
			"t.test.yaml:8:9: tests[0].expect[3].step: missing required field (string)",
		}},
		{name: "checks nothing", text: "tests:\n  - {name: a, input: {rows: []}}\n",
			want: []string{"t.test.yaml:2:5: tests[0]: the test checks nothing: give expect:, dead_letters: or error:"}},
		{name: "duplicate names", text: "tests:\n  - {name: a, input: {rows: []}, error: x}\n  - {name: a, input: {rows: []}, error: y}\n",
			want: []string{"t.test.yaml:3:5: tests[1].name: test \"a\" is already defined at line 2: names must be unique"}},
		{name: "alias bomb", text: laughs(9), want: []string{"YAML aliases expand to more than 100000 values"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := ParseSuite([]byte(tt.text), "t.test.yaml")
			if len(tt.want) == 0 {
				if err != nil {
					t.Fatalf("unexpected error:\n%v", err)
				}
				if len(s.Tests) == 0 {
					t.Fatal("no tests parsed")
				}
				return
			}
			if err == nil {
				t.Fatalf("no error, want:\n%s", strings.Join(tt.want, "\n"))
			}
			if !errors.Is(err, engine.ErrInvalidConfig) {
				t.Errorf("error does not wrap ErrInvalidConfig: %v", err)
			}
			got := strings.Split(err.Error(), "\n")
			if len(tt.want) == 1 && strings.HasPrefix(tt.name, "alias") {
				if !strings.Contains(err.Error(), tt.want[0]) {
					t.Errorf("got:\n%v\nwant it to contain %q", err, tt.want[0])
				}
				return
			}
			if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Errorf("got:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
		})
	}
}

// laughs is the "billion laughs" document: n levels of nine aliases.
func laughs(n int) string {
	var b strings.Builder
	b.WriteString("a0: &a0 [x]\n")
	for i := 1; i <= n; i++ {
		b.WriteString("a" + itoa(i) + ": &a" + itoa(i) + " [")
		for j := 0; j < 9; j++ {
			if j > 0 {
				b.WriteString(", ")
			}
			b.WriteString("*a" + itoa(i-1))
		}
		b.WriteString("]\n")
	}
	b.WriteString("tests: *a" + itoa(n) + "\n")
	return b.String()
}

func itoa(i int) string { return strconv.Itoa(i) }

func TestDefaultPipeline(t *testing.T) {
	for in, want := range map[string]string{
		"orders.test.yaml":      "orders.yaml",
		"dir/orders.test.yaml":  "dir/orders.yaml",
		"orders.yaml":           "",
		"orders.tests.yaml":     "",
		"a.b.test.yaml":         "a.b.yaml",
		"/abs/path/x.test.yaml": "/abs/path/x.yaml",
	} {
		if got := defaultPipeline(in); got != want {
			t.Errorf("defaultPipeline(%q) = %q, want %q", in, got, want)
		}
	}
}
