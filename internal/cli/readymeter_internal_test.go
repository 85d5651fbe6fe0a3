package cli

import (
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/dataweaver/dataweaver/engine"
	"github.com/dataweaver/dataweaver/internal/syncbuf"
)

// TestMeterWhenReady: while the stages prepare (Pipeline.Warm: modules
// compiling) the run logs no progress record; once Warm succeeds the
// records come; after a failed Warm, or a stop first, none ever does.
func TestMeterWhenReady(t *testing.T) {
	const every = time.Millisecond
	for _, tc := range []struct {
		name    string
		warmErr error
		stopped bool // stop before Warm returns
		want    bool // records after Warm returns
	}{
		{"ready", nil, false, true},
		{"fails", errors.New("module does not load"), false, false},
		{"stopped while warming", nil, true, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var log syncbuf.Buffer
			w := &weave{opts: Options{Terminal: func() (bool, func() int) { return false, nil }},
				logger: slog.New(slog.NewTextHandler(&log, nil))}
			release := make(chan struct{})
			p := &engine.Pipeline{Name: "p", Source: engine.SourceStep{Name: "source.x"},
				Warm: func() error { <-release; return tc.warmErr }}
			p.Metrics = p.NewMetrics()
			m := w.meterWhenReady(p, every)
			t.Cleanup(m.stop)
			warmed := make(chan error, 1)
			go func() { warmed <- p.Warm() }()
			// 50 ticks of the interval with the stages not ready: a meter
			// started at once would have logged by now.
			time.Sleep(50 * every)
			if got := log.String(); got != "" {
				t.Fatalf("logged while the stages prepared:\n%s", got)
			}
			if tc.stopped {
				m.stop()
			}
			close(release)
			if err := <-warmed; !errors.Is(err, tc.warmErr) {
				t.Fatalf("Warm returned %v, want %v", err, tc.warmErr)
			}
			if !tc.want {
				time.Sleep(50 * every)
				if got := log.String(); got != "" {
					t.Fatalf("logged after the start %s:\n%s", tc.name, got)
				}
				return
			}
			for !strings.Contains(log.String(), "msg=progress") {
				time.Sleep(every)
			}
		})
	}
}
