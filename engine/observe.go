package engine

import (
	"sync/atomic"
	"time"
)

// This file holds what a monitoring endpoint reads from a running
// pipeline besides the counters of StepMetrics: the run's phase, the
// queues between steps, checkpoints, and optional interfaces steps
// implement to report their own figures. Everything here is read at
// scrape time; the run only stores a value when something changes, never
// per row.

// Phase is where a run is in its life.
type Phase int32

const (
	// PhaseStarting: the run has not opened every step yet.
	PhaseStarting Phase = iota
	// PhaseRunning: the source and every sink are open and batches flow.
	PhaseRunning
	// PhaseDraining: the source stopped reading (end of input or Drain);
	// the batches in flight are finishing.
	PhaseDraining
	// PhaseEnded: Run returned.
	PhaseEnded
)

func (p Phase) String() string {
	switch p {
	case PhaseStarting:
		return "starting"
	case PhaseRunning:
		return "running"
	case PhaseDraining:
		return "draining"
	case PhaseEnded:
		return "ended"
	}
	return "unknown"
}

// Phases lists every Phase, in order.
func Phases() []Phase { return []Phase{PhaseStarting, PhaseRunning, PhaseDraining, PhaseEnded} }

// live is Metrics' part for monitoring (see the file comment).
type live struct {
	phase atomic.Int32
	// queues is set once, when the run has made its channels.
	queues atomic.Pointer[[]queue]
	// keepsPositions is set when the run saves positions; then the
	// checkpoint figures mean something.
	keepsPositions atomic.Bool
	checkpoints    atomic.Int64
	lastCheckpoint atomic.Int64 // unix nanos of the last saved position, 0 for none
}

type queue struct {
	step string
	ch   chan *envelope
}

// Phase says where the run is. A run whose End is set has ended, whatever
// the phase last stored.
func (m *Metrics) Phase() Phase {
	if m.End.Load() != 0 {
		return PhaseEnded
	}
	return Phase(m.live.phase.Load())
}

// setPhase moves the run forward; it never goes back (a drain that comes
// after the source's end leaves "draining" as it is).
func (m *Metrics) setPhase(p Phase) {
	for {
		old := m.live.phase.Load()
		if Phase(old) >= p || m.live.phase.CompareAndSwap(old, int32(p)) {
			return
		}
	}
}

// QueueDepth is how many batches wait in front of a step.
type QueueDepth struct {
	// Step is the step that takes batches from the queue. The queue between
	// the last stage and the sinks, from which each batch is handed to
	// every sink's own queue, is called FanOutQueue.
	Step     string
	Batches  int
	Capacity int
}

// FanOutQueue names the queue in front of the hand-over to the sinks.
const FanOutQueue = "fan_out"

// Queues reports the queues between the steps, source first, sinks last;
// nil before the run has made them.
func (m *Metrics) Queues() []QueueDepth {
	qs := m.live.queues.Load()
	if qs == nil {
		return nil
	}
	out := make([]QueueDepth, len(*qs))
	for i, q := range *qs {
		// len and cap of a channel are safe from any goroutine.
		out[i] = QueueDepth{Step: q.step, Batches: len(q.ch), Capacity: cap(q.ch)}
	}
	return out
}

// watchQueues records the run's channels, made in this order: in front of
// each stage, in front of the fan-out, in front of each sink.
func (r *runner) watchQueues(chans []chan *envelope) {
	qs := make([]queue, 0, len(chans))
	for i, c := range chans {
		var step string
		switch n := len(r.p.Stages); {
		case i < n:
			step = r.p.Stages[i].Name
		case i == n:
			step = FanOutQueue
		default:
			step = r.p.Sinks[i-n-1].Name
		}
		qs = append(qs, queue{step: step, ch: c})
	}
	r.metrics.live.queues.Store(&qs)
}

// CheckpointStats describes the positions a run saved.
type CheckpointStats struct {
	// Enabled is set when the run saves positions at checkpoints.
	Enabled bool
	// Saved counts the positions saved by this run.
	Saved int64
	// Last is when the last one was saved; zero before the first.
	Last time.Time
}

// Checkpoints reports the positions this run saved.
func (m *Metrics) Checkpoints() CheckpointStats {
	s := CheckpointStats{Enabled: m.live.keepsPositions.Load(), Saved: m.live.checkpoints.Load()}
	if ns := m.live.lastCheckpoint.Load(); ns != 0 {
		s.Last = time.Unix(0, ns)
	}
	return s
}

func (m *Metrics) checkpointSaved(at time.Time) {
	m.live.lastCheckpoint.Store(at.UnixNano())
	m.live.checkpoints.Add(1)
}

// GuestStats counts what a stage running guest code (a Wasm module) did.
// The stage updates it once per call; a monitoring endpoint reads it.
type GuestStats struct {
	// Calls times each call that processes a batch.
	Calls Histogram
	// Traps counts calls that trapped, panicked, exited or ran out of
	// memory; Timeouts counts calls stopped at the stage's timeout.
	Traps, Timeouts atomic.Int64
	// Replaced counts instances thrown away after a failed call; the next
	// batch gets a fresh one.
	Replaced atomic.Int64
}

// GuestStager is implemented by stages that run guest code.
type GuestStager interface {
	GuestStats() *GuestStats
}

// RetryCounter is implemented by sinks that retry on their own, inside
// Write or Flush (a client riding out a broker restart), so those retries
// are counted with the engine's (StepMetrics.Retries).
type RetryCounter interface {
	Retries() int64
}

// Lagger is implemented by sources that know how many messages their
// broker holds beyond what they have read (a Kafka group's lag, a
// JetStream consumer's pending count). ok is false while unknown.
type Lagger interface {
	LagMessages() (n int64, ok bool)
}

// RequestStats is what a source that takes requests (the http source)
// answered, since it was built.
type RequestStats struct {
	// Replies counts requests by the HTTP status of their reply; a request
	// whose client left before any reply is not counted.
	Replies map[int]int64
	// Refused counts requests not taken, by reason (a short fixed word
	// such as "too_large" or "busy", never anything a client sent).
	Refused map[string]int64
	// BodyBytes counts request body bytes received as sent (compressed
	// when gzipped), of refused requests too.
	BodyBytes int64
}

// RequestCounter is implemented by sources that take requests.
type RequestCounter interface {
	RequestStats() RequestStats
}
