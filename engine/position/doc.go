// Package position keeps where each pipeline's source stopped, so the next
// run resumes there: a [Store] of one [Record] per [Key] (pipeline, source
// step, split), saved atomically with a revision that fences out a second
// writer ([ErrStale]).
//
// [OpenDir] is the store weave run uses, a bbolt file per pipeline under a
// directory (.weave-state beside the pipeline file); set it as an
// engine.Pipeline's Positions and Run loads the saved position before the
// source opens and saves a new one at each checkpoint, after every sink has
// made the batches before it durable. The package Example runs a pipeline
// twice: the second run reads only what the first did not.
package position
