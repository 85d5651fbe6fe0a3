package e2e

import (
	"bytes"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil/promlint"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// TestSplitsMetrics runs two `weave run --http` workers of a coordinated
// file: each answers /readyz 200 while at work on the job and 503 once it
// ended, and its /metrics holds weave_splits_* (the splits done adding up
// over the workers to the job's, none left) beside the steps' counters
// added up over its splits; each ends with a summary naming its splits.
func TestSplitsMetrics(t *testing.T) {
	j := newSplitsJob(t, startNATS(t), 6, 400)
	j.p.Flags = []string{"--http", "127.0.0.1:0", "--http-linger", "1h"}
	ws := j.start(t, 2)
	addrs := make([]string, len(ws))
	ready := make([]bool, len(ws))
	for i, w := range ws {
		for addrs[i] == "" {
			if w.Exited() {
				t.Fatalf("worker %d ended before serving metrics", i)
			}
			if m := metricsAddrLine.FindStringSubmatch(w.Output()); m != nil {
				addrs[i] = m[1]
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	// Ready while the job runs: polled until each worker answered 200
	// once, or its run ended (a worker the other left no split to).
	for !ready[0] || !ready[1] {
		for i, w := range ws {
			if ready[i] {
				continue
			}
			code, body := get(t, addrs[i], "/readyz")
			switch {
			case code == http.StatusOK:
				ready[i] = true
			case strings.Contains(w.Output(), runEnded):
				t.Logf("worker %d ended before /readyz was asked while it worked (%d %s)", i, code, body)
				ready[i] = true
			}
		}
		time.Sleep(2 * time.Millisecond)
	}

	var done, rowsOut float64
	for i, w := range ws {
		w.WaitOutput(t, runEnded)
		if code, body := get(t, addrs[i], "/readyz"); code != http.StatusServiceUnavailable || !strings.Contains(body, "worker ended") {
			t.Errorf("worker %d: /readyz after the job: %d %q, want 503 worker ended", i, code, body)
		}
		_, text := get(t, addrs[i], "/metrics")
		problems, err := promlint.New(strings.NewReader(text)).Lint()
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range problems {
			if strings.HasPrefix(p.Metric, "weave_splits") || strings.HasPrefix(p.Metric, "weave_worker") {
				t.Errorf("promlint: %s: %s", p.Metric, p.Text)
			}
		}
		parser := expfmt.NewTextParser(model.UTF8Validation)
		families, err := parser.TextToMetricFamilies(bytes.NewReader([]byte(text)))
		if err != nil {
			t.Fatal(err)
		}
		value := func(name string, labels ...string) float64 {
			t.Helper()
			f := families[name]
			if f == nil {
				t.Errorf("worker %d: no %s in /metrics", i, name)
				return -1
			}
		next:
			for _, m := range f.Metric {
				have := map[string]string{}
				for _, l := range m.Label {
					have[l.GetName()] = l.GetValue()
				}
				for k := 0; k+1 < len(labels); k += 2 {
					if have[labels[k]] != labels[k+1] {
						continue next
					}
				}
				if m.Counter != nil {
					return m.Counter.GetValue()
				}
				return m.Gauge.GetValue()
			}
			t.Errorf("worker %d: no %s%v in /metrics", i, name, labels)
			return -1
		}
		d := value("weave_splits_done_total", "pipeline", "splits")
		if taken := value("weave_splits_taken_total", "pipeline", "splits"); taken != d {
			t.Errorf("worker %d: %v splits taken, %v done: want the same (none failed)", i, taken, d)
		}
		if left := value("weave_splits_left", "pipeline", "splits"); left != 0 {
			t.Errorf("worker %d: weave_splits_left = %v after the job, want 0", i, left)
		}
		if ph := value("weave_worker_phase", "pipeline", "splits", "phase", "ended"); ph != 1 {
			t.Errorf("worker %d: weave_worker_phase{phase=ended} = %v, want 1", i, ph)
		}
		done += d
		if d > 0 {
			rowsOut += value("weave_rows_out_total", "pipeline", "splits", "kind", "sink", "step", "sinks[0].file")
		}
	}
	if done != 6 {
		t.Errorf("weave_splits_done_total adds up to %v over the workers, want the job's 6 splits", done)
	}
	if int(rowsOut) != j.rows {
		t.Errorf("weave_rows_out_total of the file sink adds up to %v over the workers, want %d", rowsOut, j.rows)
	}
	listed := 0
	for _, w := range ws {
		w.Signal(t, os.Interrupt) // ends the linger
		w.Wait(t)
		out := w.Output()
		if !strings.Contains(out, "of splits: read ") {
			t.Errorf("no worker summary in:\n%s", out)
		}
		listed += strings.Count(out, "  split ")
	}
	if listed != 6 {
		t.Errorf("the workers' summaries name %d splits, want 6", listed)
	}
	j.checkExact(t)
	j.checkParts(t, 6)
}

// get asks a worker's metrics server for path and returns its status
// and body.
func get(t *testing.T, addr, path string) (int, string) {
	t.Helper()
	resp, err := http.Get("http://" + addr + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(b)
}
