package cli_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/dataweaver/dataweaver/engine"
	"github.com/dataweaver/dataweaver/engine/spec"
	"github.com/dataweaver/dataweaver/internal/cli"
)

// lockedBuffer is stderr shared between weave serve's goroutines and the
// test that reads it while they run.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// served is one entry of GET /pipelines.
type served struct {
	Name        string `json:"name"`
	File        string `json:"file"`
	State       string `json:"state"`
	Restarts    int    `json:"restarts"`
	Reloads     int    `json:"reloads"`
	LastError   string `json:"last_error"`
	ReloadError string `json:"reload_error"`
	Held        bool   `json:"held"`
	RowsIn      int64  `json:"rows_in"`
	RowsOut     int64  `json:"rows_out"`
}

func listPipelines(t *testing.T, addr string) map[string]served {
	t.Helper()
	code, body, h := request(t, http.MethodGet, addr, "/pipelines", "")
	if code != http.StatusOK || !strings.HasPrefix(h.Get("Content-Type"), "application/json") {
		t.Fatalf("GET /pipelines: %d %q: %s", code, h.Get("Content-Type"), body)
	}
	var list []served
	dec := json.NewDecoder(strings.NewReader(body))
	dec.DisallowUnknownFields() // a renamed field fails here, not as a hang
	if err := dec.Decode(&list); err != nil {
		t.Fatalf("GET /pipelines: %v: %s", err, body)
	}
	m := map[string]served{}
	for _, s := range list {
		m[s.Name] = s
	}
	return m
}

// waitFor polls /pipelines until ok accepts it. It has no time limit of
// its own: a hang is the test binary's -timeout to catch.
func waitFor(t *testing.T, addr string, what string, ok func(map[string]served) bool) map[string]served {
	t.Helper()
	for i := 0; ; i++ {
		m := listPipelines(t, addr)
		if ok(m) {
			return m
		}
		if i > 0 && i%500 == 0 {
			t.Logf("still waiting for %s: %+v", what, m)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

var serveAddr = regexp.MustCompile(`msg="serving metrics and health" addr=(\S+)`)

// TestServe runs weave serve on a directory holding a good pipeline (a
// paced generator writing JSON Lines parts), one whose sink always fails,
// one whose file is invalid, a non-pipeline YAML file and a test file. The
// failing one is restarted again and again without disturbing the good
// one; the invalid one fails once; the good one is edited mid-run and
// SIGHUP restarts it from its saved position, so its outputs hold every
// row exactly once; SIGTERM then drains everything and exits 143.
func TestServe(t *testing.T) {
	dir, out := t.TempDir(), t.TempDir()
	regular := filepath.Join(t.TempDir(), "regular")
	write := func(name, text string) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(regular, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	const rows = 600
	good := fmt.Sprintf("name: good\nbatch: {rows: 30}\nsource: {generate: {preset: orders, rows: %d, rows_per_second: 400}}\n"+
		"sinks: [{file: {path: %q, format: jsonl}}]\ncheckpoint_every: 50ms\n", rows, out+"/")
	write("good.yaml", good)
	// A sink under a regular file: opening it fails every time.
	write("bad.yaml", fmt.Sprintf("name: bad\nsource: {generate: {preset: orders, rows: 10}}\n"+
		"sinks: [{file: {path: %q, format: jsonl}}]\n", regular+"/x/"))
	write("broken.yaml", "name: broken\nsource: {no_such_connector: {}}\nsinks: [{file: {path: x.jsonl}}]\n")
	write("other.yaml", "not: a pipeline\n")
	// A coordinated file runs under weave run only (one worker per process).
	write("coord.yaml", "name: coord\nsource: {file: in/*.csv}\nsinks: [{file: {path: out/, format: jsonl}}]\n"+
		"coordinator: {urls: [\"nats://127.0.0.1:1\"]}\n")
	// A test file that looks like a pipeline: serve must still leave it.
	write("good.test.yaml", fmt.Sprintf("name: shadow\nsource: {generate: {preset: orders, rows: 1}}\n"+
		"sinks: [{file: {path: %q, format: jsonl}}]\n", out+"/"))

	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	stderr := &lockedBuffer{}
	sigs := make(chan os.Signal, 4)
	code := make(chan int, 1)
	go func() {
		code <- cli.Main([]string{"weave", "serve", "--http", "127.0.0.1:0", "--backoff", "20ms", "--backoff-max", "200ms", dir},
			cli.Options{Env: engine.DefaultEnvironment(), Stdout: io.Discard, Stderr: stderr, Signals: sigs, Mem: mem})
	}()
	exited := false
	t.Cleanup(func() {
		if !exited {
			sigs <- syscall.SIGINT
			sigs <- syscall.SIGINT
			<-code
		}
		if t.Failed() {
			t.Logf("weave serve's stderr:\n%s", stderr.String())
		}
	})
	var addr string
	for addr == "" {
		if m := serveAddr.FindStringSubmatch(stderr.String()); m != nil {
			addr = m[1]
		}
		time.Sleep(5 * time.Millisecond)
	}

	// Mid-run: edit the good pipeline's file and reload.
	// never fails the test at once on a state a pipeline must not reach,
	// rather than let it hang.
	never := func(m map[string]served) {
		if g := m["good"].State; g == "failed" || g == "restarting" || g == "stopped" {
			t.Fatalf("good pipeline %s: %+v", g, m["good"])
		}
		if b := m["bad"].State; b == "failed" || b == "finished" || b == "stopped" {
			t.Fatalf("bad pipeline %s, want it restarted: %+v", b, m["bad"])
		}
	}
	mid := waitFor(t, addr, "the good pipeline to be half-way", func(m map[string]served) bool {
		never(m)
		return m["good"].RowsOut >= rows/4
	})
	if s := mid["good"]; s.State != "running" || s.RowsIn >= rows {
		t.Fatalf("good pipeline before the reload: %+v, want it running with rows left", s)
	}
	write("good.yaml", good+"# edited: SIGHUP must restart it\n")
	sigs <- syscall.SIGHUP

	end := waitFor(t, addr, "good to finish and bad to restart twice", func(m map[string]served) bool {
		never(m)
		return m["good"].State == "finished" && m["bad"].Restarts >= 6 // the 5th restart is logged by the 6th
	})
	if len(end) != 4 {
		t.Errorf("/pipelines lists %d pipelines, want good (once, reloaded), bad, broken and coord, not other.yaml or the test file: %+v", len(end), end)
	}
	if c := end["coord"]; c.State != "failed" || !strings.Contains(c.LastError, "coordinator section") {
		t.Errorf("coord: %+v, want failed once: weave serve does not run a coordinated file alone", c)
	}
	if g := end["good"]; g.Restarts != 0 || g.RowsIn != rows || g.RowsOut != rows || g.File != filepath.Join(dir, "good.yaml") {
		t.Errorf("good: %+v, want %d rows in and out over its two runs, no restart for failure", g, rows)
	}
	if b := end["bad"]; (b.State != "restarting" && b.State != "starting" && b.State != "running") || !strings.Contains(b.LastError, "not a directory") {
		t.Errorf("bad: %+v, want it restarting after a sink error", b)
	}
	if b := end["broken"]; b.State != "failed" || b.Restarts != 0 || !strings.Contains(b.LastError, "no_such_connector") {
		t.Errorf("broken: %+v, want failed once (invalid file), not restarted", b)
	}
	log := stderr.String()
	if n := strings.Count(log, `msg="pipeline started" file=`+filepath.Join(dir, "good.yaml")); n != 2 {
		t.Errorf("good started %d times, want 2 (once more after SIGHUP)", n)
	}
	// The pauses double from --backoff up to --backoff-max.
	for _, want := range []string{"in=20ms restarts=1 ", "in=40ms restarts=2 ", "in=80ms restarts=3 ", "in=160ms restarts=4 ", "in=200ms restarts=5 "} {
		if !strings.Contains(log, `msg="pipeline failed; restarting it" file=`+filepath.Join(dir, "bad.yaml")+" pipeline=bad "+want) {
			t.Errorf("no restart of bad logged with %q", want)
		}
	}
	if !strings.Contains(log, `msg="pipeline drained"`) {
		t.Errorf("no drain of the good pipeline logged at the reload")
	}
	// The union of both runs' parts: every order once.
	wantIDs(t, readIDs(t, out), span(1, rows+1))

	// A reload with bad.yaml removed and a new file: bad stops, new runs.
	out2 := t.TempDir()
	if err := os.Remove(filepath.Join(dir, "bad.yaml")); err != nil {
		t.Fatal(err)
	}
	write("new.yaml", fmt.Sprintf("name: new\nsource: {generate: {preset: orders, rows: 10}}\n"+
		"sinks: [{file: {path: %q, format: jsonl}}]\n", out2+"/"))
	sigs <- syscall.SIGHUP
	waitFor(t, addr, "bad to go and new to finish", func(m map[string]served) bool {
		_, bad := m["bad"]
		return !bad && m["new"].State == "finished" && m["good"].State == "finished"
	})
	wantIDs(t, readIDs(t, out2), span(1, 11))

	sigs <- syscall.SIGTERM
	if c := <-code; c != 143 {
		t.Errorf("exit %d after SIGTERM, want 143", c)
	}
	exited = true
	checkGoroutines(t)
	mem.AssertSize(t, 0)
}

// TestServeAbort: the first SIGINT drains, and when a sink holds the drain
// up, the second aborts every pipeline; weave serve exits 130 either way
// and leaves no goroutine behind.
func TestServeAbort(t *testing.T) {
	env, pr := testEnvProbe(t)
	dir := t.TempDir()
	for _, name := range []string{"a", "b"} {
		text := fmt.Sprintf("name: %s\nsource: {counter: {batches: 0}}\nsinks: [{collect: {block: %v}}]\n", name, name == "a")
		if err := os.WriteFile(filepath.Join(dir, name+".yaml"), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	sigs := make(chan os.Signal, 2)
	done := make(chan result, 1)
	go func() { done <- run(t, cli.Options{Env: env, Signals: sigs}, "serve", dir) }()
	<-pr.wrote
	sigs <- syscall.SIGINT
	sigs <- syscall.SIGINT
	r := <-done
	if r.code != 130 || !strings.Contains(r.stderr, "weave: aborted") {
		t.Fatalf("exit %d, want 130 and an abort:\n%s", r.code, r.stderr)
	}
}

// TestServeSameName: two files naming the same pipeline would share its
// state and metric labels; the second to start is failed, the first runs.
func TestServeSameName(t *testing.T) {
	env := testEnv(t)
	dir := t.TempDir()
	for _, f := range []string{"a.yaml", "b.yaml"} {
		text := "name: twin\nsource: {counter: {batches: 0}}\nsinks: [{collect: {}}]\n"
		if err := os.WriteFile(filepath.Join(dir, f), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	stderr := &lockedBuffer{}
	sigs := make(chan os.Signal, 2)
	code := make(chan int, 1)
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	go func() {
		code <- cli.Main([]string{"weave", "serve", "--http", "127.0.0.1:0", dir},
			cli.Options{Env: env, Stdout: io.Discard, Stderr: stderr, Signals: sigs, Mem: mem})
	}()
	var addr string
	for addr == "" {
		if m := serveAddr.FindStringSubmatch(stderr.String()); m != nil {
			addr = m[1]
		}
		time.Sleep(5 * time.Millisecond)
	}
	var states []string
	for {
		resp, err := http.Get("http://" + addr + "/pipelines")
		if err != nil {
			t.Fatal(err)
		}
		var list []served
		err = json.NewDecoder(resp.Body).Decode(&list)
		resp.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
		states = states[:0]
		for _, s := range list {
			states = append(states, s.State)
			if s.State == "failed" && !strings.Contains(s.LastError, `pipeline name "twin" is already served from`) {
				t.Errorf("%s failed with %q, want the name clash", s.File, s.LastError)
			}
		}
		if states[0] == "running" && states[1] == "running" {
			t.Fatalf("both files of pipeline twin run: %+v", list)
		}
		if slices.Contains(states, "failed") && slices.Contains(states, "running") {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	sigs <- syscall.SIGTERM
	if c := <-code; c != 143 {
		t.Errorf("exit %d, want 143:\n%s", c, stderr.String())
	}
	checkGoroutines(t)
	mem.AssertSize(t, 0)
}

// slowFail is a sink whose first write fails after a pause longer than
// --backoff-max: a run that lasted a good while before failing.
type slowFail struct{ pause time.Duration }

func (s *slowFail) Open(context.Context, *arrow.Schema) error { return nil }
func (s *slowFail) Write(ctx context.Context, _ arrow.RecordBatch) error {
	select {
	case <-time.After(s.pause):
	case <-ctx.Done():
		return ctx.Err()
	}
	return engine.Permanent(errors.New("failed after a long run"))
}
func (s *slowFail) Flush(context.Context) error { return nil }
func (s *slowFail) Close() error                { return nil }

// TestServeBackoffReset: a pipeline that fails only after running longer
// than --backoff-max is restarted after --backoff every time, not after a
// pause that keeps doubling.
func TestServeBackoffReset(t *testing.T) {
	env := testEnv(t)
	if err := env.RegisterSink(spec.New("slowfail").Summary("Fails after a pause."),
		func(*spec.Parsed, engine.Build) (engine.Sink, error) {
			return &slowFail{pause: 60 * time.Millisecond}, nil
		}); err != nil {
		t.Fatal(err)
	}
	file := writeFile(t, "slow.yaml", "name: slow\nsource: {counter: {batches: 0}}\nsinks: [{slowfail: {}}]\n")
	stderr := &lockedBuffer{}
	sigs := make(chan os.Signal, 2)
	code := make(chan int, 1)
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	go func() {
		code <- cli.Main([]string{"weave", "serve", "--backoff", "5ms", "--backoff-max", "40ms", file},
			cli.Options{Env: env, Stdout: io.Discard, Stderr: stderr, Signals: sigs, Mem: mem})
	}()
	for strings.Count(stderr.String(), `msg="pipeline failed; restarting it"`) < 4 {
		time.Sleep(10 * time.Millisecond)
	}
	sigs <- syscall.SIGTERM
	if c := <-code; c != 143 {
		t.Errorf("exit %d, want 143", c)
	}
	for _, line := range strings.Split(stderr.String(), "\n") {
		if strings.Contains(line, `msg="pipeline failed; restarting it"`) && !strings.Contains(line, " in=5ms ") {
			t.Errorf("a restart after a long run waits more than --backoff: %s", line)
		}
	}
	checkGoroutines(t)
	mem.AssertSize(t, 0)
}
