package engine

import (
	"context"
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"
)

// statefulStage returns stage i as a Stateful stage that keeps state once
// bound, or nil.
func (r *runner) statefulStage(i int) Stateful {
	s, ok := r.p.Stages[i].Stage.(Stateful)
	if !ok || !s.KeepsState() {
		return nil
	}
	return s
}

// restoreStages checks what stateful stages need of the run and gives
// each the state saved with the position the run resumes from. It runs
// after Bind (KeepsState is known then) and before any batch.
func (r *runner) restoreStages(ctx context.Context) error {
	saving := r.ckpt != nil && r.ckpt.store != nil
	for i, step := range r.p.Stages {
		s := r.statefulStage(i)
		if s == nil {
			continue
		}
		if step.goroutines() > 1 {
			// Each worker's instance would hold part of the state, by
			// whichever batches it happened to get (a Partitioned stage
			// gives each instance its own keys instead).
			return fmt.Errorf("%w: stage %s keeps state, so it runs on one worker (workers: %d) unless it partitions its rows by a key (a wasm stage's key:)", ErrInvalidConfig, step.Name, step.Workers)
		}
		if saving && r.p.Limit > 0 {
			// The limit cuts a batch whose position is not saved: its
			// rows would be in the state and read again on resume.
			return fmt.Errorf("%w: stage %s keeps state, which a run under a row limit cannot save with its position; run without the limit, or without positions", ErrInvalidConfig, step.Name)
		}
		if !saving || !r.metrics.Resumed {
			continue
		}
		state, ok := r.ckpt.states[step.Name]
		if !ok {
			// A position saved before the stage was in the pipeline (or
			// before it kept state): it can only start empty.
			r.log.Warn("the saved position holds no state for this stage; it starts empty", "pipeline", r.p.Name, "stage", step.Name, "position", r.metrics.StartPosition)
			continue
		}
		if err := s.Restore(ctx, state); err != nil {
			return fmt.Errorf("stage %s: restoring the state saved at %s: %w", step.Name, r.metrics.StartPosition, err)
		}
	}
	return nil
}

// finishStage hands on what stage i emits at end of input, if it is a
// Finisher.
func (r *runner) finishStage(ctx context.Context, i int, out chan<- *envelope) error {
	step := r.p.Stages[i]
	f, ok := step.Stage.(Finisher)
	if !ok {
		return nil
	}
	recs, err := f.Finish(ctx)
	if err != nil {
		return fmt.Errorf("stage %s: end of input: %w", step.Name, err)
	}
	_, err = r.sendOwn(ctx, i, recs, out)
	return err
}

// sendOwn hands on records stage i made of its own (at end of input, on
// idle advance) and reports whether they held any row. They come from no
// source batch: nothing to acknowledge (seq -1) and no in-flight slot to
// free.
func (r *runner) sendOwn(ctx context.Context, i int, recs []arrow.RecordBatch, out chan<- *envelope) (bool, error) {
	held := false
	for k, rec := range recs {
		r.stages[i].RowsOut.Add(rec.NumRows())
		held = held || rec.NumRows() > 0
		if err := send(ctx, out, &envelope{seq: -1, rec: rec}); err != nil {
			for _, rest := range recs[k+1:] {
				rest.Release()
			}
			return held, err
		}
	}
	return held, nil
}

// finishAtClose finishes stage i when its input has ended in a run that
// takes no checkpoints (there is no final barrier to do it at): with no
// position to resume from, what the stage holds is emitted even when the
// run was drained, or it would be lost.
func (r *runner) finishAtClose(ctx context.Context, i int, out chan<- *envelope) error {
	if r.ckpt != nil || ctx.Err() != nil {
		return nil
	}
	return r.finishStage(ctx, i, out)
}

// stageBarrier is what stage i does when a checkpoint barrier reaches it,
// every batch before the barrier having passed it: at end of input it
// hands on what a Finisher emits (before the barrier, so the last
// checkpoint covers it), then it snapshots a stateful stage's state into
// the barrier, to be saved with the position.
func (r *runner) stageBarrier(ctx context.Context, i int, b *barrier, out chan<- *envelope) error {
	step := r.p.Stages[i]
	if b.eof {
		if err := r.finishStage(ctx, i, out); err != nil {
			return err
		}
	}
	if r.ckpt == nil || r.ckpt.store == nil {
		return nil
	}
	s := r.statefulStage(i)
	if s == nil {
		return nil
	}
	state, err := s.Snapshot(ctx)
	if err != nil {
		return fmt.Errorf("stage %s: checkpoint: %w", step.Name, err)
	}
	if b.states == nil {
		// Stages see a barrier one after another (each hands it on by
		// channel), so the map needs no lock.
		b.states = map[string][]byte{}
	}
	b.states[step.Name] = state
	return nil
}
