package e2e

import (
	"bytes"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dataweaver/dataweaver/internal/crashtest"
)

// Pipelines run by N `weave run` workers sharing a bounded source's
// splits through a coordinator section (connectors/coordinator).

// splitsPipeline reads CSV files in splits (one per file) into a
// directory of parts (one per split) and, beside it, an HTTP endpoint
// that takes 20 ms per batch: the slow sink whose wait N workers share.
const splitsPipeline = `name: splits
batch: {rows: 100}
source:
  file: {path: "${IN}/*.csv"}
sinks:
  - file: {path: "${OUT}/", format: csv}
  - http: {url: "${SLOW}", codec: ndjson}
coordinator:
  urls: ["${NATS}"]
  ack_wait: 2s
  max_outage: 30s
`

// slowEndpoint is an HTTP server that holds each request 20 ms and counts
// the NDJSON rows it received.
func slowEndpoint(t *testing.T, delay time.Duration) (url string, rows *atomic.Int64) {
	t.Helper()
	rows = new(atomic.Int64)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var b bytes.Buffer
		if _, err := b.ReadFrom(r.Body); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		time.Sleep(delay)
		rows.Add(int64(bytes.Count(b.Bytes(), []byte("\n"))))
	}))
	t.Cleanup(srv.Close)
	return srv.URL, rows
}

// splitsJob is the pipeline file with its input written, ready to start
// workers of.
type splitsJob struct {
	p    crashtest.Pipeline
	out  string
	rows int
	slow *atomic.Int64
}

func newSplitsJob(t *testing.T, natsURL string, files, perFile int) splitsJob {
	t.Helper()
	dir := t.TempDir()
	in, out := filepath.Join(dir, "in"), filepath.Join(dir, "out")
	if err := os.MkdirAll(in, 0o777); err != nil {
		t.Fatal(err)
	}
	id := 0
	for f := range files {
		var b strings.Builder
		b.WriteString("id,name\n")
		for range perFile {
			fmt.Fprintf(&b, "%d,name-%d\n", id, id)
			id++
		}
		writeFile(t, filepath.Join(in, fmt.Sprintf("in-%03d.csv", f)), []byte(b.String()))
	}
	file := filepath.Join(dir, "splits.yaml")
	writeFile(t, file, []byte(splitsPipeline))
	slowURL, slow := slowEndpoint(t, 20*time.Millisecond)
	return splitsJob{
		p: crashtest.Pipeline{File: file, State: filepath.Join(dir, "state"),
			Env: map[string]string{"IN": in, "OUT": out, "SLOW": slowURL, "NATS": natsURL}},
		out: out, rows: id, slow: slow,
	}
}

// rangesPipeline reads one JSON Lines file in byte ranges (split_size
// given by the test) into the same sinks as splitsPipeline.
const rangesPipeline = `name: ranges
batch: {rows: 100}
source:
  file: {path: "${IN}/big.jsonl", split_size: "${SPLIT}", schema: {id: int64, name: utf8}}
sinks:
  - file: {path: "${OUT}/", format: csv}
  - http: {url: "${SLOW}", codec: ndjson}
coordinator:
  urls: ["${NATS}"]
  ack_wait: 2s
  max_outage: 30s
`

// newRangesJob writes rows lines of JSON Lines to one file, to be read
// in ranges byte ranges.
func newRangesJob(t *testing.T, natsURL string, ranges, rows int) splitsJob {
	t.Helper()
	dir := t.TempDir()
	in, out := filepath.Join(dir, "in"), filepath.Join(dir, "out")
	if err := os.MkdirAll(in, 0o777); err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for id := range rows {
		fmt.Fprintf(&b, `{"id":%d,"name":"name-%d"}`+"\n", id, id)
	}
	writeFile(t, filepath.Join(in, "big.jsonl"), []byte(b.String()))
	file := filepath.Join(dir, "ranges.yaml")
	writeFile(t, file, []byte(rangesPipeline))
	slowURL, slow := slowEndpoint(t, 20*time.Millisecond)
	split := (b.Len() + ranges - 1) / ranges
	return splitsJob{
		p: crashtest.Pipeline{File: file, State: filepath.Join(dir, "state"),
			Env: map[string]string{"IN": in, "OUT": out, "SLOW": slowURL, "NATS": natsURL, "SPLIT": strconv.Itoa(split)}},
		out: out, rows: rows, slow: slow,
	}
}

// start starts n workers.
func (j splitsJob) start(t *testing.T, n int) []*crashtest.Process {
	t.Helper()
	ws := make([]*crashtest.Process, n)
	for i := range ws {
		ws[i] = j.p.Start(t)
	}
	return ws
}

// checkExact fails t unless the published parts hold every input id once.
func (j splitsJob) checkExact(t *testing.T) {
	t.Helper()
	parts, err := filepath.Glob(filepath.Join(j.out, "part-*.csv"))
	if err != nil {
		t.Fatal(err)
	}
	var ids []int
	for _, p := range parts {
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		for _, l := range strings.Split(strings.TrimSpace(string(data)), "\n")[1:] {
			n, err := strconv.Atoi(strings.SplitN(l, ",", 2)[0])
			if err != nil {
				t.Fatalf("%s: %q: %v", p, l, err)
			}
			ids = append(ids, n)
		}
	}
	slices.Sort(ids)
	if len(ids) != j.rows {
		t.Errorf("parts hold %d rows, want %d", len(ids), j.rows)
	}
	for i, id := range ids {
		if id != i {
			t.Fatalf("row %d of the sorted output is id %d: rows lost or doubled", i, id)
		}
	}
}

// waitRows waits until the slow endpoint has received n rows.
func (j splitsJob) waitRows(t *testing.T, n int64, ws []*crashtest.Process) {
	t.Helper()
	deadline := time.Now().Add(waitFor)
	for j.slow.Load() < n {
		for _, w := range ws {
			if w.Exited() {
				t.Fatalf("a worker ended before %d rows arrived", n)
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d rows after %s, want %d", j.slow.Load(), waitFor, n)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// checkParts fails t unless the output directory holds exactly one part
// per split and nothing else: no temporary part a killed worker left.
func (j splitsJob) checkParts(t *testing.T, splits int) {
	t.Helper()
	entries, err := os.ReadDir(j.out)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	one := regexp.MustCompile(`^part-in-[0-9]{3}_csv-[0-9a-f]{12}-000001\.csv$`)
	n := 0
	for _, name := range names {
		if one.MatchString(name) {
			n++
		}
	}
	if n != splits || len(names) != splits {
		t.Errorf("the output directory holds %d entries, %d of them parts, want exactly one part per split (%d):\n%s",
			len(names), n, splits, strings.Join(names, "\n"))
	}
}

// checkRepeats fails t unless the slow HTTP sink, which appends, got
// every row and at most one split's rows (perSplit) twice: those the
// killed worker had sent of the split in hand, which the split's redo
// sends again.
func (j splitsJob) checkRepeats(t *testing.T, perSplit int) {
	t.Helper()
	got := int(j.slow.Load())
	if got < j.rows || got > j.rows+perSplit {
		t.Errorf("the http sink got %d rows, want the job's %d plus at most the killed worker's split (%d)", got, j.rows, perSplit)
	}
	t.Logf("the http sink got %d rows again", got-j.rows)
}

// killMidSplit SIGKILLs the worker that is writing a split's part (its
// process ID is in the temporary part's name), so the kill surely leaves
// an unpublished part behind, and returns its index in ws.
func (j splitsJob) killMidSplit(t *testing.T, ws []*crashtest.Process) int {
	t.Helper()
	tmp := regexp.MustCompile(`^\.part-.*\.([0-9]+)-[0-9a-z]+\.tmp$`)
	deadline := time.Now().Add(waitFor)
	for time.Now().Before(deadline) {
		entries, err := os.ReadDir(j.out)
		if err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
		for _, e := range entries {
			m := tmp.FindStringSubmatch(e.Name())
			if m == nil {
				continue
			}
			for i, w := range ws {
				if strconv.Itoa(w.Pid()) == m[1] && !w.Exited() {
					w.Kill(t)
					t.Logf("killed worker %d (pid %s) while it wrote %s", i, m[1], e.Name())
					return i
				}
			}
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatalf("no worker was writing a part within %s", waitFor)
	return -1
}

// TestSplitsKillWorker SIGKILLs one of three workers a third of the way
// through, while it writes a split's part: the others take over its
// split when its lease (ack_wait) runs out, the parts hold every row
// once, and the output directory holds one part per split and nothing
// else (the redo removed the killed worker's temporary part). weave
// positions then lists every split finished; after --reset a worker
// reads them all again and its parts replace the first ones.
func TestSplitsKillWorker(t *testing.T) {
	j := newSplitsJob(t, startNATS(t), 9, 400)
	ws := j.start(t, 3)
	j.waitRows(t, int64(j.rows/3), ws)
	victim := j.killMidSplit(t, ws)
	for i, w := range ws {
		if i != victim {
			w.Wait(t)
		}
	}
	j.checkExact(t)
	j.checkParts(t, 9)
	j.checkRepeats(t, 400)

	out := j.weave(t, "positions", j.p.File)
	if n := strings.Count(out, "read to the end"); n != 9 {
		t.Errorf("weave positions lists %d finished splits, want 9:\n%s", n, out)
	}
	if out := j.weave(t, "positions", "--reset", j.p.File); strings.Count(out, "reset ") != 9 {
		t.Errorf("weave positions --reset:\n%s", out)
	}
	redo := j.p.Start(t)
	redo.Wait(t)
	if !strings.Contains(redo.Output(), "read 9 splits") {
		t.Errorf("the run after --reset did not read the 9 splits again:\n%s", redo.Output())
	}
	j.checkExact(t)
}

// weave runs a weave command with the job's variables and returns its
// output, failing t unless it exits 0.
func (j splitsJob) weave(t *testing.T, args ...string) string {
	t.Helper()
	cmd := exec.Command(crashtest.Weave(t), args...)
	cmd.Env = os.Environ()
	for k, v := range j.p.Env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("weave %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// TestSplitsInterrupted: SIGINT stops a worker mid-split; it hands the
// split back (exit 130, as weave run drained), and the next worker reads
// it whole: every row once.
func TestSplitsInterrupted(t *testing.T) {
	j := newSplitsJob(t, startNATS(t), 4, 400)
	w := j.start(t, 1)[0]
	j.waitRows(t, int64(j.rows/3), []*crashtest.Process{w})
	w.Signal(t, os.Interrupt)
	if code := w.ExitCode(t); code != 130 {
		t.Fatalf("exit code %d after SIGINT, want 130:\n%s", code, w.Output())
	}
	j.p.Start(t).Wait(t)
	j.checkExact(t)
}
