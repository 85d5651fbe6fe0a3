package progress_test

import (
	"bytes"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dataweaver/dataweaver/internal/progress"
)

func TestLine(t *testing.T) {
	tests := []struct {
		name  string
		stats progress.Stats
		width int
		want  string
	}{
		{"start", progress.Stats{}, 80, "0 rows  0 rows/s  0:00"},
		{"unsized", progress.Stats{Rows: 1_234_567, Bytes: 3 << 20, Elapsed: 2 * time.Second}, 80,
			"1.2M rows  617.3k rows/s  3.0 MiB  0:02"},
		{"sized", progress.Stats{Rows: 5000, Bytes: 512, Elapsed: 10 * time.Second, Done: 25, Total: 100}, 100,
			"5.0k rows  500 rows/s  512 B  0:10  [==========>                             ]  25%  ETA 0:30"},
		{"narrow bar", progress.Stats{Rows: 5000, Bytes: 512, Elapsed: 10 * time.Second, Done: 50, Total: 100}, 70,
			"5.0k rows  500 rows/s  512 B  0:10  [========>       ]  50%  ETA 0:10"},
		{"too narrow for a bar", progress.Stats{Rows: 5000, Bytes: 512, Elapsed: 10 * time.Second, Done: 50, Total: 100}, 60,
			"5.0k rows  500 rows/s  512 B  0:10  50%  ETA 0:10"},
		{"clipped", progress.Stats{Rows: 5000, Elapsed: time.Second}, 12, "5.0k rows  "},
		{"done", progress.Stats{Rows: 10, Elapsed: time.Hour + 2*time.Second, Done: 100, Total: 100}, 0,
			"10 rows  0 rows/s  1:00:02  [========================================] 100%"},
		{"over total", progress.Stats{Done: 150, Total: 100}, 0,
			"0 rows  0 rows/s  0:00  [========================================] 100%"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := progress.Line(tt.stats, tt.width)
			if got != tt.want {
				t.Errorf("Line =\n%q\nwant\n%q", got, tt.want)
			}
			if tt.width > 0 && len(got) >= tt.width {
				t.Errorf("line of %d columns does not fit %d", len(got), tt.width)
			}
		})
	}
}

func TestUnits(t *testing.T) {
	for _, tt := range []struct{ got, want string }{
		{progress.Count(999), "999"},
		{progress.Count(1000), "1.0k"},
		{progress.Count(7_000_000_000), "7.0G"},
		{progress.Bytes(1023), "1023 B"},
		{progress.Bytes(1536), "1.5 KiB"},
		{progress.Bytes(5 << 30), "5.0 GiB"},
		{progress.Clock(59*time.Second + 600*time.Millisecond), "1:00"},
		{progress.Grouped(0), "0"},
		{progress.Grouped(999), "999"},
		{progress.Grouped(1000), "1,000"},
		{progress.Grouped(1_234_567), "1,234,567"},
		{progress.Grouped(-12_345), "-12,345"},
		{progress.Clock(3*time.Hour + 4*time.Minute + 5*time.Second), "3:04:05"},
	} {
		if tt.got != tt.want {
			t.Errorf("got %q, want %q", tt.got, tt.want)
		}
	}
}

// syncBuffer lets the test read what the meter's goroutine writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestMeter checks the terminal codes around the line, not the timing: the
// line is drawn, a log record clears it and brings it back, Stop erases it.
func TestMeter(t *testing.T) {
	var out syncBuffer
	drawn := make(chan struct{}, 100)
	m := progress.Start(&out, time.Millisecond, func() progress.Stats {
		select {
		case drawn <- struct{}{}:
		default:
		}
		return progress.Stats{Rows: 1}
	}, func() int { return 80 })
	<-drawn
	<-drawn // the first draw has been written once the second read starts
	if _, err := m.Writer().Write([]byte("log record\n")); err != nil {
		t.Fatal(err)
	}
	m.Stop()
	m.Stop()
	got := out.String()
	if !strings.Contains(got, "\r\x1b[K1 rows  ") {
		t.Errorf("no line drawn: %q", got)
	}
	if !strings.Contains(got, "\r\x1b[Klog record\n\r\x1b[K1 rows") {
		t.Errorf("log record not written on a cleared line and followed by a redraw: %q", got)
	}
	if !strings.HasSuffix(got, "\r\x1b[K") {
		t.Errorf("Stop left the line on screen: %q", got)
	}
	n := len(out.String())
	time.Sleep(5 * time.Millisecond)
	if len(out.String()) != n {
		t.Error("meter still drawing after Stop")
	}
	if _, err := m.Writer().Write([]byte("after\n")); err != nil || !strings.HasSuffix(out.String(), "after\n") {
		t.Errorf("write after Stop: %q", out.String())
	}
}
