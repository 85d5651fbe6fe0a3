package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/dataweaver/dataweaver/internal/crashtest"
	"github.com/dataweaver/dataweaver/internal/tracing/otlptest"
	"github.com/dataweaver/dataweaver/internal/wait"
)

const serveToken = "e2e-token-0123456789abcdef"

// servePipeline is a paced generator of rows orders (ids 1 to rows)
// through a select stage into a directory of JSON Lines parts, saving its
// position every 50 ms: a drain commits the parts written and the
// position after them, so a new run goes on exactly where it stopped.
func servePipeline(name string, rows int, out string) string {
	return fmt.Sprintf(`name: %s
batch: {rows: 20}
source: {generate: {preset: orders, rows: %d, rows_per_second: 400}}
stages: [{name: keep, select: {columns: [id, country]}}]
sinks: [{name: parts, file: {path: %q, format: jsonl}}]
checkpoint_every: 50ms
`, name, rows, out+"/")
}

// serveTests is the test file beside each pipeline, for weave test.
const serveTests = `tests:
  - name: the select keeps id and country
    input:
      schema: {id: int64, customer: utf8, country: utf8, amount: float64}
      rows:
        - {id: 7, customer: ada, country: GB, amount: 1.5}
    expect:
      - step: parts
        schema: {id: int64, country: utf8}
        rows: [{id: 7, country: GB}]
`

// serveProc is a weave serve child process.
type serveProc struct {
	cmd    *exec.Cmd
	out    string // file holding its stdout and stderr
	exited chan struct{}
	addr   string
}

func (p *serveProc) output() string {
	b, _ := os.ReadFile(p.out)
	return string(b)
}

// poll calls ok every 20 ms until it is true, failing the test if the
// process exits first. Its only limit is the test's -timeout (it gives up
// a few seconds before, so that its message reports the hang): no
// correctness check here depends on a clock.
func (p *serveProc) poll(t *testing.T, what string, ok func() bool) {
	t.Helper()
	deadline, hasDeadline := t.Deadline()
	for i := 1; !ok(); i++ {
		select {
		case <-p.exited:
			t.Fatalf("weave serve exited (%v) while waiting for %s", p.cmd.ProcessState, what)
		default:
		}
		if hasDeadline && time.Until(deadline) < 5*time.Second {
			t.Fatalf("still waiting for %s at the test's deadline (output below)", what)
		}
		if i%250 == 0 {
			t.Logf("still waiting for %s", what)
		}
		if err := wait.For(context.Background(), 20*time.Millisecond); err != nil {
			t.Fatal(err)
		}
	}
}

var serveAddrLine = regexp.MustCompile(`msg="serving metrics and health" addr=(\S+)`)

func startServeBinary(t *testing.T, env []string, args ...string) *serveProc {
	t.Helper()
	out, err := os.CreateTemp(t.TempDir(), "serve-*.log")
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	cmd := exec.Command(crashtest.Weave(t), append([]string{"serve"}, args...)...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdout, cmd.Stderr = out, out
	p := &serveProc{cmd: cmd, out: out.Name(), exited: make(chan struct{})}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		_ = cmd.Wait()
		close(p.exited)
	}()
	t.Cleanup(func() {
		select {
		case <-p.exited:
		default:
			_ = cmd.Process.Kill()
			<-p.exited
		}
		if t.Failed() {
			t.Logf("weave serve's output:\n%s", p.output())
		}
	})
	p.poll(t, "the HTTP address", func() bool {
		if m := serveAddrLine.FindStringSubmatch(p.output()); m != nil {
			p.addr = m[1]
		}
		return p.addr != ""
	})
	return p
}

// request sends method path with the bearer token (none for "") and
// returns the status and body.
func (p *serveProc) request(t *testing.T, method, path, token string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, "http://"+p.addr+path, nil)
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
	return resp.StatusCode, string(body)
}

// TestServeBinary is issue 12's "done when": a real weave serve process
// with two pipelines from a directory is scraped, traced, reloaded,
// controlled over HTTP and its pipelines tested. beta (bounded) has its
// file edited mid-run: it drains and starts again from its position while
// alpha (endless) runs on, and every beta row reaches the output exactly
// once. alpha is stopped and started over HTTP with the bearer token, and
// stopped again at the end, again without a row lost or written twice.
// Then each pipeline's counters in /metrics equal its rows in /pipelines
// and in its output, the OTLP receiver holds one batch span (with its
// stage and sink) per batch of each, labelled by pipeline, and weave test
// passes on both test files.
func TestServeBinary(t *testing.T) {
	dir, outA, outB := t.TempDir(), t.TempDir(), t.TempDir()
	const rowsB = 800 // two seconds: the edit lands well before its end
	write := func(name, text string) {
		t.Helper()
		// As editors save: a new file renamed over the old.
		tmp := filepath.Join(dir, "."+name+".tmp")
		if err := os.WriteFile(tmp, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(tmp, filepath.Join(dir, name)); err != nil {
			t.Fatal(err)
		}
	}
	// alpha would take a month to end.
	write("alpha.yaml", servePipeline("alpha", 1_000_000_000, outA))
	write("beta.yaml", servePipeline("beta", rowsB, outB))
	write("alpha.test.yaml", serveTests)
	write("beta.test.yaml", serveTests)

	rc := otlptest.Start(t)
	p := startServeBinary(t, []string{"OTEL_EXPORTER_OTLP_ENDPOINT=" + rc.URL, "WEAVE_HTTP_TOKEN=" + serveToken},
		"--http", "127.0.0.1:0", "--http-control", "--watch-every", "50ms", dir)
	list := func() map[string]status { return pipelines(t, p) }

	// (c) Reload beta by editing its file, mid-run; alpha is untouched.
	p.poll(t, "both pipelines to run, beta a sixth through", func() bool {
		m := list()
		return m["alpha"].State == "running" && m["beta"].RowsOut >= rowsB/6
	})
	write("beta.yaml", servePipeline("beta", rowsB, outB)+"# edited mid-run\n")
	p.poll(t, "beta to reload", func() bool { return list()["beta"].Reloads == 1 })
	startedA := `msg="pipeline started" file=` + filepath.Join(dir, "alpha.yaml")
	if a := list()["alpha"]; a.Reloads != 0 || a.Restarts != 0 || a.State != "running" || strings.Count(p.output(), startedA) != 1 {
		t.Errorf("alpha after beta's reload: %+v, want it running on, started once", a)
	}

	// (d) Stop and start alpha over HTTP: only with the token.
	if code, body := p.request(t, http.MethodPost, "/pipelines/alpha/stop", ""); code != http.StatusUnauthorized {
		t.Fatalf("stop without the token = %d %s, want 401", code, body)
	}
	if code, body := p.request(t, http.MethodPost, "/pipelines/alpha/stop", serveToken); code != http.StatusAccepted {
		t.Fatalf("stop = %d %s", code, body)
	}
	p.poll(t, "alpha to stop", func() bool { return list()["alpha"].State == "stopped" })
	stoppedAt := list()["alpha"].RowsOut
	if code, body := p.request(t, http.MethodPost, "/pipelines/alpha/start", serveToken); code != http.StatusAccepted {
		t.Fatalf("start = %d %s", code, body)
	}
	p.poll(t, "alpha to run again and beta to finish", func() bool {
		m := list()
		return m["alpha"].State == "running" && m["alpha"].RowsOut > stoppedAt && m["beta"].State == "finished"
	})
	if code, body := p.request(t, http.MethodPost, "/pipelines/alpha/stop", serveToken); code != http.StatusAccepted {
		t.Fatalf("second stop = %d %s", code, body)
	}
	var end map[string]status
	p.poll(t, "alpha to stop again", func() bool {
		end = list()
		return end["alpha"].State == "stopped"
	})

	s := scrape(t, p)
	kids := otlptest.ByParent(rc.Spans())
	for _, c := range []struct {
		name string
		out  string
		rows int64
	}{{"alpha", outA, end["alpha"].RowsOut}, {"beta", outB, rowsB}} {
		// No acknowledged row lost or written twice, across the reload
		// and the stops and start: ids 1 to rows, once each.
		ids := partIDs(t, c.out)
		want := make([]string, c.rows)
		for i := range want {
			want[i] = fmt.Sprint(i + 1)
		}
		slices.Sort(ids)
		slices.Sort(want)
		if c.rows == 0 || !slices.Equal(ids, want) {
			t.Errorf("%s wrote %d rows, want ids 1 to %d once each", c.name, len(ids), c.rows)
		}
		// (a) /metrics and /pipelines agree with the output.
		l := map[string]string{"pipeline": c.name, "step": "parts"}
		if got := s.value(t, "weave_rows_out_total", l); got != float64(len(ids)) || end[c.name].RowsOut != int64(len(ids)) || end[c.name].RowsIn != int64(len(ids)) {
			t.Errorf("%s: weave_rows_out_total = %v, /pipelines %+v, %d rows in the output", c.name, got, end[c.name], len(ids))
		}
		// (b) Spans: one batch span per batch of each pipeline, with its
		// stage and sink under it. Every run has ended, so every span
		// is flushed.
		batches := s.value(t, "weave_batches_total", map[string]string{"pipeline": c.name, "step": "source.generate"})
		var n int
		for _, b := range kids[""] {
			if b.Attrs["weave.pipeline"] != c.name {
				continue
			}
			n++
			var names []string
			for _, k := range kids[b.SpanID] {
				names = append(names, k.Name)
			}
			if strings.Join(names, ",") != "stage keep,sink parts" {
				t.Errorf("%s batch span with children %v", c.name, names)
			}
		}
		if n == 0 || float64(n) != batches {
			t.Errorf("%s: %d batch spans, %v batches counted", c.name, n, batches)
		}
	}
	if a := end["alpha"]; a.Reloads != 0 || a.Restarts != 0 {
		t.Errorf("alpha at the end: %+v, want no reload and no restart", a)
	}
	// serve's own figures, per pipeline.
	for _, c := range []struct {
		metric string
		labels map[string]string
		want   float64
	}{
		{"weave_pipeline_reloads_total", map[string]string{"pipeline": "beta"}, 1},
		{"weave_pipeline_reloads_total", map[string]string{"pipeline": "alpha"}, 0},
		{"weave_pipeline_restarts_total", map[string]string{"pipeline": "alpha"}, 0},
		{"weave_pipeline_state", map[string]string{"pipeline": "alpha", "state": "stopped"}, 1},
		{"weave_pipeline_state", map[string]string{"pipeline": "alpha", "state": "running"}, 0},
		{"weave_pipeline_state", map[string]string{"pipeline": "beta", "state": "finished"}, 1},
	} {
		if got := s.value(t, c.metric, c.labels); got != c.want {
			t.Errorf("%s%v = %v, want %v", c.metric, c.labels, got, c.want)
		}
	}
	log := p.output()
	for want, n := range map[string]int{
		`msg="run summary" pipeline=beta exit="drained: its file changed"`:   1,
		`msg="run summary" pipeline=beta exit="end of input"`:                1,
		`msg="run summary" pipeline=alpha exit="drained: stopped over HTTP"`: 2,
	} {
		if got := strings.Count(log, want); got != n {
			t.Errorf("%d %q in the log, want %d", got, want, n)
		}
	}
	if strings.Contains(log, serveToken) {
		t.Errorf("the token is in the log")
	}

	// (e) weave test passes on both pipelines' test files.
	out, err := exec.Command(crashtest.Weave(t), "test", dir).CombinedOutput()
	if err != nil || strings.Count(string(out), "--- PASS: ") != 2 {
		t.Errorf("weave test %s: %v\n%s", dir, err, out)
	}

	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	<-p.exited
	if code := p.cmd.ProcessState.ExitCode(); code != 143 {
		t.Errorf("exit %d after SIGTERM, want 143", code)
	}
}

// status is one entry of GET /pipelines.
type status struct {
	Name              string
	State             string
	Restarts, Reloads int
	RowsIn            int64  `json:"rows_in"`
	RowsOut           int64  `json:"rows_out"`
	LastError         string `json:"last_error"`
	ReloadError       string `json:"reload_error"`
}

func pipelines(t *testing.T, p *serveProc) map[string]status {
	t.Helper()
	code, body := p.request(t, http.MethodGet, "/pipelines", "")
	if code != http.StatusOK {
		t.Fatalf("GET /pipelines = %d %s", code, body)
	}
	var list []status
	if err := json.Unmarshal([]byte(body), &list); err != nil {
		t.Fatalf("GET /pipelines: %v: %s", err, body)
	}
	m := map[string]status{}
	for _, s := range list {
		m[s.Name] = s
	}
	return m
}

// partIDs reads the id of every row in dir's JSON Lines parts.
func partIDs(t *testing.T, dir string) []string {
	t.Helper()
	parts, err := filepath.Glob(filepath.Join(dir, "*.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, f := range parts {
		if st, err := os.Stat(f); err == nil && st.Size() == 0 {
			continue // a part a drain opened and closed empty
		}
		ids = append(ids, jsonlIDs(t, f)...)
	}
	return ids
}

type scraped map[string]*dto.MetricFamily

func scrape(t *testing.T, p *serveProc) scraped {
	t.Helper()
	code, body := p.request(t, http.MethodGet, "/metrics", "")
	if code != http.StatusOK {
		t.Fatalf("/metrics = %d", code)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := parser.TextToMetricFamilies(strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	return fams
}

func (s scraped) value(t *testing.T, name string, want map[string]string) float64 {
	t.Helper()
next:
	for _, m := range s[name].GetMetric() {
		for _, l := range m.GetLabel() {
			if v, ok := want[l.GetName()]; ok && v != l.GetValue() {
				continue next
			}
		}
		if m.Gauge != nil {
			return m.GetGauge().GetValue()
		}
		return m.GetCounter().GetValue()
	}
	t.Fatalf("no series %s%v", name, want)
	return 0
}
