package telemetry_test

import (
	"bytes"
	"io"
	"net/http"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/prometheus/client_golang/prometheus/testutil/promlint"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/dataweaver/dataweaver/internal/cli"
	"github.com/dataweaver/dataweaver/internal/syncbuf"
)

// weaveRun is `weave run` running in this process through the CLI's own
// entry point, as the binary runs it.
type weaveRun struct {
	addr   string
	stderr *syncbuf.Buffer
	code   chan int
	sigs   chan os.Signal
	exited bool
}

var addrLine = regexp.MustCompile(`msg="serving metrics and health" addr=(\S+)`)

// startWeave runs `weave run ARGS…` and waits until it printed the
// address it serves on. The Arrow memory it allocates is checked at the
// end of the test.
func startWeave(t *testing.T, args ...string) *weaveRun {
	t.Helper()
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	r := &weaveRun{stderr: &syncbuf.Buffer{}, code: make(chan int, 1), sigs: make(chan os.Signal, 2)}
	go func() {
		r.code <- cli.Main(append([]string{"weave", "run"}, args...), cli.Options{
			Stdout: io.Discard, Stderr: r.stderr, Signals: r.sigs, Mem: mem,
		})
	}()
	t.Cleanup(func() {
		if !r.exited {
			r.sigs <- os.Interrupt
			r.sigs <- os.Interrupt
			r.wait(t)
		}
		mem.AssertSize(t, 0)
	})
	for {
		if m := addrLine.FindStringSubmatch(r.stderr.String()); m != nil {
			r.addr = m[1]
			return r
		}
		select {
		case code := <-r.code:
			r.exited = true
			t.Fatalf("weave exited with %d before serving:\n%s", code, r.stderr)
		case <-time.After(time.Millisecond):
		}
	}
}

// wait returns weave's exit code.
func (r *weaveRun) wait(t *testing.T) int {
	t.Helper()
	code := <-r.code
	r.exited = true
	return code
}

// waitStderr waits until weave wrote s to stderr, failing if it exits first.
func (r *weaveRun) waitStderr(t *testing.T, s string) {
	t.Helper()
	for !strings.Contains(r.stderr.String(), s) {
		select {
		case code := <-r.code:
			r.exited = true
			if strings.Contains(r.stderr.String(), s) {
				return
			}
			t.Fatalf("weave exited with %d before writing %q:\n%s", code, s, r.stderr)
		case <-time.After(time.Millisecond):
		}
	}
}

// get fetches path from the server and returns the status and body.
func get(t *testing.T, addr, path string) (int, string) {
	t.Helper()
	resp, err := http.Get("http://" + addr + path)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	return resp.StatusCode, string(body)
}

// scrape is one parsed /metrics answer.
type scrape map[string]*dto.MetricFamily

func scrapeMetrics(t *testing.T, addr string) scrape {
	t.Helper()
	code, body := get(t, addr, "/metrics")
	if code != http.StatusOK {
		t.Fatalf("/metrics answered %d: %s", code, body)
	}
	// promlint is Prometheus's own check of names, units and help.
	problems, err := promlint.New(strings.NewReader(body)).Lint()
	if err != nil {
		t.Fatalf("promlint: %v", err)
	}
	for _, pr := range problems {
		t.Errorf("promlint: %s: %s", pr.Metric, pr.Text)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(strings.NewReader(body))
	if err != nil {
		t.Fatalf("/metrics is not the text format: %v\n%s", err, body)
	}
	return fams
}

// find returns the series of family name whose labels include want.
func (s scrape) find(name string, want map[string]string) *dto.Metric {
	f := s[name]
	if f == nil {
		return nil
	}
next:
	for _, m := range f.GetMetric() {
		have := map[string]string{}
		for _, l := range m.GetLabel() {
			have[l.GetName()] = l.GetValue()
		}
		for k, v := range want {
			if have[k] != v {
				continue next
			}
		}
		return m
	}
	return nil
}

// value is a counter's or gauge's value; it fails the test when the series
// is missing.
func (s scrape) value(t *testing.T, name string, labels map[string]string) float64 {
	t.Helper()
	m := s.find(name, labels)
	if m == nil {
		t.Fatalf("no series %s%v in the scrape", name, labels)
	}
	switch {
	case m.Counter != nil:
		return m.Counter.GetValue()
	case m.Gauge != nil:
		return m.Gauge.GetValue()
	}
	t.Fatalf("%s%v is neither a counter nor a gauge", name, labels)
	return 0
}

// histCount is a histogram's observation count.
func (s scrape) histCount(t *testing.T, name string, labels map[string]string) uint64 {
	t.Helper()
	m := s.find(name, labels)
	if m == nil || m.Histogram == nil {
		t.Fatalf("no histogram %s%v in the scrape", name, labels)
	}
	return m.Histogram.GetSampleCount()
}

// summaryRow is one step's line of the run summary weave prints.
type summaryRow struct {
	step, kind                                      string
	rowsIn, rowsOut, skipped, deadLettered, batches int64
}

// parseSummary reads the per-step table from weave's stderr. Columns are
// found by their headers' right edges (the table is right-aligned), and
// digit separators are ignored, so added columns or formatting do not
// break it.
func parseSummary(t *testing.T, stderr string) []summaryRow {
	t.Helper()
	lines := strings.Split(stderr, "\n")
	h := -1
	for i, l := range lines {
		if strings.Contains(l, "rows in") && strings.Contains(l, "batches") {
			h = i
		}
	}
	if h < 0 {
		t.Fatalf("no summary table in:\n%s", stderr)
	}
	header := lines[h]
	cell := func(line, col string) string {
		end := strings.Index(header, col) + len(col)
		if end > len(line) {
			t.Fatalf("summary line %q has no column %q", line, col)
		}
		start := strings.LastIndex(line[:end], " ") + 1
		return line[start:end]
	}
	num := func(line, col string) int64 {
		s := strings.NewReplacer(",", "", "_", "", "'", "").Replace(cell(line, col))
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			t.Fatalf("summary column %q of %q: %v", col, line, err)
		}
		return n
	}
	var rows []summaryRow
	for _, l := range lines[h+1:] {
		f := strings.Fields(l)
		if len(f) < 3 || (f[1] != "source" && f[1] != "stage" && f[1] != "sink") {
			break
		}
		rows = append(rows, summaryRow{step: f[0], kind: f[1],
			rowsIn: num(l, "rows in"), rowsOut: num(l, "rows out"), skipped: num(l, "skipped"),
			deadLettered: num(l, "dead-lettered"), batches: num(l, "batches")})
	}
	if len(rows) == 0 {
		t.Fatalf("empty summary table in:\n%s", stderr)
	}
	return rows
}

// checkAgainstSummary checks that the scrape's per-step counters equal the
// summary's, and that each step's latency histogram counted every batch.
func checkAgainstSummary(t *testing.T, s scrape, pipeline string, rows []summaryRow) {
	t.Helper()
	for _, r := range rows {
		l := map[string]string{"pipeline": pipeline, "step": r.step, "kind": r.kind}
		for _, c := range []struct {
			metric string
			want   int64
		}{
			{"weave_rows_in_total", r.rowsIn},
			{"weave_rows_out_total", r.rowsOut},
			{"weave_rows_skipped_total", r.skipped},
			{"weave_rows_dead_lettered_total", r.deadLettered},
			{"weave_batches_total", r.batches},
		} {
			if got := s.value(t, c.metric, l); got != float64(c.want) {
				t.Errorf("%s%v = %v, the summary says %d", c.metric, l, got, c.want)
			}
		}
		if got := s.histCount(t, "weave_batch_duration_seconds", l); got != uint64(r.batches) {
			t.Errorf("weave_batch_duration_seconds_count%v = %d, want %d batches", l, got, r.batches)
		}
	}
}

func writeFile(t *testing.T, path, text string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
}

func countLines(t *testing.T, paths ...string) int64 {
	t.Helper()
	var n int64
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		n += int64(bytes.Count(b, []byte("\n")))
	}
	return n
}
