package file

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	pqfile "github.com/apache/arrow-go/v18/parquet/file"

	"github.com/dataweaver/dataweaver/connectors/conformance"
	"github.com/dataweaver/dataweaver/connectors/generate"
	"github.com/dataweaver/dataweaver/internal/crashtest"
)

func TestMain(m *testing.M) {
	code := m.Run()
	crashtest.Cleanup()
	os.Exit(code)
}

// crashRows is the input of the crash test: enough that a kill drawn at up
// to half of it lands with parts to come. Checkpoints are 20 ms apart, but
// on two busy cores a part held up to 83,000 rows and the kill meant for
// 150,000 stored rows landed at 232,800; 300,000 left too thin a margin.
const crashRows = 500_000

// crashPipeline writes orders to a directory of Parquet parts. Its
// generate source has a billion rows, so the run that is killed cannot
// end by itself; Finish brings it down to crashRows.
const crashPipeline = `name: crash-parts
source: {generate: {preset: orders, rows: 1000000000}}
batch: {rows: 300}
checkpoint_every: 20ms
sinks: [{file: {path: "${OUT}/", format: parquet}}]
`

// TestDirCrash kills `weave run` (SIGKILL) while it writes parts, reruns
// it from its state directory, and checks that the directory holds every
// order exactly once: parts prepared before the kill are published at
// the restart, parts never prepared are deleted, and numbering goes on.
func TestDirCrash(t *testing.T) {
	crashtest.Suite(t)
	mem := conformance.Checked(t)
	dir := t.TempDir()
	out := filepath.Join(dir, "orders")
	file := filepath.Join(dir, "crash.yaml")
	writeFile(t, file, crashPipeline)
	p := crashtest.Pipeline{
		File:   file,
		State:  filepath.Join(dir, "state"),
		Env:    map[string]string{"OUT": out},
		Finish: []string{fmt.Sprintf("source.generate.rows=%d", crashRows)},
		Rows:   crashRows,
		Stored: func(t testing.TB) int { return publishedRows(t, out) },
	}
	var leftByKill []string
	p.AfterKill = func(testing.TB) { _, leftByKill = dirEntries(t, out) }
	c := p.KillAndRerun(t)
	parts, temps := dirEntries(t, out)
	t.Logf("killed after %d stored rows, leaving temporary parts %v; after the rerun %d parts; rerun output:\n%s", c.Killed, leftByKill, len(parts), c.Rerun.Output)
	if len(temps) != 0 {
		t.Errorf("temporary parts left after the rerun: %v", temps)
	}
	if !strings.Contains(c.Rerun.Output, "started at row ") {
		t.Errorf("the rerun does not say it resumed:\n%s", c.Rerun.Output)
	}
	want := generate.Orders(mem, crashRows, 1)
	defer want.Release()
	got := readGlob(t, mem, filepath.Join(out, "part-*.parquet"), "parquet")
	defer conformance.Release(got)
	conformance.EqualRows(t, want, got)

	// A third run finds nothing left and adds no part.
	p.Run(t)
	if again, _ := dirEntries(t, out); len(again) != len(parts) {
		t.Errorf("a run with nothing left to read added parts: %d, then %d", len(parts), len(again))
	}
}

// publishedRows counts the rows of the published parts of dir from their
// Parquet footers, as a reader globbing part-*.parquet sees them.
func publishedRows(t testing.TB, dir string) int {
	t.Helper()
	parts, _ := filepath.Glob(filepath.Join(dir, "part-*.parquet"))
	var n int64
	for _, p := range parts {
		r, err := pqfile.OpenParquetFile(p, false)
		if err != nil {
			t.Fatalf("published part %s is unreadable: %v", p, err)
		}
		n += r.NumRows()
		r.Close()
	}
	return int(n)
}

// crashAppendPipeline appends orders to one JSON Lines file.
const crashAppendPipeline = `name: crash-append
source: {generate: {preset: orders, rows: 1000000000}}
batch: {rows: 300}
checkpoint_every: 20ms
sinks: [{file: {path: "${OUT}/orders.jsonl", append: true}}]
`

// TestAppendCrash kills `weave run` while it appends to a file and reruns
// it: every order the killed run flushed is still there (an fsync at every
// flush), the file holds only whole rows, and the rerun resumes, so each
// order is there at least once. Rows flushed after the last saved
// position appear twice: append mode is at-least-once.
func TestAppendCrash(t *testing.T) {
	crashtest.Suite(t)
	dir := t.TempDir()
	path := filepath.Join(dir, "orders.jsonl")
	file := filepath.Join(dir, "crash.yaml")
	writeFile(t, file, crashAppendPipeline)
	lines := &lineCounter{path: path}
	p := crashtest.Pipeline{
		File:  file,
		State: filepath.Join(dir, "state"),
		Env:   map[string]string{"OUT": dir},
		// Paced: unpaced, an idle machine appended 573,900 rows between two
		// looks of the line counter (a 500,000-row input, so the kill
		// tested nothing, and the test said so).
		Set:    []string{"source.generate.rows_per_second=200000"},
		Finish: []string{fmt.Sprintf("source.generate.rows=%d", crashRows)},
		Rows:   crashRows,
		Stored: lines.count,
	}
	c := p.KillAndRerun(t)
	// Rows are flushed before the first checkpoint saves a position, so
	// a kill that early leaves none and the rerun starts from the start.
	resumed := strings.Contains(c.Rerun.Output, "started at row ")
	if !resumed && !strings.Contains(c.Rerun.Output, "started at the start (no saved position)") {
		t.Errorf("the rerun neither resumed nor started for want of a position:\n%s", c.Rerun.Output)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	seen := make([]int, crashRows+1)
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		var row struct {
			ID int `json:"id"`
		}
		if err := json.Unmarshal(sc.Bytes(), &row); err != nil || row.ID < 1 || row.ID > crashRows {
			t.Fatalf("line %d is not a whole order (%v): %.200q", n, err, sc.Bytes())
		}
		seen[row.ID]++
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	twice := 0
	for id := 1; id <= crashRows; id++ {
		switch {
		case seen[id] == 0:
			t.Fatalf("order %d is missing (killed after %d stored rows)", id, c.Killed)
		case seen[id] > 1:
			twice++
		}
	}
	// Only rows the killed run wrote can come twice.
	if twice > c.Killed {
		t.Errorf("%d orders appear twice, more than the %d rows the killed run wrote", twice, c.Killed)
	}
	t.Logf("killed after %d stored rows; resumed %v; %d orders appear twice (flushed after the last saved position)", c.Killed, resumed, twice)
}

// lineCounter counts the lines of a growing file, reading only what was
// added since its last call (it is polled every few milliseconds).
type lineCounter struct {
	path string
	off  int64
	n    int
}

func (l *lineCounter) count(t testing.TB) int {
	f, err := os.Open(l.path)
	if err != nil {
		return l.n // not created yet
	}
	defer f.Close()
	buf := make([]byte, 1<<16)
	for {
		k, err := f.ReadAt(buf, l.off)
		l.off += int64(k)
		l.n += strings.Count(string(buf[:k]), "\n")
		if err == io.EOF || k == 0 {
			return l.n
		}
		if err != nil {
			t.Fatal(err)
		}
	}
}
