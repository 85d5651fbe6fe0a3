package engine

import (
	"context"

	"github.com/apache/arrow-go/v18/arrow"
)

// Stage transforms batches: the seed's process().
type Stage interface {
	// Bind is called once, before any data, with the schema of the batches
	// the stage will receive. It returns the schema of the batches it emits,
	// or an error wrapping ErrSchema when it cannot work on that input.
	// Validate and Run both call it, so it may be called more than once.
	Bind(ctx context.Context, in *arrow.Schema) (*arrow.Schema, error)
	// Process transforms one batch. When the stage is configured with more
	// than one worker it is called from several goroutines at once.
	// Rows the stage cannot handle are left out of out and reported in
	// rejects with Row set to their index in rec. The engine releases rec;
	// out belongs to the caller (return rec retained to pass it through).
	// An error fails the whole batch.
	Process(ctx context.Context, rec arrow.RecordBatch) (out arrow.RecordBatch, rejects []RowError, err error)
	Close() error
}

// Selecting is a stage that can work on a batch with a selection and answer
// with one, so that consecutive filters do not each copy the rows they
// keep: a filter hands on its input record with the rows it kept, and the
// engine copies rows once, before a step that is not Selecting (a sink,
// another kind of stage) or where a Selecting stage writes columns.
//
// sel lists the rows of rec that make up the batch, ascending; nil means
// every row. ProcessSelected answers like Process, except that out may be
// rec itself (retained) or any record with outSel naming its rows (nil:
// all of them), and each reject's Row is a row of rec, not a position in
// sel. The engine passes a selection only to a Selecting stage.
type Selecting interface {
	Stage
	ProcessSelected(ctx context.Context, rec arrow.RecordBatch, sel []int) (out arrow.RecordBatch, outSel []int, rejects []RowError, err error)
}

// MemoryBounded is a stage that holds up to MaxMemory bytes of host memory
// per worker besides the batches passing through it: a Wasm stage's
// instance, whose linear memory may grow to memory_limit. Validate and Run
// (and building a pipeline from a file) add up MaxMemory × workers over
// the stages and refuse the pipeline when the sum exceeds
// Pipeline.MemoryBudget, so a configuration that cannot fit fails before
// it runs instead of being killed by the kernel mid-run.
type MemoryBounded interface {
	MaxMemory() int64
}

// Warming is a step whose constructor started slow preparation in the
// background (a Wasm stage compiling its module), so that the steps of a
// pipeline prepare in parallel instead of one after another. Ready waits
// for it and returns its error. config.Build calls Ready on every step
// once all are constructed, or, with Options.DeferReady, leaves that to
// Pipeline.Warm, which Run calls once the source is open so the source
// reads meanwhile. Bind waits for it too, so a program that builds steps
// itself need not call it. Ready may be called more than once, and from
// another goroutine than Close.
type Warming interface {
	Ready() error
}

// Finisher is a stage that may hold rows back (a window not yet closed,
// keys seen so far) and emits them when the input ends. The engine calls
// Finish once, when the source has reached its end and every batch has
// passed the stage, and hands the records on before the run's last
// checkpoint, so they are saved with it. A run stopped early (Drain,
// --limit) does not finish its stages: what they hold is saved as their
// state instead (Stateful), and a later run goes on from it. A stage that
// holds nothing returns nil.
type Finisher interface {
	Finish(ctx context.Context) ([]arrow.RecordBatch, error)
}

// Stateful is a stage whose output depends on the batches before (counts
// per key, open windows). At every checkpoint the engine takes a
// Snapshot once the batches the checkpoint covers have passed the stage,
// and saves it with the source's position; a run that resumes from that
// position calls Restore with it, after Bind and before any batch. So
// after a crash the stage goes on with exactly the state that matches
// where the source resumes: nothing counted twice, nothing missed.
//
// KeepsState reports, once the stage is bound, whether it has state to
// save (a Wasm stage does only if its module exports a snapshot). A stage
// that keeps state runs on one worker, and a failed batch fails the run
// whatever its error policy, since the state would no longer match.
type Stateful interface {
	KeepsState() bool
	Snapshot(ctx context.Context) ([]byte, error)
	Restore(ctx context.Context, state []byte) error
}
