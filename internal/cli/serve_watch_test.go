package cli_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/dataweaver/dataweaver/engine"
	"github.com/dataweaver/dataweaver/internal/cli"
)

// serveRun is weave serve running in this process, as the binary runs it.
type serveRun struct {
	addr   string
	stderr *lockedBuffer
	sigs   chan os.Signal
	code   chan int
	exited bool
}

// startServe runs `weave ARGS…` (serve and its flags) with opts and, when
// it serves HTTP, waits for the address it bound. It is stopped, if
// still running, when the test ends; its Arrow memory and goroutines are
// checked by stop.
func startServe(t *testing.T, opts cli.Options, args ...string) *serveRun {
	t.Helper()
	r := &serveRun{stderr: &lockedBuffer{}, sigs: make(chan os.Signal, 4), code: make(chan int, 1)}
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	if opts.Env == nil {
		opts.Env = engine.DefaultEnvironment()
	}
	opts.Stdout, opts.Stderr, opts.Signals, opts.Mem = io.Discard, r.stderr, r.sigs, mem
	go func() { r.code <- cli.Main(append([]string{"weave"}, args...), opts) }()
	t.Cleanup(func() {
		if !r.exited {
			r.sigs <- syscall.SIGINT
			r.sigs <- syscall.SIGINT
			<-r.code
		}
		if t.Failed() {
			t.Logf("weave serve's stderr:\n%s", r.stderr.String())
		}
		mem.AssertSize(t, 0)
	})
	if !strings.Contains(strings.Join(args, " "), "--http") {
		return r
	}
	for r.addr == "" {
		if m := serveAddr.FindStringSubmatch(r.stderr.String()); m != nil {
			r.addr = m[1]
		}
		select {
		case c := <-r.code:
			r.exited = true
			t.Fatalf("weave serve exited with %d before serving:\n%s", c, r.stderr.String())
		case <-time.After(5 * time.Millisecond):
		}
	}
	return r
}

// stop sends SIGTERM and checks weave serve drains and exits with 143.
func (r *serveRun) stop(t *testing.T) {
	t.Helper()
	r.sigs <- syscall.SIGTERM
	if c := <-r.code; c != 143 {
		t.Errorf("exit %d after SIGTERM, want 143", c)
	}
	r.exited = true
	checkGoroutines(t)
}

// replace writes a file the way editors and deploy tools do: a new file
// renamed over the old one.
func replace(t *testing.T, path, text string) {
	t.Helper()
	tmp := path + ".tmp~"
	if err := os.WriteFile(tmp, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

// TestServeWatch: with no SIGHUP at all, weave serve picks up a pipeline
// file that changed (replaced by a rename, as editors save), one added
// to the directory and one removed from it. A change that does not load
// is reported in the log and in /pipelines while the pipeline goes on
// from its previous file; the fixed file then reloads it, and across the
// reload every row is written exactly once. The other pipeline runs on
// undisturbed throughout.
func TestServeWatch(t *testing.T) {
	dir, out, out2 := t.TempDir(), t.TempDir(), t.TempDir()
	const rows = 600
	good := fmt.Sprintf("name: good\nbatch: {rows: 30}\nsource: {generate: {preset: orders, rows: %d, rows_per_second: 400}}\n"+
		"sinks: [{file: {path: %q, format: jsonl}}]\ncheckpoint_every: 50ms\n", rows, out+"/")
	goodFile, steadyFile := filepath.Join(dir, "good.yaml"), filepath.Join(dir, "steady.yaml")
	replace(t, goodFile, good)
	replace(t, steadyFile, "name: steady\nbatch: {rows: 10}\nsource: {generate: {preset: orders, rows_per_second: 200}}\nsinks: [discard]\n")
	r := startServe(t, cli.Options{}, "serve", "--http", "127.0.0.1:0", "--watch-every", "20ms", dir)
	never := func(m map[string]served) {
		if _, ok := m["good"]; !ok {
			t.Fatalf("good is gone from /pipelines: %+v", m)
		}
		if g := m["good"].State; g == "failed" || g == "restarting" || g == "stopped" {
			t.Fatalf("good pipeline %s: %+v", g, m["good"])
		}
		if s := m["steady"]; s.Restarts != 0 || s.Reloads != 0 {
			t.Fatalf("steady was disturbed: %+v", s)
		}
	}
	waitFor(t, r.addr, "good to be a quarter through", func(m map[string]served) bool {
		never(m)
		return m["good"].RowsOut >= rows/4
	})

	// Mid-edit, the source is cut out: the file is no pipeline at all
	// for the moment, which is a broken edit, not a removal.
	replace(t, goodFile, "name: good\nsinks: [discard]\n")
	cut := waitFor(t, r.addr, "the cut source to be reported", func(m map[string]served) bool {
		never(m)
		return m["good"].ReloadError != ""
	})
	if g := cut["good"]; g.State != "running" || !strings.Contains(g.ReloadError, "source") {
		t.Fatalf("good after its source was cut: %+v, want it running on with the error shown", g)
	}
	replace(t, goodFile, "name: good\nsource: {no_such_connector: {}}\nsinks: [discard]\n")
	refused := waitFor(t, r.addr, "the broken edit to be reported", func(m map[string]served) bool {
		never(m)
		return strings.Contains(m["good"].ReloadError, "no_such_connector")
	})
	if g := refused["good"]; g.State != "running" || g.Reloads != 0 || !strings.Contains(g.ReloadError, "no_such_connector") {
		t.Fatalf("good after a broken edit: %+v, want it running on with the error shown", g)
	}
	if !strings.Contains(r.stderr.String(), `msg="reload: pipeline file changed but does not load; the pipeline goes on from its previous file" file=`+goodFile) {
		t.Errorf("the refused reload is not logged")
	}
	// The run goes on: more rows after the refusal.
	waitFor(t, r.addr, "good to move on after the refused edit", func(m map[string]served) bool {
		never(m)
		return m["good"].RowsOut > refused["good"].RowsOut || m["good"].State == "finished"
	})
	if n := strings.Count(r.stderr.String(), `msg="reload: pipeline file changed but does not load`); n != 2 {
		t.Errorf("the refused edits were logged %d times, want once each (not at every look)", n)
	}

	replace(t, goodFile, good+"# edited: the watch must reload it\n")
	replace(t, filepath.Join(dir, "new.yaml"), fmt.Sprintf("name: new\nsource: {generate: {preset: orders, rows: 10}}\n"+
		"sinks: [{file: {path: %q, format: jsonl}}]\n", out2+"/"))
	if err := os.Remove(steadyFile); err != nil {
		t.Fatal(err)
	}
	end := waitFor(t, r.addr, "good to reload and finish, new to finish, steady to go", func(m map[string]served) bool {
		_, steady := m["steady"]
		return !steady && m["good"].State == "finished" && m["new"].State == "finished"
	})
	if g := end["good"]; g.Reloads != 1 || g.ReloadError != "" || g.Restarts != 0 || g.RowsIn != rows || g.RowsOut != rows {
		t.Errorf("good at the end: %+v, want one reload, no error left, %d rows in and out", g, rows)
	}
	wantIDs(t, readIDs(t, out), span(1, rows+1))
	wantIDs(t, readIDs(t, out2), span(1, 11))
	log := r.stderr.String()
	if n := strings.Count(log, `msg="pipeline started" file=`+steadyFile); n != 1 {
		t.Errorf("steady started %d times, want once: the other pipeline's reload must not touch it", n)
	}
	if !strings.Contains(log, `msg="run summary" pipeline=good exit="drained: its file changed"`) ||
		!strings.Contains(log, `msg="run summary" pipeline=steady exit="drained: its file was removed"`) {
		t.Errorf("no run summary for the reloaded and the removed pipeline")
	}
	r.stop(t)
}

// TestServeSummary: every run under weave serve ends with one run summary
// record, the figures weave run prints, as JSON under --log-format json,
// and --log-level warn does not hide it (it is the result, as weave run's
// table is).
func TestServeSummary(t *testing.T) {
	for _, format := range []string{"json", "text"} {
		t.Run(format, func(t *testing.T) {
			dir := t.TempDir()
			if err := os.WriteFile(filepath.Join(dir, "p.yaml"), []byte("name: p\nsource: {counter: {batches: 3}}\nsinks: [{name: out, collect: {}}]\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			r := startServe(t, cli.Options{Env: testEnv(t)}, "--log-format", format, "--log-level", "warn", "serve", dir)
			for !strings.Contains(r.stderr.String(), "run summary") {
				time.Sleep(5 * time.Millisecond)
			}
			r.stop(t)
			log := r.stderr.String()
			if n := strings.Count(log, "run summary"); n != 1 {
				t.Fatalf("%d run summaries, want 1:\n%s", n, log)
			}
			if format == "text" {
				want := `msg="run summary" pipeline=p exit="end of input" `
				if !strings.Contains(log, want) || !strings.Contains(log, " out.kind=sink out.rows_in=6 out.rows_out=6 ") {
					t.Errorf("want %q and the sink's 6 rows in:\n%s", want, log)
				}
				return
			}
			for _, line := range strings.Split(strings.TrimSpace(log), "\n") {
				var rec struct {
					Msg, Pipeline, Exit string
					ExitCode            *int `json:"exit_code"`
					Steps               []engine.StepSummary
				}
				if err := json.Unmarshal([]byte(line), &rec); err != nil {
					t.Fatalf("a line of stderr is not JSON: %v: %s", err, line)
				}
				if rec.Msg != "run summary" {
					continue
				}
				if rec.Pipeline != "p" || rec.Exit != "end of input" || rec.ExitCode == nil || *rec.ExitCode != 0 ||
					len(rec.Steps) != 2 || rec.Steps[1].Name != "out" || rec.Steps[1].RowsOut != 6 {
					t.Errorf("run summary %s", line)
				}
			}
		})
	}
}

// request sends method path to addr with the bearer token ("" for none)
// and returns the status, body and headers of the answer.
func request(t *testing.T, method, addr, path, token string) (int, string, http.Header) {
	t.Helper()
	req, err := http.NewRequest(method, "http://"+addr+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(body), resp.Header
}

// post sends a control request with the given bearer token ("" for none).
func post(t *testing.T, addr, path, token string) (int, string, http.Header) {
	t.Helper()
	return request(t, http.MethodPost, addr, path, token)
}
