package progress_test

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/dataweaver/dataweaver/internal/progress"
)

func TestAttrs(t *testing.T) {
	tests := []struct {
		name  string
		stats progress.Stats
		want  map[string]any // JSON values; float64 for numbers
	}{
		{"unsized", progress.Stats{Rows: 1_234_567, Bytes: 3 << 20, Elapsed: 2 * time.Second},
			map[string]any{"rows": 1234567.0, "rows_per_s": 617283.0, "bytes": float64(3 << 20), "elapsed": float64(2 * time.Second)}},
		{"sized", progress.Stats{Rows: 5000, Bytes: 512, Elapsed: 10 * time.Second, Done: 25, Total: 100},
			map[string]any{"rows": 5000.0, "rows_per_s": 500.0, "bytes": 512.0, "elapsed": float64(10 * time.Second),
				"percent": 25.0, "bytes_left": 75.0, "eta": float64(30 * time.Second)}},
		{"at the end: no eta", progress.Stats{Rows: 10, Elapsed: time.Second, Done: 100, Total: 100},
			map[string]any{"rows": 10.0, "rows_per_s": 10.0, "bytes": 0.0, "elapsed": float64(time.Second),
				"percent": 100.0, "bytes_left": 0.0}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			l := slog.New(slog.NewJSONHandler(&buf, nil))
			l.LogAttrs(t.Context(), slog.LevelInfo, progress.LogMessage, progress.Attrs(tt.stats)...)
			var got map[string]any
			if err := json.Unmarshal(buf.Bytes(), &got); err != nil {
				t.Fatalf("%v: %s", err, buf.Bytes())
			}
			for _, k := range []string{"time", "level", "msg"} {
				delete(got, k)
			}
			if len(got) != len(tt.want) {
				t.Errorf("attributes %v, want %v", got, tt.want)
			}
			for k, v := range tt.want {
				if got[k] != v {
					t.Errorf("%s = %v, want %v", k, got[k], v)
				}
			}
		})
	}
}

// TestTicker checks that records come while the ticker runs and stop with
// it; how many is timing, so only "at least two" is asserted.
func TestTicker(t *testing.T) {
	var out syncBuffer
	l := slog.New(slog.NewTextHandler(&out, nil))
	reads := make(chan struct{}, 100)
	tk := progress.StartTicker(l, time.Millisecond, func() progress.Stats {
		select {
		case reads <- struct{}{}:
		default:
		}
		return progress.Stats{Rows: 42, Elapsed: time.Second}
	})
	<-reads
	<-reads
	tk.Stop()
	tk.Stop()
	n := len(out.String())
	if got := strings.Count(out.String(), "msg=progress rows=42 rows_per_s=42 bytes=0 elapsed=1s\n"); got < 1 {
		t.Errorf("no progress record in %q", out.String())
	}
	time.Sleep(5 * time.Millisecond)
	if len(out.String()) != n {
		t.Error("records after Stop")
	}
}
