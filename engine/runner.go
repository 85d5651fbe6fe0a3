package engine

import "context"

// Runner runs a pipeline on some framework: the seam between what a
// pipeline is (its steps, policies and settings) and what moves its data.
// [Local] runs it in this process with the engine's goroutines; a runner in
// another module (the Beam adapter, the scale-out coordinator) implements
// the same method without the engine importing it.
//
// A runner that runs the steps elsewhere (on Beam's workers, in other
// weave processes, or as several copies here) cannot ship Go objects: it
// makes the steps again from their recipes ([Recipe], [Pipeline.Remake])
// wherever they run, with an [Environment] that registers the same
// connectors. A pipeline from a file (engine/config) has a recipe for
// every step; a step made by Go code alone has none, and such a runner
// refuses it.
//
// Run has Pipeline.Run's contract: it owns p from the call on (its steps
// are closed and its position store released when Run returns), honours
// p.Drain and p.Limit, and returns the run's metrics, with one entry per
// step of p in p's order (as p.NewMetrics makes them), even on error;
// when the caller set p.Metrics those are the ones returned. Local
// updates them as the run goes (weave run's progress line reads them); a
// runner whose steps run elsewhere may add its figures only at the end.
type Runner interface {
	Run(ctx context.Context, p *Pipeline) (*Metrics, error)
}

// Local is the [Runner] that runs a pipeline in this process: bounded
// queues between steps, stage workers as goroutines, acknowledgements and
// checkpoints as described in the package documentation. It is what
// Pipeline.Run does, and what `weave run` uses.
type Local struct{}

// Run runs p with Pipeline.Run.
func (Local) Run(ctx context.Context, p *Pipeline) (*Metrics, error) { return p.Run(ctx) }
