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
// max(floor, 2×live). The runtime applies GOGC to more than the live heap
// (the stacks and globals it scans), which a large GOGC multiplies, so the
// pacer reads the goal back (/gc/heap/goal:bytes) and scales GOGC to meet
// the floor. The sentinel is made in package init, before the runtime's
// first cycle (at 4 MiB, during init) usually starts: one made by Start
// while that cycle marked survived it, the pacer missed it, and the goal
// after it was 4 MiB×(1+GOGC) plus the roots times GOGC (31): 174 MiB for
// a 128 MiB floor, and W1's peak RSS near 270 MB in a third of the runs. The runtime applies GOGC to more than the live heap
// (the stacks and globals it scans), which a large GOGC multiplies: after
// a cycle that found 4 MB live, GOGC 3100 put the goal at 174 MiB, not
// 128, and W1's peak RSS at 1M rows near 270 MB. So the pacer reads the
// goal back (/gc/heap/goal:bytes) and scales GOGC down to meet the floor. It never sets GOGC below 100, so it never makes the
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
	sample  []metrics.Sample // the live heap, then the goal
}

// sentinel is the object whose finalizer runs after each cycle; its
// pointer keeps it out of the tiny allocator (whose blocks are freed, and
// their finalizers run, only when every object in them is garbage).
type sentinel struct{ _ *byte }

// armed is the pacer the sentinel serves (nil: none).
var armed atomic.Pointer[Pacer]

func init() { runtime.SetFinalizer(&sentinel{}, afterCycle) }

// Start sets a heap floor of floor bytes for the rest of the process (or
// until Stop). It replaces the GOGC setting: a caller honouring a user's
// GOGC does not call it.
func Start(floor uint64) *Pacer {
	p := &Pacer{floor: floor, sample: []metrics.Sample{{Name: "/gc/heap/live:bytes"}, {Name: "/gc/heap/goal:bytes"}}}
	armed.Store(p)
	live, _ := p.read()
	p.set(live)
	return p
}

// afterCycle runs on the finalizer goroutine after each collection.
func afterCycle(s *sentinel) {
	if p := armed.Load(); p != nil && !p.stopped.Load() {
		p.cycles.Add(1)
		live, _ := p.read()
		p.set(live)
	}
	runtime.SetFinalizer(s, afterCycle)
}

// set sets GOGC for a last cycle that found live bytes live (0: no cycle
// yet, when the runtime's first goal is 4 MiB).
func (p *Pacer) set(live uint64) {
	pct := Percent(max(live, 4<<20), p.floor)
	debug.SetGCPercent(pct)
	if _, goal := p.read(); pct > 100 {
		debug.SetGCPercent(Rescale(pct, live, goal, p.floor))
	}
}

// read returns the live heap the last cycle found and the current goal (0
// for a metric the runtime lacks).
func (p *Pacer) read() (live, goal uint64) {
	metrics.Read(p.sample)
	if s := p.sample[0].Value; s.Kind() == metrics.KindUint64 {
		live = s.Uint64()
	}
	if s := p.sample[1].Value; s.Kind() == metrics.KindUint64 {
		goal = s.Uint64()
	}
	return live, goal
}

// Cycles is the number of collections the pacer has seen.
func (p *Pacer) Cycles() int64 { return p.cycles.Load() }

// Stop ends the floor and puts GOGC back to 100.
func (p *Pacer) Stop() {
	if p.stopped.Swap(true) {
		return
	}
	armed.CompareAndSwap(p, nil)
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

// Rescale is the GOGC that moves a goal of goal bytes, which GOGC pct set
// after a cycle that found live bytes live, to the floor: the runtime's
// goal (live + (live+roots)×GOGC/100, or 4 MiB×GOGC/100 before the first
// cycle) grows in proportion to GOGC. It is pct when the goal is at or
// under the floor, and never below 100.
func Rescale(pct int, live, goal, floor uint64) int {
	if goal <= floor || goal <= live || floor <= live {
		return pct
	}
	return max(int(uint64(pct)*(floor-live)/(goal-live)), 100)
}
