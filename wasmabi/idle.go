package wasmabi

import (
	"context"
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
)

// Idle advance (ABI.md, "Idle advance"): event time only moves with rows,
// so a window whose last rows have arrived stays open while a stream is
// quiet, and its aggregate is never emitted. With WithIdleAdvance(d) the
// engine calls Idle once no rows have reached the stage for d: the host
// moves its event clock (the largest event time, from which the
// watermark is derived) on by the wall time that has passed, as if event
// time kept flowing at the wall clock's pace, and tells every instance
// the new watermark through dw_watermark. The rows emitted are handed on
// as a batch of their own. The module sees nothing new: a watermark, as
// after a batch.

// WithIdleAdvance makes the event clock of a stage with an event-time
// column move on with the wall clock while no rows reach it: after d
// without a row, and every d after while it stays quiet (engine.Idler).
// 0 (the default) keeps event time to the rows.
func (c Config) WithIdleAdvance(d time.Duration) Config {
	c.v2.idle = d
	return c
}

// IdleAfter is how long the stage's input may be quiet before the engine
// calls Idle; 0 when idle advance is off (engine.Idler).
func (s *Stage) IdleAfter() time.Duration {
	if s.cfg.v2.eventTime == "" {
		return 0
	}
	return s.cfg.v2.idle
}

// Idle moves the stage's event clock on by quiet, the wall time since the
// last row reached the stage (or since the last Idle), tells every
// instance the watermark and returns what they emit (engine.Idler). It
// does nothing before the first event time is seen: there is no clock to
// move yet. A failed call fails the run, as dw_finish's does: there is no
// input row to reject.
func (s *Stage) Idle(ctx context.Context, quiet time.Duration) ([]arrow.RecordBatch, error) {
	if quiet <= 0 || s.IdleAfter() <= 0 {
		return nil, nil
	}
	if err := s.stateLost(); err != nil {
		return nil, err
	}
	if len(s.cfg.v2.key) > 0 {
		return s.idleKeyed(ctx, quiet)
	}
	// The pool stays locked while its instances are told: a worker that
	// wants one waits, rather than making a new instance beside them
	// (the pool would outgrow the workers). Instances busy with a batch
	// (several workers, in the engine's ordered mode) are not in it: each
	// hears the watermark after its batch, from the clock moved here.
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.plan
	if p == nil || p.evIdx < 0 {
		return nil, nil
	}
	s.moveClock(p, quiet)
	var out []arrow.RecordBatch
	for i, inst := range s.free {
		rec, err := s.advance(ctx, inst, p)
		if err != nil {
			for _, r := range out {
				r.Release()
			}
			inst.close(ctx)
			s.free = slices.Delete(s.free, i, i+1)
			s.countFailure(err)
			return nil, s.loseState(p, s.guestErr(exportWatermark, 0, 0, fmt.Errorf("idle advance: %w", err)))
		}
		if rec != nil {
			out = append(out, rec)
		}
	}
	return out, nil
}

// idleKeyed tells every instance of a keyed stage, in instance order, as
// after a batch.
func (s *Stage) idleKeyed(ctx context.Context, quiet time.Duration) ([]arrow.RecordBatch, error) {
	k := &s.keys
	k.mu.Lock()
	defer k.mu.Unlock()
	p, err := s.keyedReady(ctx)
	if err != nil || p.evIdx < 0 {
		return nil, err
	}
	s.moveClock(p, quiet)
	var out []arrow.RecordBatch
	for i, inst := range k.insts {
		rec, err := s.advance(ctx, inst, p)
		if err != nil {
			for _, r := range out {
				r.Release()
			}
			k.closeAll(ctx)
			s.countFailure(err)
			return nil, s.loseState(p, s.guestErr(exportWatermark, 0, 0, fmt.Errorf("idle advance: instance %d of %d: %w", i, len(k.insts), err)))
		}
		if rec != nil {
			out = append(out, rec)
		}
	}
	return out, nil
}

// moveClock raises the stage's largest event time by quiet, in the event
// column's unit, saturating; before any event time it stays unset. The
// moved clock is what a snapshot saves (wrapState), so a resumed run
// starts from the watermark whose windows the sink already has.
func (s *Stage) moveClock(p *plan, quiet time.Duration) {
	ts, ok := p.in.Field(p.evIdx).Type.(*arrow.TimestampType)
	if !ok {
		return
	}
	step := quiet.Nanoseconds() / int64(ts.Unit.Multiplier())
	for step > 0 {
		cur := s.v2.wm.max.Load()
		if cur == noWatermark {
			return
		}
		next := cur + step
		if next < cur {
			next = math.MaxInt64
		}
		if s.v2.wm.max.CompareAndSwap(cur, next) {
			return
		}
	}
}
