package engine

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/dataweaver/dataweaver/internal/gather"
)

// runStage moves batches through one stage, on as many workers as the step
// asks for, keeping input order unless the step says otherwise.
func (r *runner) runStage(ctx context.Context, i int, in <-chan *envelope, out chan<- *envelope) error {
	defer close(out)
	step := r.p.Stages[i]
	workers := step.goroutines()
	if workers == 1 {
		for env := range in {
			if env.bar != nil {
				if err := r.stageBarrier(ctx, i, env.bar, out); err != nil {
					return err
				}
			}
			if env.tick != 0 {
				if err := r.stageTick(ctx, i, env, out); err != nil {
					return err
				}
			}
			if err := r.process(ctx, i, env); err != nil {
				env.release()
				return err
			}
			if err := send(ctx, out, env); err != nil {
				return err
			}
		}
		return r.finishAtClose(ctx, i, out)
	}
	var err error
	if step.Unordered {
		err = r.runStageUnordered(ctx, i, workers, in, out)
	} else {
		err = r.runStageOrdered(ctx, i, workers, in, out)
	}
	if err != nil {
		return err
	}
	return r.finishAtClose(ctx, i, out)
}

func send(ctx context.Context, out chan<- *envelope, env *envelope) error {
	select {
	case out <- env:
		return nil
	case <-ctx.Done():
		env.release()
		return context.Cause(ctx)
	}
}

type stageResult struct {
	env *envelope
	err error
}

// recv takes the next envelope from in, or reports false when in is closed
// or stop is closed.
func recv(in <-chan *envelope, stop <-chan struct{}) (*envelope, bool) {
	select {
	case env, ok := <-in:
		return env, ok
	case <-stop:
		return nil, false
	}
}

// runStageOrdered keeps order with a queue of per-batch result slots: the
// dispatcher enqueues a slot per batch in input order and hands the batch to
// any free worker; the collector waits on the slots in queue order. The
// queue's capacity bounds the batches in flight.
func (r *runner) runStageOrdered(ctx context.Context, i, workers int, in <-chan *envelope, out chan<- *envelope) (err error) {
	// A failed batch cancels the calls still running on the other workers
	// (a guest call stops at once under a timeout's instrumentation):
	// otherwise the cleanup below waits for each of them, and a stage of n
	// looping workers under on_error: fail took n timeouts to fail.
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	type job struct {
		env  *envelope
		slot chan stageResult
	}
	jobs := make(chan job)
	order := make(chan chan stageResult, workers*2)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1 + workers)
	go func() {
		defer wg.Done()
		defer close(jobs)
		defer close(order)
		for {
			env, ok := recv(in, stop)
			if !ok {
				return
			}
			slot := make(chan stageResult, 1)
			select {
			case order <- slot:
			case <-stop:
				env.release()
				return
			}
			select {
			case jobs <- job{env, slot}:
			case <-stop:
				slot <- stageResult{env: env, err: context.Canceled}
				return
			}
		}
	}()
	for w := 0; w < workers; w++ {
		go func() {
			defer wg.Done()
			for j := range jobs {
				j.slot <- stageResult{j.env, r.process(ctx, i, j.env)}
			}
		}()
	}
	// Every slot in order is filled once the helpers are done, so the
	// cleanup can wait on each without blocking forever.
	var current chan stageResult
	defer func() {
		if err != nil {
			cancel(err)
		}
		close(stop)
		wg.Wait()
		if current != nil {
			(<-current).env.release()
		}
		for slot := range order {
			(<-slot).env.release()
		}
	}()
	for slot := range order {
		current = slot
		var res stageResult
		select {
		case res = <-slot:
		case <-ctx.Done():
			return context.Cause(ctx)
		}
		current = nil
		if res.err == nil {
			res.err = r.flushRejects(ctx, i, res.env)
		}
		if res.err == nil && res.env.bar != nil {
			res.err = r.stageBarrier(ctx, i, res.env.bar, out)
		}
		if res.err == nil && res.env.tick != 0 {
			res.err = r.stageTick(ctx, i, res.env, out)
		}
		if res.err != nil {
			res.env.release()
			return res.err
		}
		if err := send(ctx, out, res.env); err != nil {
			return err
		}
	}
	return nil
}

func (r *runner) runStageUnordered(ctx context.Context, i, workers int, in <-chan *envelope, out chan<- *envelope) error {
	// As in runStageOrdered: the first error stops the other workers' calls.
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	stop := make(chan struct{})
	var once sync.Once
	var first error
	var wg sync.WaitGroup
	// Batches may overtake each other, but not a checkpoint barrier: a
	// sink that saw the barrier before a batch it covers would let the
	// checkpoint claim a batch still in flight. Receiving is serialised so
	// that the worker holding a barrier can wait for exactly the batches
	// received before it (inFlight) while no later batch is taken.
	var recvMu sync.Mutex
	var inFlight sync.WaitGroup
	wg.Add(workers)
	for w := 0; w < workers; w++ {
		go func() {
			defer wg.Done()
			for {
				recvMu.Lock()
				env, ok := recv(in, stop)
				if ok && (env.bar != nil || env.tick != 0) {
					// A tick, like a barrier, follows the batches before it.
					inFlight.Wait()
					var err error
					if env.bar != nil {
						err = r.stageBarrier(ctx, i, env.bar, out)
					} else {
						err = r.stageTick(ctx, i, env, out)
					}
					if err == nil {
						err = send(ctx, out, env)
					}
					recvMu.Unlock()
					if err != nil {
						once.Do(func() { first = err; cancel(err); close(stop) })
						return
					}
					continue
				}
				if ok {
					inFlight.Add(1)
				}
				recvMu.Unlock()
				if !ok {
					return
				}
				err := r.process(ctx, i, env)
				if err == nil {
					err = send(ctx, out, env)
				} else {
					env.release()
				}
				inFlight.Done()
				if err != nil {
					once.Do(func() { first = err; cancel(err); close(stop) })
					return
				}
			}
		}()
	}
	wg.Wait()
	return first
}

// process runs the stage on env.rec in place and times it (a barrier or
// a batch emptied upstream carries no record and is not a batch here).
func (r *runner) process(ctx context.Context, i int, env *envelope) error {
	if env.rec == nil {
		return nil
	}
	end := env.trace.step(r.p.Stages[i].Name, KindStage, env.rows())
	start := time.Now()
	var res StepEnd
	err := r.processBatch(ctx, i, env, &res)
	r.stages[i].Latency.Since(start)
	if end != nil {
		if err != nil {
			res.Err = err // the batch goes no further: nothing came out
		} else {
			res.RowsOut = env.rows()
		}
		end(res)
		if err != nil {
			env.trace.done(err)
		}
	}
	return err
}

// processBatch runs the stage on env.rec in place, applying the step's
// policy to rejected rows and failed batches; res gets the rejects and a
// failure the policy absorbed, for the batch's span.
func (r *runner) processBatch(ctx context.Context, i int, env *envelope, res *StepEnd) error {
	step := r.p.Stages[i]
	m := r.stages[i]
	in, sel := env.rec, env.sel
	m.Batches.Add(1)
	m.RowsIn.Add(env.rows())
	if env.rows() == 0 {
		m.RowsOut.Add(0)
		return nil
	}
	r.sawRows(i)
	var out arrow.RecordBatch
	var outSel []int
	var rejects []RowError
	var err error
	if s, ok := step.Stage.(Selecting); ok {
		out, outSel, rejects, err = s.ProcessSelected(ctx, in, sel)
	} else {
		// Only a Selecting stage is given a selection (see keepSelection).
		out, rejects, err = step.Stage.Process(ctx, in)
	}
	if err != nil {
		if ctx.Err() != nil {
			return context.Cause(ctx)
		}
		err = fmt.Errorf("stage %s: batch %d (source rows %d-%d): %w", step.Name, env.seq, env.rowBase, env.rowBase+in.NumRows()-1, err)
		if step.OnError == Fail || IsFatal(err) {
			return err
		}
		res.Err, res.Rejects = err, env.rows()
		if rerr := r.stageReject(ctx, i, env, selectedRows(in, sel, err), in); rerr != nil {
			return rerr
		}
		env.dropRecord()
		return nil
	}
	if len(rejects) > 0 {
		res.Rejects = int64(len(rejects))
		if rerr := r.stageReject(ctx, i, env, rejects, in); rerr != nil {
			if out != nil {
				out.Release()
			}
			return rerr
		}
	}
	in.Release()
	env.rec, env.sel = out, outSel
	if out != nil && outSel != nil && !r.keepSelection(i) {
		// The next step needs the rows themselves: copy them, once.
		g, err := gather.Record(r.mem, out, outSel)
		out.Release()
		env.rec, env.sel = g, nil
		if err != nil {
			return fmt.Errorf("stage %s: batch %d: gathering the rows it kept: %w", step.Name, env.seq, err)
		}
	}
	if out != nil {
		m.RowsOut.Add(env.rows())
	}
	return nil
}

// stageReject applies stage i's policy to rows it rejected from src, or,
// for a stage whose workers finish batches out of order but hand them on
// in order, holds them in env for the collector (flushRejects), so that
// dead letters, like the batches, keep the input's order. A fail policy
// fails at once either way.
func (r *runner) stageReject(ctx context.Context, i int, env *envelope, rows []RowError, src arrow.RecordBatch) error {
	step := r.p.Stages[i]
	if step.goroutines() > 1 && !step.Unordered && step.OnError != Fail {
		src.Retain()
		env.rejects = append(env.rejects, heldRejects{rows: rows, src: src})
		return nil
	}
	return r.reject(ctx, step.Name, step.OnError, r.stages[i], rows, src)
}

// flushRejects applies stage i's policy to the rejects env holds, in the
// order they were found.
func (r *runner) flushRejects(ctx context.Context, i int, env *envelope) error {
	step := r.p.Stages[i]
	held := env.rejects
	env.rejects = nil
	var err error
	for _, h := range held {
		if err == nil {
			err = r.reject(ctx, step.Name, step.OnError, r.stages[i], h.rows, h.src)
		}
		h.src.Release()
	}
	return err
}

// keepSelection reports whether the step after stage i takes a batch with
// a selection: only a Selecting stage does.
func (r *runner) keepSelection(i int) bool {
	if i+1 >= len(r.p.Stages) {
		return false
	}
	_, ok := r.p.Stages[i+1].Stage.(Selecting)
	return ok
}
