package telemetry_test

import (
	"log/slog"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/dataweaver/dataweaver/internal/telemetry"
)

// TestWorkerReadiness: a coordinated run's /readyz follows its worker's
// phase (ready while planning, reading or waiting), and /metrics carries
// the worker's split counters and phase.
func TestWorkerReadiness(t *testing.T) {
	var phase atomic.Value
	phase.Store("connecting")
	c := telemetry.NewCollector()
	c.Coordinate(func() []telemetry.Worker {
		return []telemetry.Worker{{Pipeline: "job", Phase: phase.Load().(string), Taken: 3, Done: 2, Redone: 1, Left: 4}}
	})
	srv, err := telemetry.Listen("127.0.0.1:0", c, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	for _, tc := range []struct {
		phase string
		code  int
		body  string
	}{
		{"connecting", http.StatusServiceUnavailable, "worker connecting"},
		{"planning", http.StatusOK, "ready"},
		{"reading", http.StatusOK, "ready"},
		{"waiting", http.StatusOK, "ready"},
		{"ended", http.StatusServiceUnavailable, "worker ended"},
	} {
		phase.Store(tc.phase)
		if code, body := get(t, srv.Addr(), "/readyz"); code != tc.code || !strings.Contains(body, tc.body) {
			t.Errorf("%s: /readyz %d %q, want %d %q", tc.phase, code, body, tc.code, tc.body)
		}
	}
	s := scrapeMetrics(t, srv.Addr())
	job := map[string]string{"pipeline": "job"}
	for name, want := range map[string]float64{"weave_splits_taken_total": 3, "weave_splits_done_total": 2,
		"weave_splits_redone_total": 1, "weave_splits_left": 4, "weave_splits_skipped_total": 0} {
		if got := s.value(t, name, job); got != want {
			t.Errorf("%s = %v, want %v", name, got, want)
		}
	}
	if got := s.value(t, "weave_worker_phase", map[string]string{"pipeline": "job", "phase": "ended"}); got != 1 {
		t.Errorf("weave_worker_phase{phase=ended} = %v, want 1", got)
	}
}
