package engine

import (
	"sync/atomic"
	"time"
)

// latencyBounds are the upper bounds of a Histogram's buckets, on the
// 1-2.5-5 ladder Prometheus users know, from 10 µs (a pass-through stage on
// a small batch) to 30 s (a sink write that retried through an outage).
// Fixed bounds keep Observe free of locks and allocations; a batch that
// takes longer lands in the last, unbounded bucket.
var latencyBounds = [...]time.Duration{
	10 * time.Microsecond, 25 * time.Microsecond, 50 * time.Microsecond,
	100 * time.Microsecond, 250 * time.Microsecond, 500 * time.Microsecond,
	time.Millisecond, 2500 * time.Microsecond, 5 * time.Millisecond,
	10 * time.Millisecond, 25 * time.Millisecond, 50 * time.Millisecond,
	100 * time.Millisecond, 250 * time.Millisecond, 500 * time.Millisecond,
	time.Second, 2500 * time.Millisecond, 5 * time.Second,
	10 * time.Second, 30 * time.Second,
}

// Histogram counts durations in fixed buckets (LatencyBounds). The engine
// observes each batch once per step, never each row; Observe is a few
// compares and two atomic adds, safe from any number of goroutines, and the
// zero value is ready to use. Readers take a Snapshot at scrape time.
type Histogram struct {
	// counts[i] is how many observations fell in bucket i (not
	// cumulative); the last one is the unbounded bucket.
	counts [len(latencyBounds) + 1]atomic.Uint64
	sum    atomic.Int64 // nanoseconds
}

// LatencyBounds returns the buckets' upper bounds, smallest first; the
// unbounded bucket after the last is implied.
func LatencyBounds() []time.Duration { return append([]time.Duration(nil), latencyBounds[:]...) }

// Observe counts one duration.
func (h *Histogram) Observe(d time.Duration) {
	i := 0
	for i < len(latencyBounds) && d > latencyBounds[i] {
		i++
	}
	h.counts[i].Add(1)
	h.sum.Add(int64(d))
}

// Since observes the time elapsed since start.
func (h *Histogram) Since(start time.Time) { h.Observe(time.Since(start)) }

// HistogramSnapshot is a Histogram read at one moment.
type HistogramSnapshot struct {
	// Count is the number of observations: the sum of the buckets, so a
	// snapshot taken while others observe is still consistent with itself.
	Count uint64
	Sum   time.Duration
	// Cumulative[i] counts the observations <= LatencyBounds()[i], as
	// Prometheus buckets do.
	Cumulative []uint64
}

// Snapshot reads the histogram. Each bucket is read atomically; Sum may
// include an observation whose bucket was read a moment before it landed.
func (h *Histogram) Snapshot() HistogramSnapshot {
	s := HistogramSnapshot{Cumulative: make([]uint64, len(latencyBounds))}
	for i := range h.counts {
		s.Count += h.counts[i].Load()
		if i < len(latencyBounds) {
			s.Cumulative[i] = s.Count
		}
	}
	s.Sum = time.Duration(h.sum.Load())
	return s
}
