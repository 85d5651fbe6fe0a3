package main

import (
	"bytes"
	"compress/gzip"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/dataweaver/dataweaver/format"
	"github.com/dataweaver/dataweaver/internal/cli"
	"github.com/dataweaver/dataweaver/internal/wasmtest"
)

var update = flag.Bool("update", false, "rewrite testdata/golden from this run's outputs")

// goldenCase is one `weave` invocation over a pipeline in
// testdata/pipelines. Its expected stdout, stderr and output files live in
// testdata/golden/<name>/ (paths relative to the repository root, where the
// test runs so that messages read as they do after `make demo`).
type goldenCase struct {
	name string
	args []string          // after "weave"
	vars map[string]string // ${VAR} values besides OUT and IN
	code int               // exit code
	// in names an earlier case whose output directory this one reads as ${IN}.
	in string
	// racySummary: the run fails part-way while the source reads ahead, so
	// how many batches each step saw before the failure stopped it depends
	// on timing; the summary table is left out of the comparison (the
	// error line and the outputs are still compared).
	racySummary bool
}

var goldenCases = []goldenCase{
	// demo.yaml is what `make demo` runs: fan-out to Parquet and JSON Lines, rejects to a dead-letter file.
	{name: "demo", args: []string{"run", "testdata/pipelines/demo.yaml"}},
	{name: "validate_demo", args: []string{"validate", "testdata/pipelines/demo.yaml"}},
	{name: "csv_to_jsonl", args: []string{"run", "testdata/pipelines/csv_to_jsonl.yaml"}},
	{name: "jsonl_to_csv", args: []string{"run", "testdata/pipelines/jsonl_to_csv.yaml"}},
	{name: "csv_to_parquet", args: []string{"run", "testdata/pipelines/csv_to_parquet.yaml"}},
	{name: "validate_csv_to_parquet", args: []string{"validate", "testdata/pipelines/csv_to_parquet.yaml"}},
	{name: "parquet_to_jsonl", args: []string{"run", "testdata/pipelines/parquet_to_jsonl.yaml"}, in: "csv_to_parquet"},
	{name: "arrow_to_jsonl", args: []string{"run", "testdata/pipelines/arrow_to_jsonl.yaml"}},
	{name: "avro_to_jsonl", args: []string{"run", "testdata/pipelines/avro_to_jsonl.yaml"}},
	{name: "glob", args: []string{"run", "testdata/pipelines/glob.yaml"}},
	{name: "gzip", args: []string{"run", "testdata/pipelines/gzip.yaml"}},
	{name: "fanout", args: []string{"run", "testdata/pipelines/fanout.yaml"}},
	{name: "policy_dead_letter", args: []string{"run", "testdata/pipelines/policy.yaml"}},
	{name: "policy_skip", args: []string{"run", "testdata/pipelines/policy.yaml"}, vars: map[string]string{"POLICY": "skip"}},
	// skip exits 0 (above), but past max_rejects the run fails: exit 1, the summary and the warning still say what was dropped.
	{name: "policy_skip_max_rejects", args: []string{"run", "testdata/pipelines/policy.yaml", "--set", "source.max_rejects=1"},
		vars: map[string]string{"POLICY": "skip"}, code: 1},
	// fail: exit 1, the message names testdata/orders.csv:19, and the atomic sinks leave no file.
	{name: "policy_fail", args: []string{"run", "testdata/pipelines/policy.yaml", "--set", "on_error=fail"}, code: 1},
	{name: "vars_default", args: []string{"run", "testdata/pipelines/vars.yaml"}},
	{name: "vars_env", args: []string{"run", "testdata/pipelines/vars.yaml"}, vars: map[string]string{"ROWS": "2", "STEM": "two"}},
	// --set is applied before ${VAR} substitution and wins over ROWS.
	{name: "vars_set", args: []string{"run", "testdata/pipelines/vars.yaml",
		"--set", "source.generate.rows=3", "--set", "stages[0].select.columns=[id, email]"}, vars: map[string]string{"ROWS": "9"}},
	{name: "validate_unknown_column", args: []string{"validate", "testdata/pipelines/csv_to_jsonl.yaml",
		"--set", "stages[0].select.columns=[id, nope]"}, code: 2},
	{name: "bad", args: []string{"run", "testdata/pipelines/bad.yaml"}, code: 2},
	// --limit: exactly 10 rows written (the source's first reader batch is cut), the summary says why it stopped.
	{name: "limit", args: []string{"run", "--limit", "10", "testdata/pipelines/csv_to_jsonl.yaml"}},
	// --sample: each step's rows, values cut to 12 characters, nothing written.
	{name: "validate_sample", args: []string{"validate", "--sample", "4", "--width", "12", "testdata/pipelines/csv_to_jsonl.yaml"}},
}

// TestGolden runs every pipeline in testdata/pipelines through the real
// CLI code path and compares what it prints and writes with
// testdata/golden. Run `go test ./cmd/weave -run TestGolden -update` to
// regenerate the golden files after an intended change, and read the diff.
func TestGolden(t *testing.T) {
	t.Chdir(filepath.Join("..", ".."))
	if _, err := os.Stat(filepath.Join("..", "shared", "data")); err != nil {
		abs, _ := filepath.Abs(filepath.Join("..", "shared", "data"))
		t.Fatalf("shared test data %s is missing (%v): the repository expects ../shared/data beside it", abs, err)
	}
	// Output directories outlive their subtest: a later case may read one as ${IN}.
	root := t.TempDir()
	outs := map[string]string{}
	outDir := func(t *testing.T, name string) string {
		if out, ok := outs[name]; ok {
			return out
		}
		out := filepath.Join(root, name)
		if err := os.Mkdir(out, 0o755); err != nil {
			t.Fatal(err)
		}
		outs[name] = out
		return out
	}
	byName := map[string]goldenCase{}
	covered := map[string]bool{}
	for _, tc := range goldenCases {
		byName[tc.name] = tc
		covered[tc.args[1]] = true
	}
	ran := map[string]bool{}
	for _, tc := range goldenCases {
		t.Run(tc.name, func(t *testing.T) {
			var in string
			if tc.in != "" {
				in = outDir(t, tc.in)
				if !ran[tc.in] { // filtered out by -run: make its outputs anyway
					if res := runGolden(t, byName[tc.in], in, ""); res.code != 0 {
						t.Fatalf("%s, whose outputs this case reads, exited %d:\n%s", tc.in, res.code, res.stderr)
					}
					ran[tc.in] = true
				}
			}
			res := runGolden(t, tc, outDir(t, tc.name), in)
			ran[tc.name] = true
			res.check(t, filepath.Join("testdata", "golden", tc.name))
			if !tc.racySummary {
				checkSummaryOracle(t, res)
			}
		})
	}
	// A pipeline nobody runs is a golden test nobody wrote.
	files, _ := filepath.Glob(filepath.Join("testdata", "pipelines", "*.yaml"))
	for _, f := range files {
		if covered[filepath.ToSlash(f)] {
			continue
		}
		if test, ok := runElsewhere[filepath.Base(f)]; ok {
			// Run by the package that starts its servers: that test file
			// must still name it.
			root, err := wasmtest.Root()
			if err != nil {
				t.Fatal(err)
			}
			if b, err := os.ReadFile(filepath.Join(root, test)); err != nil || !strings.Contains(string(b), filepath.Base(f)) {
				t.Errorf("%s: %s should run it but does not name it (%v)", f, test, err)
			}
			continue
		}
		t.Errorf("%s is not run by any golden case", f)
	}
}

// runElsewhere are the pipelines that sync servers (PostgreSQL, NATS,
// Kafka, an HTTP client), with the test that runs them against the real
// systems.
var runElsewhere = map[string]string{
	"postgres_mask_jetstream.yaml":  "connectors/internal/e2e/pipelines_test.go",
	"jetstream_to_kafka.yaml":       "connectors/internal/e2e/pipelines_test.go",
	"kafka_to_postgres_upsert.yaml": "connectors/internal/e2e/pipelines_test.go",
	"http_to_parquet.yaml":          "connectors/http/e2e_test.go",
	"wasm_explode.yaml":             "cmd/weave/explode_test.go", // checked against the input read with encoding/json
	"file_to_s3.yaml":               "connectors/s3/pipeline_test.go",
	"s3_to_file.yaml":               "connectors/s3/pipeline_test.go",

	"file_to_parts.yaml":                 "connectors/internal/e2e/kills_test.go",
	"file_to_postgres_exactly_once.yaml": "connectors/internal/e2e/kills_test.go",
	"file_to_postgres_upsert.yaml":       "connectors/internal/e2e/kills_test.go",
	"jetstream_to_postgres.yaml":         "connectors/internal/e2e/kills_test.go",
	"kafka_to_parts.yaml":                "connectors/internal/e2e/kills_test.go",

	"postgres_cdc_mirror.yaml":     "connectors/internal/e2e/cdc_test.go",
	"postgres_cdc_kafka_avro.yaml": "connectors/internal/e2e/chain_test.go",
	"kafka_avro_to_s3.yaml":        "connectors/internal/e2e/chain_test.go",

	"kafka_workers.yaml":     "connectors/internal/e2e/workers_test.go",
	"jetstream_workers.yaml": "connectors/internal/e2e/workers_test.go",
}

// goldenResult is what one invocation printed and wrote.
type goldenResult struct {
	code, want     int // exit code, and the case's expected one
	stdout, stderr string
	files          map[string][]byte // golden file name → content (outputs only)
}

// runGolden runs tc in-process with a checked allocator and OUT (an empty
// directory) and IN set, and checks that the run left no goroutine behind.
func runGolden(t *testing.T, tc goldenCase, out, in string) goldenResult {
	t.Helper()
	vars := map[string]string{"OUT": out}
	if in != "" {
		vars["IN"] = in
	}
	for k, v := range tc.vars {
		vars[k] = v
	}
	before := runtime.NumGoroutine()
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	var stdout, stderr bytes.Buffer
	code := cli.Main(append([]string{"weave"}, tc.args...), cli.Options{
		Stdout: &stdout, Stderr: &stderr, Mem: mem,
		Lookup: func(k string) (string, bool) {
			v, ok := vars[k]
			return v, ok
		},
		Signals: make(chan os.Signal), // never fires; keeps signal.Notify out of the test process
	})
	mem.AssertSize(t, 0)
	checkGoroutines(t, before)

	res := goldenResult{code: code, want: tc.code, files: map[string][]byte{}}
	norm := func(s string) string {
		s = strings.ReplaceAll(s, out, "${OUT}")
		if in != "" {
			s = strings.ReplaceAll(s, in, "${IN}")
		}
		s = slogTime.ReplaceAllString(s, "")
		if tc.racySummary {
			s = summaryTable.ReplaceAllString(s, "(summary not compared: it depends on timing)\n")
		}
		return wallTime.ReplaceAllString(s, "wall time (not compared)")
	}
	res.stdout, res.stderr = norm(stdout.String()), norm(stderr.String())
	err := filepath.WalkDir(out, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(out, path)
		name, content, err := render(path)
		if err != nil {
			return fmt.Errorf("%s: %w", rel, err)
		}
		res.files[filepath.Join(filepath.Dir(rel), name)] = content
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return res
}

var (
	slogTime = regexp.MustCompile(`(?m)^time=\S+ `)
	wallTime = regexp.MustCompile(`(?m)^wall time .*$`)
	// summaryTable is the per-step table: its header and one line a step.
	summaryTable = regexp.MustCompile(`(?m)^ *step +kind +rows in.*\n(?: *\S+ +(?:source|stage|sink) .*\n)*`)
)

// render returns an output file as its golden file holds it: text formats
// byte for byte under their own name; gzip decompressed, and binary formats
// read back with their format package as schema plus one JSON object per
// row (arrow-go's encoder, not ours), under name + ".txt".
func render(path string) (name string, content []byte, err error) {
	base := filepath.Base(path)
	data, err := os.ReadFile(path)
	if err != nil {
		return "", nil, err
	}
	if strings.HasSuffix(base, ".gz") {
		zr, err := gzip.NewReader(bytes.NewReader(data))
		if err != nil {
			return "", nil, err
		}
		text, err := io.ReadAll(zr)
		return base + ".txt", text, err
	}
	switch filepath.Ext(base) {
	case ".csv", ".jsonl", ".json", ".txt":
		return base, data, nil
	}
	f, err := format.ForPath(base)
	if err != nil {
		return "", nil, err
	}
	text, err := dumpRecords(f, base, data)
	return base + ".txt", text, err
}

// dumpRecords decodes a binary file with its format's reader. Batch
// boundaries are left out: they are the writer's business, the values are
// what must survive.
func dumpRecords(f *format.Format, name string, data []byte) ([]byte, error) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	r, err := f.NewReader(format.Input{R: bytes.NewReader(data), RA: bytes.NewReader(data), Size: int64(len(data)), Name: name},
		format.ReadOptions{Mem: mem})
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, "%s\n", r.Schema())
	for {
		rec, rejects, err := r.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err == nil && len(rejects) > 0 {
			err = &rejects[0]
		}
		if err != nil {
			r.Close()
			return nil, err
		}
		err = array.RecordToJSON(rec, &b)
		rec.Release()
		if err != nil {
			r.Close()
			return nil, err
		}
	}
	if err := r.Close(); err != nil {
		return nil, err
	}
	if n := mem.CurrentAlloc(); n != 0 {
		return nil, fmt.Errorf("%s reader leaked %d bytes", f.Name, n)
	}
	return b.Bytes(), nil
}

// check compares res with the golden directory dir, or rewrites it under -update.
func (res goldenResult) check(t *testing.T, dir string) {
	t.Helper()
	if res.code != res.want {
		t.Errorf("exit code %d, want %d; stderr:\n%s", res.code, res.want, res.stderr)
	}
	got := map[string][]byte{"stdout": []byte(res.stdout), "stderr": []byte(res.stderr)}
	for name, content := range res.files {
		got[filepath.Join("out", name)] = content
	}
	if *update {
		if err := os.RemoveAll(dir); err != nil {
			t.Fatal(err)
		}
		for name, content := range got {
			p := filepath.Join(dir, name)
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(p, content, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		return
	}
	want := map[string][]byte{}
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dir, path)
		want[rel], err = os.ReadFile(path)
		return err
	})
	if err != nil {
		t.Fatalf("%v (run with -update to create the golden files)", err)
	}
	for _, name := range sortedKeys(want) {
		g, ok := got[name]
		switch {
		case !ok:
			t.Errorf("%s: the run did not write it", name)
		case !bytes.Equal(g, want[name]):
			t.Errorf("%s differs from %s:\n%s", name, filepath.Join(dir, name), lineDiff(string(want[name]), string(g)))
		}
	}
	for _, name := range sortedKeys(got) {
		if _, ok := want[name]; !ok {
			t.Errorf("%s: unexpected output (not in %s); first lines:\n%s", name, dir, head(string(got[name]), 5))
		}
	}
}

// lineDiff shows the first line where want and got part, with a little context.
func lineDiff(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	for i := 0; i < max(len(w), len(g)); i++ {
		var wl, gl string
		if i < len(w) {
			wl = w[i]
		}
		if i < len(g) {
			gl = g[i]
		}
		if wl != gl || i >= len(w) || i >= len(g) {
			return fmt.Sprintf("line %d:\n  want: %q\n  got:  %q\n(want %d lines, got %d)", i+1, wl, gl, len(w), len(g))
		}
	}
	return "(same lines, different bytes)"
}

func head(s string, n int) string {
	lines := strings.SplitAfter(s, "\n")
	return strings.Join(lines[:min(n, len(lines))], "")
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// checkGoroutines fails the test when goroutines started by the run are
// still alive a few seconds after it returned.
func checkGoroutines(t *testing.T, before int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > before {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			buf = buf[:runtime.Stack(buf, true)]
			t.Errorf("%d goroutines after the run, %d before:\n%s", runtime.NumGoroutine(), before, buf)
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
}
