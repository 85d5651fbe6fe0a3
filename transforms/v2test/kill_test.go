package v2test

import (
	"bufio"
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/dataweaver/dataweaver/internal/crashtest"
	"github.com/dataweaver/dataweaver/internal/wasmtest"
)

func TestMain(m *testing.M) {
	code := m.Run()
	crashtest.Cleanup()
	os.Exit(code)
}

// windowsPipeline: orders in event-time order from a JSON Lines file,
// through window_agg (count, sum, avg of amount per country per minute
// of ts), into a directory of part files, resumable.
const windowsPipeline = `name: windows
source:
  file:
    path: ${IN}/*.jsonl
    schema:
      country: utf8
      amount: float64
      ts: timestamp[us, UTC]
stages:
  - wasm:
      path: ${WASM}
      config: {key: country, value: amount, time: ts, seconds: 60}
    name: windows
sinks:
  - file: {path: "${OUT}/", format: jsonl}
checkpoint_every: 200ms
batch: {rows: 1000}
`

// partLines returns the lines of the published part files in dir.
func partLines(t testing.TB, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	for _, e := range entries {
		if !strings.HasPrefix(e.Name(), "part-") {
			continue // .part-… is being written
		}
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(strings.NewReader(string(b)))
		for sc.Scan() {
			lines = append(lines, sc.Text())
		}
	}
	slices.Sort(lines)
	return lines
}

// TestWindowAggKilled: a real weave running window_agg is killed with
// SIGKILL while windows are open (after a random number of aggregates is
// published), then run again over the state directory it left: the
// aggregates the two runs published together equal, line for line, what
// a clean run publishes. The stage's open window is saved with each
// checkpoint's source position and restored on the rerun; without that
// the window open at the kill would lose the rows read before it, or
// count the rows read again after it twice.
//
// It takes about 40 s (a clean run and a killed one, each checkpointing
// every 20 rows, and building weave), so it runs in the crash suite.
func TestWindowAggKilled(t *testing.T) {
	crashtest.Suite(t)
	windowsKilled(t, windowsPipeline)
}

// keyedPipeline is windowsPipeline on 2 workers, keyed by country.
var keyedPipeline = strings.Replace(windowsPipeline, "    name: windows\n", "      key: [country]\n    name: windows\n    workers: 2\n", 1)

// TestWindowAggKeyedKilled: as TestWindowAggKilled, with the killed run
// and its rerun on 2 workers keyed by country: each instance's open
// windows are saved with the position and restored into the instance of
// the same number, and the aggregates equal the clean run's on one
// worker, line for line. (Crash suite, as TestWindowAggKilled.)
func TestWindowAggKeyedKilled(t *testing.T) {
	crashtest.Suite(t)
	if keyedPipeline == windowsPipeline {
		t.Fatal("the keyed pipeline is the plain one: windowsPipeline changed")
	}
	windowsKilled(t, keyedPipeline)
}

// windowsKilled runs windowsPipeline to the end, then killed (the file
// killed, which may be another) and rerun, and compares their outputs.
func windowsKilled(t *testing.T, killed string) {
	root, err := wasmtest.Root()
	if err != nil {
		t.Fatal(err)
	}
	rows := ordered(6000, 3)
	in := t.TempDir()
	f, err := os.Create(filepath.Join(in, "orders.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	w := bufio.NewWriter(f)
	for _, o := range rows {
		b, _ := json.Marshal(struct {
			Country string    `json:"country"`
			Amount  *float64  `json:"amount"`
			TS      time.Time `json:"ts"`
		}{o.country, o.amount, time.UnixMicro(o.ts).UTC()})
		w.Write(append(b, '\n'))
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	f.Close()
	write := func(name, yaml string) string {
		file := filepath.Join(t.TempDir(), name)
		if err := os.WriteFile(file, []byte(yaml), 0o644); err != nil {
			t.Fatal(err)
		}
		return file
	}
	cleanFile, killedFile := write("windows.yaml", windowsPipeline), write("killed.yaml", killed)
	want := len(aggregate(rows, minute))
	pipeline := func(file, out string) crashtest.Pipeline {
		return crashtest.Pipeline{
			File:  file,
			State: t.TempDir(),
			Env:   map[string]string{"IN": in, "OUT": out, "WASM": filepath.Join(root, "transforms", "c", "window_agg", "window_agg.wasm")},
			// A checkpoint behind every batch of 20 rows: a window spans
			// about 4 of them, so most kills fall inside an open window.
			Set:    []string{"batch.rows=20", "checkpoint_every=1ns"},
			Rows:   want,
			Stored: func(t testing.TB) int { return len(partLines(t, out)) },
		}
	}
	cleanOut := filepath.Join(t.TempDir(), "clean")
	pipeline(cleanFile, cleanOut).Run(t)
	clean := partLines(t, cleanOut)
	if len(clean) != want {
		t.Fatalf("a clean run published %d aggregates, want %d", len(clean), want)
	}
	out := filepath.Join(t.TempDir(), "killed")
	c := pipeline(killedFile, out).KillAndRerun(t)
	if !strings.Contains(c.Rerun.Output, "started at ") || strings.Contains(c.Rerun.Output, "started at the start") {
		t.Errorf("the rerun did not resume from a saved position:\n%s", c.Rerun.Output)
	}
	got := partLines(t, out)
	if !slices.Equal(got, clean) {
		var missing, extra []string
		for _, l := range clean {
			if !slices.Contains(got, l) {
				missing = append(missing, l)
			}
		}
		for _, l := range got {
			if !slices.Contains(clean, l) {
				extra = append(extra, l)
			}
		}
		t.Fatalf("killed at %d aggregates and rerun: %d aggregates, a clean run %d; missing %q, extra %q", c.After, len(got), len(clean), missing[:min(3, len(missing))], extra[:min(3, len(extra))])
	}
}
