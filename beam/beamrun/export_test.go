package beamrun

import (
	"context"

	"github.com/dataweaver/dataweaver/engine"
)

// SplitFn returns what a Beam worker does with one split of p (the DoFn's
// ProcessElement, set up as Beam would) and p's splits as the elements
// Beam would hand it, so a test can run a split twice as a runner that
// retries a bundle does. p is closed.
func SplitFn(ctx context.Context, p *engine.Pipeline) (func(context.Context, string) error, []string, error) {
	defer p.Close()
	enc, elems, err := plan(ctx, p)
	if err != nil {
		return nil, nil, err
	}
	fn := &splitFn{Plan: enc}
	if err := fn.Setup(); err != nil {
		return nil, nil, err
	}
	return fn.ProcessElement, elems, nil
}
