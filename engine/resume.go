package engine

import (
	"context"

	"github.com/dataweaver/dataweaver/engine/position"
)

// Resumer is implemented by sources that continue where an earlier run of
// the pipeline stopped. The engine saves the Checkpoint of the last batch
// every sink made durable, JSON-encoded (so keep checkpoints small structs
// with exported fields), in the pipeline's position store; on the next run
// it calls Resume with those bytes before Open. A checkpoint that
// implements fmt.Stringer is shown that way in the run summary and by
// weave positions.
//
// Resume must refuse, with an error that says why, a position it cannot
// honour (the file it points into has changed since): reading from the
// start instead would silently duplicate rows.
type Resumer interface {
	Resume(pos []byte) error
}

// MaybeResumer is implemented by sources that can resume in some
// configurations only: a file source reading a glob can, one reading
// stdin cannot. When CanResume reports false the run neither loads nor
// saves positions, as for a source that is not a Resumer at all.
type MaybeResumer interface {
	CanResume() bool
}

func canResume(s Source) bool {
	if _, ok := s.(Resumer); !ok {
		return false
	}
	m, ok := s.(MaybeResumer)
	return !ok || m.CanResume()
}

// OutputReplacer is implemented by sinks whose output each run replaces as a
// whole (one file, renamed into place when complete). Resuming would then
// replace a complete output with the rest of the input, so a pipeline with
// such a sink starts from the start every run and saves no positions.
type OutputReplacer interface {
	ReplacesOutput() bool
}

func replacesOutput(s Sink) bool {
	r, ok := s.(OutputReplacer)
	return ok && r.ReplacesOutput()
}

// Committer is implemented by sinks that publish their output in steps, at
// the pipeline's checkpoints (a directory of part files, each renamed into
// place when its checkpoint is saved). A checkpoint is two-phase:
//
//  1. Prepare runs on the sink's goroutine once every batch before the
//     checkpoint is written and flushed. It makes them durable but not yet
//     visible and returns what Commit needs to publish them (nil for
//     nothing).
//  2. The engine saves the source's position together with every sink's
//     prepared bytes, then calls Commit with them (from another goroutine;
//     Write may be running for later batches).
//
// A run that dies between the two leaves the prepared bytes in the store;
// the next run calls Commit with them before Open, so Commit must be
// idempotent and need nothing Open sets up. Open then discards whatever
// was written but never prepared.
type Committer interface {
	Prepare(ctx context.Context) ([]byte, error)
	Commit(ctx context.Context, prepared []byte) error
}

// PositionKeeper is implemented by sinks that keep the pipeline's positions
// themselves, in the same transaction as the rows they write (a table in
// the database they write to), which makes the sink exactly-once: rows and
// position commit together or not at all. The engine then uses the sink's
// store instead of the state directory; at most one sink of a pipeline
// may keep positions.
type PositionKeeper interface {
	// Positions returns the sink's store. It is called before Open.
	Positions(ctx context.Context) (position.Store, error)
}
