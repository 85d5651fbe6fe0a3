package engine_test

import (
	"sync"
	"testing"
	"time"

	"github.com/dataweaver/dataweaver/engine"
)

func TestHistogramBuckets(t *testing.T) {
	bounds := engine.LatencyBounds()
	tests := []struct {
		name string
		d    time.Duration
		want int // index of the first cumulative bucket that counts d; len(bounds) for +Inf only
	}{
		{"zero", 0, 0},
		{"on the first bound", bounds[0], 0},
		{"just past the first bound", bounds[0] + 1, 1},
		{"one millisecond", time.Millisecond, 6},
		{"on the last bound", bounds[len(bounds)-1], len(bounds) - 1},
		{"past the last bound", time.Hour, len(bounds)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var h engine.Histogram
			h.Observe(tt.d)
			s := h.Snapshot()
			if s.Count != 1 || s.Sum != tt.d {
				t.Fatalf("count %d sum %s, want 1 and %s", s.Count, s.Sum, tt.d)
			}
			for i, c := range s.Cumulative {
				want := uint64(0)
				if i >= tt.want {
					want = 1
				}
				if c != want {
					t.Fatalf("bucket <= %s holds %d, want %d", bounds[i], c, want)
				}
			}
		})
	}
}

// TestHistogramConcurrent: observations from many goroutines are all
// counted (go test -race checks Observe and Snapshot together).
func TestHistogramConcurrent(t *testing.T) {
	var h engine.Histogram
	const goroutines, each = 8, 1000
	var wg sync.WaitGroup
	for g := 0; g < goroutines; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < each; i++ {
				h.Observe(time.Duration(i) * time.Microsecond)
				if i%100 == 0 {
					s := h.Snapshot()
					if s.Cumulative[len(s.Cumulative)-1] > s.Count {
						t.Errorf("cumulative bucket %d above count %d", s.Cumulative[len(s.Cumulative)-1], s.Count)
					}
				}
			}
		}()
	}
	wg.Wait()
	s := h.Snapshot()
	if s.Count != goroutines*each {
		t.Fatalf("count %d, want %d", s.Count, goroutines*each)
	}
	var want time.Duration
	for i := 0; i < each; i++ {
		want += time.Duration(i) * time.Microsecond
	}
	if s.Sum != goroutines*want {
		t.Fatalf("sum %s, want %s", s.Sum, goroutines*want)
	}
}

func BenchmarkHistogramObserve(b *testing.B) {
	var h engine.Histogram
	for i := 0; i < b.N; i++ {
		h.Observe(3 * time.Millisecond)
	}
}

// BenchmarkHistogramSince is what the engine pays per batch and step:
// reading the clock twice and observing.
func BenchmarkHistogramSince(b *testing.B) {
	var h engine.Histogram
	for i := 0; i < b.N; i++ {
		h.Since(time.Now())
	}
}
