package engine

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// maxLoggedSkips bounds the warn lines a skipping step writes, so a file of
// bad rows does not drown the log; the count in the summary stays exact.
const maxLoggedSkips = 20

// reject applies a step's policy to rows it could not handle. src is the
// batch the rows' indexes point into (nil for source rejects, which carry
// their raw bytes instead).
func (r *runner) reject(ctx context.Context, step string, policy Policy, m *StepMetrics, rows []RowError, src arrow.RecordBatch) error {
	for i := range rows {
		rows[i].Step = step
	}
	switch policy {
	case Skip:
		before := m.Skipped.Add(int64(len(rows))) - int64(len(rows))
		for i := range rows {
			if n := before + int64(i); n < maxLoggedSkips {
				r.log.Warn("skipped row", "step", step, "error", rows[i].Error())
			} else if n == maxLoggedSkips {
				r.log.Warn("further skipped rows are counted but not logged", "step", step)
			}
		}
		return r.checkLimit(m)
	case DeadLetter:
		if err := r.dlq.write(ctx, rows, src); err != nil {
			return fmt.Errorf("%s: dead_letter: %w", step, err)
		}
		m.DeadLettered.Add(int64(len(rows)))
		return r.checkLimit(m)
	default:
		if len(rows) == 1 {
			return fmt.Errorf("%w: %w", ErrRejected, &rows[0])
		}
		return fmt.Errorf("%w: %w (and %d more rows in this batch)", ErrRejected, &rows[0], len(rows)-1)
	}
}

func (r *runner) checkLimit(m *StepMetrics) error {
	if l, ok := r.limits[m]; ok {
		return l.limit.exceeded(l.step, m, false)
	}
	return nil
}

// deadLetters serialises writes to the dead-letter sink from every step.
type deadLetters struct {
	mu      sync.Mutex
	sink    Sink
	mem     memory.Allocator
	dirty   bool
	metrics *StepMetrics
}

func (d *deadLetters) write(ctx context.Context, rows []RowError, src arrow.RecordBatch) error {
	rec := deadLetterRecord(d.mem, rows, src)
	defer rec.Release()
	d.mu.Lock()
	defer d.mu.Unlock()
	start := time.Now()
	if err := withRetry(ctx, DefaultRetry, &d.metrics.Retries, func() error { return d.sink.Write(ctx, rec) }); err != nil {
		return err
	}
	d.metrics.Latency.Since(start) // like Batches, only for a batch written
	d.dirty = true
	d.metrics.Batches.Add(1)
	d.metrics.RowsIn.Add(rec.NumRows())
	d.metrics.RowsOut.Add(rec.NumRows())
	return nil
}

func (d *deadLetters) flush(ctx context.Context) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if !d.dirty {
		return nil
	}
	if err := withRetry(ctx, DefaultRetry, &d.metrics.Retries, func() error { return d.sink.Flush(ctx) }); err != nil {
		return err
	}
	d.dirty = false
	return nil
}

// prepare flushes the dead-letter sink and, when it publishes in steps,
// prepares what it holds for the checkpoint being taken.
func (d *deadLetters) prepare(ctx context.Context) ([]byte, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.dirty {
		if err := withRetry(ctx, DefaultRetry, &d.metrics.Retries, func() error { return d.sink.Flush(ctx) }); err != nil {
			return nil, err
		}
		d.dirty = false
	}
	if c, ok := d.sink.(Committer); ok {
		return c.Prepare(ctx)
	}
	return nil, nil
}
