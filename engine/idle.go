package engine

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
)

// Idler is a stage whose output waits on event time (a window closes when
// the watermark passes its end) and so would wait for ever on a stream
// that goes quiet: event time only moves with rows. When no rows have
// reached the stage for IdleAfter, and again every IdleAfter while it
// stays quiet, the engine calls Idle with the wall time since the last
// row (or the last call), and hands what it returns on as batches of
// their own, which come from no source batch: they acknowledge nothing
// and hold nothing back. The engine then takes a checkpoint even though
// the source has not moved, so the state the stage saves (windows
// emitted, clock moved) is published with those rows.
//
// The engine calls Idle only while the source is waiting for input, and
// never for a source that knows its size (engine.Sized: files, objects),
// whose end closes every window. IdleAfter 0 turns it off.
type Idler interface {
	IdleAfter() time.Duration
	Idle(ctx context.Context, quiet time.Duration) ([]arrow.RecordBatch, error)
}

// clock is the wall clock idle advance reads; tests drive a fake one.
type clock interface {
	Now() time.Time
	// Ticker sends the time every d until stop is called.
	Ticker(d time.Duration) (c <-chan time.Time, stop func())
}

type wallClock struct{}

func (wallClock) Now() time.Time { return time.Now() }

func (wallClock) Ticker(d time.Duration) (<-chan time.Time, func()) {
	t := time.NewTicker(d)
	return t.C, t.Stop
}

// idleTicks is a run's idle advance: ticks sent behind the batches while
// the source waits in Read, and per stage, when rows last reached it and
// when it was last advanced (unix nanoseconds of the clock).
type idleTicks struct {
	clock   clock
	after   []time.Duration // per stage; 0: not an Idler
	period  time.Duration
	reading atomic.Bool // the source is inside Read
	rows    []atomic.Int64
	moved   []atomic.Int64
}

// setupIdle arms idle advance when a stage asks for it and the source
// has no known end. It runs once the steps are bound.
func (r *runner) setupIdle() {
	var after []time.Duration
	least := time.Duration(0)
	for i, s := range r.p.Stages {
		id, ok := s.Stage.(Idler)
		if !ok || id.IdleAfter() <= 0 {
			continue
		}
		if after == nil {
			after = make([]time.Duration, len(r.p.Stages))
		}
		after[i] = id.IdleAfter()
		if least == 0 || after[i] < least {
			least = after[i]
		}
	}
	if after == nil {
		return
	}
	if sz, ok := r.p.Source.Source.(Sized); ok {
		if _, total := sz.Progress(); total > 0 {
			r.log.Debug("idle advance is off: the source has an end, which closes the windows", "pipeline", r.p.Name)
			return
		}
	}
	c := r.p.clock
	if c == nil {
		c = wallClock{}
	}
	t := &idleTicks{clock: c, after: after, rows: make([]atomic.Int64, len(after)), moved: make([]atomic.Int64, len(after))}
	// Four looks per period: a stage is advanced within a quarter of its
	// idle time of becoming due.
	t.period = max(least/4, time.Millisecond)
	now := c.Now().UnixNano()
	for i := range t.rows {
		t.rows[i].Store(now)
	}
	r.idle = t
}

// sawRows notes that a batch with rows reached stage i.
func (r *runner) sawRows(i int) {
	if r.idle != nil && r.idle.after[i] > 0 {
		r.idle.rows[i].Store(r.idle.clock.Now().UnixNano())
	}
}

// readIdle runs Read while marking the source as waiting for input.
func (r *runner) readIdle(ctx context.Context) (*Batch, error) {
	if r.idle == nil {
		return r.p.Source.Source.Read(ctx)
	}
	r.idle.reading.Store(true)
	defer r.idle.reading.Store(false)
	return r.p.Source.Source.Read(ctx)
}

// startTicks sends a tick behind the batches every period while the
// source waits in Read. A tick that finds the first stage's queue full is
// dropped: the pipeline is busy, not quiet. It returns a stop function.
func (r *runner) startTicks(ctx context.Context, out chan<- *envelope, mu *sync.Mutex) func() {
	if r.idle == nil {
		return func() {}
	}
	ticks, stopTicker := r.idle.clock.Ticker(r.idle.period)
	stop, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		defer stopTicker()
		for {
			var now time.Time
			select {
			case now = <-ticks:
			case <-stop:
				return
			case <-ctx.Done():
				return
			}
			if !r.idle.reading.Load() {
				continue
			}
			mu.Lock()
			select {
			case out <- &envelope{seq: -1, tick: now.UnixNano()}:
			default:
			}
			mu.Unlock()
		}
	}()
	return func() { close(stop); <-done }
}

// stageTick is what stage i does when a tick reaches it, every batch
// before the tick having passed it: if it is an Idler that has seen no
// rows for its idle time (and not been advanced for as long), it is told
// how long it has been quiet and what it emits goes on before the tick.
func (r *runner) stageTick(ctx context.Context, i int, env *envelope, out chan<- *envelope) error {
	t := r.idle
	if t == nil || t.after[i] <= 0 {
		return nil
	}
	now, d := env.tick, t.after[i].Nanoseconds()
	since := max(t.rows[i].Load(), t.moved[i].Load())
	if now-since < d {
		return nil
	}
	t.moved[i].Store(now)
	step := r.p.Stages[i]
	recs, err := step.Stage.(Idler).Idle(ctx, time.Duration(now-since))
	if err != nil {
		return fmt.Errorf("stage %s: idle advance: %w", step.Name, err)
	}
	emitted, err := r.sendOwn(ctx, i, recs, out)
	if err != nil {
		return err
	}
	if emitted && r.ckpt != nil {
		// The source has not moved, so no barrier would follow: ask for
		// one, so the rows are published with the state that no longer
		// holds them.
		r.ckpt.wanted.Store(true)
	}
	return nil
}
