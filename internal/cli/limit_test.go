package cli_test

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/dataweaver/dataweaver/engine"
	_ "github.com/dataweaver/dataweaver/format/parquet" // the Parquet case
	"github.com/dataweaver/dataweaver/internal/cli"
)

// readIDs returns the id of every row in the JSON Lines parts of dir, in
// part order.
func readIDs(t *testing.T, dir string) []int64 {
	t.Helper()
	parts, err := filepath.Glob(filepath.Join(dir, "*.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(parts)
	var ids []int64
	for _, p := range parts {
		f, err := os.Open(p)
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			var row struct{ ID int64 }
			if err := json.Unmarshal(sc.Bytes(), &row); err != nil {
				t.Fatalf("%s: %v: %s", p, err, sc.Bytes())
			}
			ids = append(ids, row.ID)
		}
		f.Close()
	}
	return ids
}

// wantIDs fails unless ids, sorted, are exactly first..last-1, each once.
func wantIDs(t *testing.T, ids []int64, want []int64) {
	t.Helper()
	got := slices.Clone(ids)
	slices.Sort(got)
	if !slices.Equal(got, want) {
		t.Fatalf("%d rows written, want %d; ids %v", len(got), len(want), summarize(got))
	}
}

func summarize(ids []int64) string {
	if len(ids) <= 12 {
		return fmt.Sprint(ids)
	}
	return fmt.Sprintf("%v … %v", ids[:6], ids[len(ids)-6:])
}

func span(from, to int64, except ...int64) []int64 {
	var s []int64
	for i := from; i < to; i++ {
		if !slices.Contains(except, i) {
			s = append(s, i)
		}
	}
	return s
}

// TestLimitResume runs a 1,000-row input three times, twice with
// --limit 450 and then without: the first run writes exactly rows 0-449,
// the second 450-899, the last the remaining 100, no row twice and none
// lost. The batches hold 300 rows, so each limit cuts a batch in the
// middle and the saved position must lie inside it.
func TestLimitResume(t *testing.T) {
	in := t.TempDir()
	// Two malformed rows (ids 400 and 500) sit in the batch the first
	// limit cuts, one before and one after the cut: a resumed run must
	// neither reject them again nor lose the rows around them.
	var lines strings.Builder
	for i := 0; i < 1000; i++ {
		if i == 400 || i == 500 {
			fmt.Fprintf(&lines, "{\"id\": %d, \"name\": broken\n", i)
			continue
		}
		fmt.Fprintf(&lines, "{\"id\": %d, \"name\": \"n%d\"}\n", i, i)
	}
	if err := os.WriteFile(filepath.Join(in, "in.jsonl"), []byte(lines.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	// A Parquet file of the same 1,000 generated orders, in one row group:
	// the position saved is a row inside it ("row group 0, row 450").
	pq := filepath.Join(in, "orders.parquet")
	mk := writeFile(t, "mk.yaml", fmt.Sprintf("name: mk\nbatch: {rows: 300}\nsource: {generate: {preset: orders, rows: 1000, seed: 7}}\n"+
		"sinks: [{file: {path: %q}}]\n", pq))
	if r := run(t, cli.Options{Env: engine.DefaultEnvironment()}, "run", mk); r.code != 0 {
		t.Fatalf("making the Parquet input: exit %d:\n%s", r.code, r.stderr)
	}
	for _, tc := range []struct {
		name, source string
		first        int64   // id of the first row
		skipped      []int64 // ids the source rejects
	}{
		{"file", fmt.Sprintf("file: {path: %q, schema: {id: int64, name: utf8}}", filepath.Join(in, "in.jsonl")), 0, []int64{400, 500}},
		{"generate", "generate: {preset: orders, rows: 1000, seed: 7}", 1, nil},
		{"parquet", fmt.Sprintf("file: %q", pq), 1, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := t.TempDir()
			path := writeFile(t, "p.yaml", fmt.Sprintf("name: lim\nsource:\n  %s\nsinks:\n  - file: {path: %q, format: jsonl}\n"+
				"batch: {rows: 300}\non_error: skip\n", tc.source, out+"/"))
			opts := cli.Options{Env: engine.DefaultEnvironment()}
			skipped := 0
			for i, step := range []struct {
				args    []string
				upTo    int64
				limited bool
			}{
				{[]string{"--limit", "450"}, 450, true},
				{[]string{"--limit", "450"}, 900, true},
				{nil, 1000, false},
			} {
				r := run(t, opts, append(append([]string{"run"}, step.args...), path)...)
				if r.code != 0 {
					t.Fatalf("run %d: exit %d:\n%s", i+1, r.code, r.stderr)
				}
				skipped += strings.Count(r.stderr, `msg="skipped row"`)
				if got := strings.Contains(r.stderr, "stopped after the limit of 450 rows\n"); got != step.limited {
					t.Errorf("run %d: says it stopped at the limit: %v, want %v:\n%s", i+1, got, step.limited, r.stderr)
				}
				var except []int64
				for _, s := range tc.skipped {
					if s < step.upTo+int64(len(except)) {
						except = append(except, s)
					}
				}
				// The limit counts rows delivered: rejected ones come on top.
				wantIDs(t, readIDs(t, out), span(tc.first, tc.first+min(step.upTo+int64(len(except)), 1000), except...))
			}
			if skipped != len(tc.skipped) {
				t.Errorf("%d rows rejected over the three runs, want %d (each once)", skipped, len(tc.skipped))
			}
		})
	}
}

// TestLimitUncappedSource limits a source that cannot cut its batches
// (the test counter, two rows a batch): the engine cuts the last one, so
// exactly the limit reaches the sink, and warns that its position is
// before that batch.
func TestLimitUncappedSource(t *testing.T) {
	path := writeFile(t, "p.yaml", "source: {counter: {batches: 10}}\nsinks: [collect]\n")
	r := run(t, cli.Options{}, "run", "--limit", "5", path)
	if r.code != 0 {
		t.Fatalf("exit %d:\n%s", r.code, r.stderr)
	}
	if got := rowsIn(r.stderr, "sinks[0].collect"); got != "5" {
		t.Errorf("sink got %q rows, want 5:\n%s", got, r.stderr)
	}
	if !strings.Contains(r.stderr, "cannot stop inside a batch") || !strings.Contains(r.stderr, "stopped after the limit of 5 rows") {
		t.Errorf("no warning about the cut batch or no limit line:\n%s", r.stderr)
	}
}

func TestLimitUsage(t *testing.T) {
	path := writeFile(t, "p.yaml", "source: {counter: {batches: 1}}\nsinks: [collect]\n")
	if r := run(t, cli.Options{}, "run", "--limit", "-1", path); r.code != 2 || !strings.Contains(r.stderr, "--limit -1") {
		t.Errorf("exit %d, want 2 naming --limit:\n%s", r.code, r.stderr)
	}
}
