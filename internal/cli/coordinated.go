package cli

import (
	"context"
	"errors"
	"fmt"

	ucli "github.com/urfave/cli/v2"

	"github.com/dataweaver/dataweaver/connectors/coordinator"
	"github.com/dataweaver/dataweaver/engine"
	"github.com/dataweaver/dataweaver/engine/config"
)

// coordinated parses the FILE argument and reports whether it has a
// coordinator section: such a file runs as one worker of many
// (runWorker), any other as before.
func (w *weave) coordinated(c *ucli.Context) (*config.File, config.Options, bool, error) {
	opts := w.configOptions(w.logger)
	if c.NArg() != 1 {
		return nil, opts, false, nil // load words the usage error
	}
	opts.Set = c.StringSlice("set")
	opts.State = c.String("state")
	f, err := config.ParseFile(c.Args().First(), opts)
	if err != nil {
		return nil, opts, false, err
	}
	return f, opts, f.Coordinator != nil, nil
}

// runWorker runs f as one worker: split after split until none is left.
// The first signal stops the split being read (Drain) and hands it back
// to the stream, for another worker; the second aborts.
func (w *weave) runWorker(c *ucli.Context, f *config.File, opts config.Options) error {
	if c.Bool("from-start") || c.Int64("limit") != 0 {
		return usagef("--from-start and --limit do not apply to a coordinated run: positions are shared by the workers (reset them in the coordinator's bucket)")
	}
	ctx, cancel := context.WithCancel(c.Context)
	defer cancel()
	drain := make(chan struct{})
	signals := w.watchSignals(ctx, drain, cancel)
	// Each split's pipeline runs on the program's runner, as weave run's
	// own pipeline does.
	run := func(ctx context.Context, p *engine.Pipeline) (*engine.Metrics, error) {
		p.Drain = drain
		return w.opts.Runner.Run(ctx, p)
	}
	res, err := coordinator.RunFile(ctx, f, opts, run, drain)
	first, second := signals()
	switch {
	case second != nil && err != nil:
		err = &abortError{sig: second, err: err}
	case errors.Is(err, coordinator.ErrInterrupted):
		err = &abortError{sig: first, err: err, drained: true}
	}
	w.logger.Info(fmt.Sprintf("%s: worker done", f.Name), "planned", res.Planned, "splits", res.Splits,
		"skipped", res.Skipped, "rows", res.Rows)
	return err
}

// loadAlone is config.Load for weave serve, which runs each pipeline as one
// process: a file with a coordinator section is refused rather than run
// alone, where it would write numbered parts and local positions beside
// the workers' split parts and shared positions.
func loadAlone(path string, opts config.Options) (*engine.Pipeline, error) {
	f, err := config.ParseFile(path, opts)
	if err != nil {
		return nil, err
	}
	if f.Coordinator != nil {
		return nil, fmt.Errorf("%w: %s has a coordinator section: weave serve runs each pipeline alone; run the file's workers with weave run",
			engine.ErrInvalidConfig, path)
	}
	return config.Build(f, opts)
}
