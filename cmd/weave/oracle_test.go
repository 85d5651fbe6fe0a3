package main

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/dataweaver/dataweaver/internal/cli"
)

// The golden files hold what the summary printed; these checks tie its
// counts to something the summary code did not compute: the rows in the
// files the run wrote, the "skipped row" warnings, the input's own size.
// A wrong count in the table would otherwise be frozen into the golden
// file by -update.

// summaryStep is one line of the text table.
type summaryStep struct {
	name, kind                                      string
	rowsIn, rowsOut, skipped, deadLettered, batches int64
}

var summaryLine = regexp.MustCompile(`(?m)^ *(\S+) +(source|stage|sink) +([\d,]+) +([\d,]+) +([\d,]+) +([\d,]+) +([\d,]+)(?: +.*)?$`)

func parseTable(stderr string) []summaryStep {
	var steps []summaryStep
	for _, m := range summaryLine.FindAllStringSubmatch(stderr, -1) {
		n := make([]int64, 5)
		for i := range n {
			n[i], _ = strconv.ParseInt(strings.ReplaceAll(m[3+i], ",", ""), 10, 64)
		}
		steps = append(steps, summaryStep{m[1], m[2], n[0], n[1], n[2], n[3], n[4]})
	}
	return steps
}

// outputRows counts the rows of an output file as the golden test renders
// it: JSON objects one a line (JSON Lines, and binary formats dumped so),
// CSV records after the header.
func outputRows(name string, content []byte) int64 {
	if strings.HasSuffix(name, ".csv") {
		recs, _ := csv.NewReader(bytes.NewReader(content)).ReadAll()
		return int64(max(len(recs)-1, 0))
	}
	var n int64
	for _, l := range strings.Split(string(content), "\n") {
		if strings.HasPrefix(l, "{") {
			n++
		}
	}
	return n
}

// checkSummaryOracle checks a finished run's table against its outputs.
func checkSummaryOracle(t *testing.T, res goldenResult) {
	t.Helper()
	steps := parseTable(res.stderr)
	if len(steps) == 0 {
		return // validate, usage errors: no run
	}
	src := steps[0]
	if src.kind != "source" {
		t.Fatalf("first step %q is a %s, want the source", src.name, src.kind)
	}
	var skipped, dead int64
	for _, s := range steps {
		skipped += s.skipped
		dead += s.deadLettered
	}
	if warned := int64(strings.Count(res.stderr, `msg="skipped row"`)); warned != skipped {
		t.Errorf("the table counts %d skipped rows, the log warned of %d", skipped, warned)
	}
	if skipped > 0 && !strings.Contains(res.stderr, "level=WARN msg=\""+strconv.FormatInt(skipped, 10)+" rows skipped (") {
		t.Errorf("no closing warning for %d skipped rows:\n%s", skipped, res.stderr)
	}
	if res.code != 0 {
		return // a failed run's counts stop at the failing row, its outputs are removed or partial
	}
	if got := src.rowsOut + src.skipped + src.deadLettered; got != src.rowsIn {
		t.Errorf("source: %d rows in, but out + skipped + dead-lettered = %d", src.rowsIn, got)
	}
	for name, content := range res.files {
		rows := outputRows(name, content)
		if strings.HasPrefix(filepath.Base(name), "rejected") {
			if rows != dead {
				t.Errorf("%s holds %d rows, the table counts %d dead-lettered", name, rows, dead)
			}
			continue
		}
		// Every sink gets every row; some sink of the table must have
		// written this many.
		found := false
		for _, s := range steps {
			if s.kind == "sink" && s.name != "dead_letter" && s.rowsIn == rows {
				found = true
			}
		}
		if !found {
			t.Errorf("%s holds %d rows; no sink of the table has that many rows in:\n%s", name, rows, res.stderr)
		}
	}
}

// TestSummaryJSON runs the skip policy over testdata/orders.csv with
// --log-format json and checks the summary object against the input
// (read here with encoding/csv, not our reader) and the output file.
func TestSummaryJSON(t *testing.T) {
	t.Chdir(filepath.Join("..", ".."))
	const input = "testdata/orders.csv"
	raw, err := os.ReadFile(input)
	if err != nil {
		t.Fatal(err)
	}
	// Rows whose field count differs from the header's are the malformed
	// ones the skip policy drops.
	cr := csv.NewReader(bytes.NewReader(raw))
	cr.FieldsPerRecord = -1
	recs, err := cr.ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	var rows, bad int64
	for _, r := range recs[1:] {
		rows++
		if len(r) != len(recs[0]) {
			bad++
		}
	}
	out := t.TempDir()
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	var stdout, stderr bytes.Buffer
	code := cli.Main([]string{"weave", "--log-format", "json", "run", "testdata/pipelines/policy.yaml"}, cli.Options{
		Stdout: &stdout, Stderr: &stderr, Mem: mem, Signals: make(chan os.Signal),
		Lookup: func(k string) (string, bool) {
			v, ok := map[string]string{"OUT": out, "POLICY": "skip"}[k]
			return v, ok
		},
	})
	mem.AssertSize(t, 0)
	if code != 0 {
		t.Fatalf("exit %d:\n%s", code, stderr.String())
	}
	written, err := os.ReadFile(filepath.Join(out, "orders.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	var summary struct {
		Msg   string `json:"msg"`
		Steps []struct {
			Name    string `json:"name"`
			Kind    string `json:"kind"`
			RowsIn  int64  `json:"rows_in"`
			RowsOut int64  `json:"rows_out"`
			Skipped int64  `json:"skipped"`
			Bytes   int64  `json:"bytes"`
		} `json:"steps"`
		Skipped  int64  `json:"skipped"`
		Exit     string `json:"exit"`
		ExitCode int    `json:"exit_code"`
	}
	var warn map[string]any
	records := 0
	sc := bufio.NewScanner(&stderr)
	for sc.Scan() {
		records++
		var rec map[string]any
		if err := json.Unmarshal(sc.Bytes(), &rec); err != nil {
			t.Fatalf("stderr line %d is not JSON (%v): %s", records, err, sc.Bytes())
		}
		switch {
		case rec["msg"] == "run summary":
			if err := json.Unmarshal(sc.Bytes(), &summary); err != nil {
				t.Fatal(err)
			}
		case rec["level"] == "WARN" && rec["skipped"] != nil:
			warn = rec
		}
	}
	if summary.Msg == "" {
		t.Fatalf("no run summary on stderr:\n%s", stderr.String())
	}
	byName := map[string]int{}
	for i, s := range summary.Steps {
		byName[s.Name] = i
	}
	src := summary.Steps[byName["source.file"]]
	sink := summary.Steps[byName["sinks[0].file"]]
	jsonlRows := int64(bytes.Count(written, []byte("\n")))
	for _, c := range []struct {
		what      string
		got, want int64
	}{
		{"source rows_in (CSV data rows)", src.RowsIn, rows},
		{"source skipped (malformed rows)", src.Skipped, bad},
		{"summary skipped", summary.Skipped, bad},
		{"source bytes (file size)", src.Bytes, int64(len(raw))},
		{"sink rows_in (lines written)", sink.RowsIn, jsonlRows},
		{"source rows_out", src.RowsOut, rows - bad},
	} {
		if c.got != c.want {
			t.Errorf("%s = %d, want %d", c.what, c.got, c.want)
		}
	}
	if summary.Exit != "end of input" || summary.ExitCode != 0 {
		t.Errorf("exit %q (%d), want end of input (0)", summary.Exit, summary.ExitCode)
	}
	if warn == nil || warn["skipped"] != float64(bad) || !strings.Contains(warn["skipped_by"].(string), "source.file") {
		t.Errorf("closing warning %v, want skipped=%d naming source.file", warn, bad)
	}
	if stdout.Len() != 0 {
		t.Errorf("stdout is the sinks', but the run wrote %q", stdout.String())
	}
}

// jsonlIDs returns the "id" of each line of a JSON Lines file.
func jsonlIDs(t *testing.T, path string) []string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, l := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		var row struct{ ID json.Number }
		if err := json.Unmarshal([]byte(l), &row); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		ids = append(ids, row.ID.String())
	}
	return ids
}

// sampleIDs returns the first column of each row of step's table in the
// output of validate --sample.
func sampleIDs(stdout, step string) []string {
	_, rest, ok := strings.Cut(stdout, "\n"+step+": ")
	if !ok {
		if !strings.HasPrefix(stdout, step+": ") {
			return nil
		}
		rest = strings.TrimPrefix(stdout, step+": ")
	}
	lines := strings.Split(rest, "\n")[2:] // the count line, the header
	var ids []string
	for _, l := range lines {
		f := strings.Fields(l)
		if !strings.HasPrefix(l, "  ") || len(f) == 0 || f[0] == "rejected:" {
			break
		}
		ids = append(ids, f[0])
	}
	return ids
}

// TestSampleAndLimitMatchRun ties the golden outputs of validate --sample
// and run --limit to the golden output of the full run of the same
// pipeline, a different code path: the rows a sample shows at the last
// stage, and the rows a limited run writes, are the first rows the full
// run wrote.
func TestSampleAndLimitMatchRun(t *testing.T) {
	t.Chdir(filepath.Join("..", ".."))
	golden := func(p string) string {
		b, err := os.ReadFile(filepath.Join("testdata", "golden", p))
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	for _, tc := range []struct {
		sample, run, last string
		n                 int
	}{
		{"validate_sample", "csv_to_jsonl", "stages[1].rename", 4},
		{"wasm_validate_sample", "wasm_orders", "stages[3].wasm", 9},
	} {
		full := jsonlIDs(t, filepath.Join("testdata", "golden", tc.run, "out", "orders.jsonl"))
		got := sampleIDs(golden(filepath.Join(tc.sample, "stdout")), tc.last)
		if len(got) != tc.n || !slices.Equal(got, full[:len(got)]) {
			t.Errorf("%s: %s shows ids %v, the full run's first are %v", tc.sample, tc.last, got, full[:tc.n])
		}
	}
	limited := jsonlIDs(t, filepath.Join("testdata", "golden", "limit", "out", "orders.jsonl"))
	full := jsonlIDs(t, filepath.Join("testdata", "golden", "csv_to_jsonl", "out", "orders.jsonl"))
	if len(limited) != 10 || !slices.Equal(limited, full[:10]) {
		t.Errorf("--limit 10 wrote ids %v, want the full run's first 10 %v", limited, full[:10])
	}
}
