package coordinator

import (
	"sync/atomic"
	"time"
)

// Progress is a worker's live account of its splits, safe to read while
// Run runs: weave run --http exports it on /metrics and answers /readyz
// from its phase. Give one in Job.Progress; Run updates it.
type Progress struct {
	// Planned counts the splits this worker published; Taken the splits
	// it started reading, Done those it finished, Redone those of them
	// handed out before (an earlier worker died or gave them back), and
	// Skipped those it was handed that a position marked finished.
	Planned, Taken, Done, Redone, Skipped atomic.Int64
	// Left is the job's splits in the stream, waiting or leased, at the
	// worker's last count (after each split, and while it waits); -1
	// before the first count.
	Left  atomic.Int64
	phase atomic.Int32
}

// NewProgress returns a Progress in PhaseConnecting with Left unknown.
func NewProgress() *Progress {
	p := &Progress{}
	p.Left.Store(-1)
	return p
}

// Phase is where a worker is in its job.
type Phase int32

// The phases, in the order a worker goes through them (it moves between
// reading and waiting until the job ends).
const (
	PhaseConnecting Phase = iota // connecting, creating the stream and buckets
	PhasePlanning                // taking part in planning
	PhaseReading                 // reading a split
	PhaseWaiting                 // no split to take: others hold leases, or a plan is under way
	PhaseEnded                   // Run returned
)

// Phases lists every phase, in order.
func Phases() []Phase {
	return []Phase{PhaseConnecting, PhasePlanning, PhaseReading, PhaseWaiting, PhaseEnded}
}

func (ph Phase) String() string {
	switch ph {
	case PhaseConnecting:
		return "connecting"
	case PhasePlanning:
		return "planning"
	case PhaseReading:
		return "reading"
	case PhaseWaiting:
		return "waiting"
	default:
		return "ended"
	}
}

// Phase is the worker's phase now.
func (p *Progress) Phase() Phase { return Phase(p.phase.Load()) }

func (p *Progress) set(ph Phase) { p.phase.Store(int32(ph)) }

// SplitRead is one split a worker read to its end.
type SplitRead struct {
	ID, Text string
	Rows     int64
	// Redone: the split had been handed out before.
	Redone   bool
	Duration time.Duration
}
