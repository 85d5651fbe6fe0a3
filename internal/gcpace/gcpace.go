// Package gcpace gives the Go collector a floor: no cycle starts before
// the heap reaches a set size, and above half of it the collector paces
// as GOGC=100 does.
//
// # Why
//
// With GOGC=100 the collector lets the heap grow to twice what the last
// cycle found live. In a streaming pipeline most of the live heap is the
// batches in flight between steps, and how many are in flight when a cycle
// marks swings from one cycle to the next (for issue 16's W1 with Go
// guests: 46 to 67 MB live around a mean of 57). The peak heap is twice
// the largest live heap any cycle found, so a long run, which samples that
// swing 40 times, peaks higher than a short one that samples it 3 times:
// W1's peak RSS rose 7-12% from 1M to 10M rows with nothing growing.
// With a floor above twice the usual live heap, the goal is the floor at
// every cycle, whatever the sample, and the peak is the same for a short
// run and a long one (BENCHMARKS.md, "W1 peak memory"; RATIONALE.md).
//
// # How
//
// A finalizer that re-arms itself runs once after every cycle, reads the
// live heap (runtime/metrics) and sets GOGC so that the next goal is
// max(floor, 2×live). It never sets GOGC below 100, so it never makes the
// collector run more often than the default; where the live heap is small
// it runs less often.
package gcpace

import (
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"sync/atomic"
)

// Pacer is the floor Start installed.
type Pacer struct {
	floor   uint64
	stopped atomic.Bool
	cycles  atomic.Int64
	sample  []metrics.Sample
}

// sentinel is the object whose finalizer runs after each cycle.
type sentinel struct{ p *Pacer }

// Start sets a heap floor of floor bytes for the rest of the process (or
// until Stop). It replaces the GOGC setting: a caller honouring a user's
// GOGC does not call it.
func Start(floor uint64) *Pacer {
	p := &Pacer{floor: floor, sample: []metrics.Sample{{Name: "/gc/heap/live:bytes"}}}
	// Before the first cycle nothing is known to be live; the runtime's
	// first goal is 4 MiB.
	debug.SetGCPercent(Percent(4<<20, floor))
	runtime.SetFinalizer(&sentinel{p}, afterCycle)
	return p
}

// afterCycle runs on the finalizer goroutine after each collection.
func afterCycle(s *sentinel) {
	p := s.p
	if p.stopped.Load() {
		return
	}
	p.cycles.Add(1)
	metrics.Read(p.sample)
	live := uint64(0)
	if p.sample[0].Value.Kind() == metrics.KindUint64 {
		live = p.sample[0].Value.Uint64()
	}
	debug.SetGCPercent(Percent(live, p.floor))
	runtime.SetFinalizer(s, afterCycle)
}

// Cycles is the number of collections the pacer has seen.
func (p *Pacer) Cycles() int64 { return p.cycles.Load() }

// Stop ends the floor and puts GOGC back to 100.
func (p *Pacer) Stop() {
	if p.stopped.Swap(true) {
		return
	}
	debug.SetGCPercent(100)
}

// Percent is the GOGC value that makes the goal after a cycle that found
// live bytes live max(floor, 2×live): 100 once live is half the floor or
// more, more below it.
func Percent(live, floor uint64) int {
	live = max(live, 1)
	if 2*live >= floor {
		return 100
	}
	// Capped so that a tiny live heap does not overflow the runtime's int32.
	return int(min((floor-live)*100/live, 1_000_000))
}
