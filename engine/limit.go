package engine

import (
	"context"
	"sync"
)

// RowCapper is implemented by sources that can end a batch early, so a run
// with a row limit (Pipeline.Limit) stops exactly after the limit with a
// position that a later run resumes from: the file source slices the
// record it decoded, generate makes fewer rows. The engine calls CapNextRead
// before each Read while a limit applies.
//
// A source that is not a RowCapper still stops after exactly the limit:
// the engine slices its last batch. That batch's checkpoint lies after rows
// the run did not take, so the engine neither saves nor acknowledges it:
// the next run reads the whole batch again (at least once, as after a
// crash), and a warning says so.
type RowCapper interface {
	// CapNextRead makes the next Read return at most n rows in its Record
	// (rows it rejects may come with them), and a Checkpoint just after the
	// last row it returns.
	CapNextRead(n int64)
}

// uncommitted marks a batch the engine cut short: its source checkpoint
// covers rows that were not taken, so the acker must not hand it back.
type uncommitted struct{}

// limit tracks a run's row limit in the source goroutine.
type limit struct {
	max  int64 // Pipeline.Limit; 0 for none
	left int64
}

func newLimit(max int64) limit { return limit{max: max, left: max} }

// on reports whether a limit applies.
func (l *limit) on() bool { return l.max > 0 }

// reached reports whether the run has taken every row the limit allows.
func (l *limit) reached() bool { return l.on() && l.left <= 0 }

// cap asks the source for no more than the rows left.
func (l *limit) cap(src Source) {
	if c, ok := src.(RowCapper); ok && l.on() {
		c.CapNextRead(l.left)
	}
}

// take counts b's rows against the limit, cutting its record when it
// holds more than are left; cut reports that it did.
func (l *limit) take(b *Batch) (cut bool) {
	if !l.on() || b.Record == nil {
		return false
	}
	n := b.Record.NumRows()
	if n > l.left {
		short := b.Record.NewSlice(0, l.left)
		b.Record.Release()
		b.Record = short
		n, cut = l.left, true
	}
	l.left -= n
	return cut
}

// stopAtLimit ends reading once the limit is reached: like a drain the
// rows read so far are written and the last barrier saves the position
// after them, but nothing is abandoned: the output is what the user asked
// for.
func (r *runner) stopAtLimit(ctx context.Context, mu *sync.Mutex, barrierAt func(final, eof bool) error) error {
	if ctx.Err() != nil {
		return context.Cause(ctx)
	}
	r.log.Info("row limit reached; finishing batches in flight", "pipeline", r.p.Name, "limit", r.p.Limit)
	r.metrics.LimitReached.Store(true)
	mu.Lock()
	defer mu.Unlock()
	return barrierAt(true, false)
}
