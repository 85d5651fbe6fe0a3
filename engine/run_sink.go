package engine

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync/atomic"
	"time"

	"github.com/dataweaver/dataweaver/internal/wait"
)

// flushEvery bounds how many batches a sink holds unflushed when its queue
// never runs dry; otherwise it flushes whenever it catches up.
const flushEvery = 16

func (r *runner) runSink(ctx context.Context, i int, in <-chan *envelope) error {
	step := r.p.Sinks[i]
	m := r.sinks[i]
	retry := step.Retry
	if retry == (Retry{}) {
		retry = DefaultRetry
	}
	var pending []int64
	holdAcks := commitsOnClose(step.Sink)
	committer, _ := step.Sink.(Committer)
	// uncommitted are batches a Committer sink has flushed but publishes
	// only at the next checkpoint; they are acknowledged then. When the
	// dead-letter sink publishes at checkpoints, every sink's batches wait
	// for it: a batch's rejects must be published before its source is
	// told it may forget them.
	holdForCheckpoint := committer != nil || r.dlqAtCheckpoint
	var uncommitted []int64
	flush := func() error {
		if len(pending) == 0 {
			return nil
		}
		if err := withRetry(ctx, retry, &m.Retries, func() error { return step.Sink.Flush(ctx) }); err != nil {
			// Which rows a failed flush lost is unknown, so no policy can
			// absorb it: fail, and the unacknowledged batches are read again.
			return fmt.Errorf("sink %s: flush: %w", step.Name, err)
		}
		if holdForCheckpoint {
			uncommitted = append(uncommitted, pending...)
			pending = pending[:0]
			return nil
		}
		if holdAcks {
			r.held[i] = append(r.held[i], pending...)
			pending = pending[:0]
			return nil
		}
		err := r.acker.done(ctx, pending)
		pending = pending[:0]
		if err != nil {
			return fmt.Errorf("%s: ack: %w", r.p.Source.Name, err)
		}
		return nil
	}
	for {
		var env *envelope
		var ok bool
		select {
		case env, ok = <-in:
		case <-ctx.Done():
			return context.Cause(ctx)
		}
		if !ok {
			return flush()
		}
		if env.bar != nil {
			if err := flush(); err != nil {
				return err
			}
			var prepared []byte
			if committer != nil {
				var err error
				if prepared, err = committer.Prepare(ctx); err != nil {
					return fmt.Errorf("sink %s: prepare checkpoint: %w", step.Name, err)
				}
			}
			held := uncommitted
			uncommitted = nil
			if err := r.ckpt.arrive(ctx, env.bar, i, prepared, held); err != nil {
				return err
			}
			continue
		}
		if n := env.rows(); n > 0 {
			m.Batches.Add(1)
			m.RowsIn.Add(n)
			wctx, end := env.trace.sinkStep(ctx, step.Name, n)
			start := time.Now()
			err := withRetry(ctx, retry, &m.Retries, func() error { return step.Sink.Write(wctx, env.rec) })
			m.Latency.Since(start)
			switch {
			case err == nil:
				m.RowsOut.Add(n)
				if end != nil {
					end(StepEnd{RowsOut: n})
				}
			case ctx.Err() != nil:
				traceFailed(env, end, context.Cause(ctx))
				env.release()
				return context.Cause(ctx)
			default:
				err = fmt.Errorf("sink %s: batch %d (source rows from %d): %w", step.Name, env.seq, env.rowBase, err)
				if step.OnError == Fail || IsFatal(err) {
					traceFailed(env, end, err)
					env.release()
					return err
				}
				if end != nil {
					end(StepEnd{Rejects: n, Err: err})
				}
				if rerr := r.reject(ctx, step.Name, step.OnError, m, allRows(env.rec, err), env.rec); rerr != nil {
					env.trace.done(rerr)
					env.release()
					return rerr
				}
			}
		}
		pending = append(pending, env.seq)
		env.trace.done(nil)
		env.release()
		r.written(env)
		if len(in) == 0 || len(pending) >= flushEvery {
			if err := flush(); err != nil {
				return err
			}
		}
	}
}

// withRetry calls f until it succeeds, returns a Permanent error, or has
// been tried r.Attempts times, sleeping with exponential backoff and full
// jitter in between (jitter keeps many pipelines from retrying in step).
// Each try after the first is counted in retried.
func withRetry(ctx context.Context, r Retry, retried *atomic.Int64, f func() error) error {
	delay := r.Initial
	var err error
	for attempt := 1; ; attempt++ {
		if err = f(); err == nil || IsPermanent(err) || attempt >= r.Attempts {
			break
		}
		sleep := time.Duration(0)
		if delay > 0 {
			sleep = time.Duration(rand.Int64N(int64(delay) + 1))
		}
		if wait.For(ctx, sleep) != nil {
			return err
		}
		delay = min(delay*2, r.Max)
		retried.Add(1)
	}
	if err != nil && r.Attempts > 1 && !IsPermanent(err) {
		return fmt.Errorf("after %d attempts: %w", r.Attempts, err)
	}
	return err
}

// traceFailed ends a traced batch's sink span and the batch's span with
// the error that ends the run.
func traceFailed(env *envelope, end func(StepEnd), err error) {
	if end != nil {
		end(StepEnd{Err: err})
	}
	env.trace.done(err)
}

// written frees the in-flight slot of a batch once every sink has written
// it (the source may then read another).
func (r *runner) written(env *envelope) {
	if env.left != nil && env.left.Add(-1) == 0 {
		<-r.slots
	}
}
