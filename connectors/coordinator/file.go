package coordinator

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/dataweaver/dataweaver/connectors/internal/natsauth"
	"github.com/dataweaver/dataweaver/connectors/postgres"
	"github.com/dataweaver/dataweaver/engine"
	"github.com/dataweaver/dataweaver/engine/config"
	"github.com/dataweaver/dataweaver/engine/position"
)

// RunFile runs a parsed pipeline file as one worker of its coordinator
// section. run runs each split's pipeline: an engine.Runner's Run method
// (nil: engine.Local{}.Run); stop is Job.Stop (nil: never). The file's
// local positions are not used; the shared ones are.
func RunFile(ctx context.Context, f *config.File, opts config.Options,
	run func(context.Context, *engine.Pipeline) (*engine.Metrics, error), stop <-chan struct{}) (Result, error) {
	c, job, err := FileJob(f, opts)
	if err != nil {
		return Result{}, err
	}
	job.Run, job.Stop = run, stop
	return Run(ctx, c, job)
}

// FileJob is the worker configuration and job of a parsed pipeline file
// with a coordinator section, for a caller that sets more of the Job
// (Progress) before it calls Run. The file's local positions are not
// used; the shared ones are.
func FileJob(f *config.File, opts config.Options) (Config, Job, error) {
	if f.Coordinator == nil {
		return Config{}, Job{}, fmt.Errorf("%w: %s has no coordinator section", engine.ErrInvalidConfig, f.Filename)
	}
	c, err := FromSpec(f.Coordinator)
	if err != nil {
		return Config{}, Job{}, err
	}
	opts.NoPositions = true
	return c, Job{
		Pipeline: f.Name,
		Build:    func(context.Context) (*engine.Pipeline, error) { return config.Build(f, opts) },
		Logger:   opts.Logger,
	}, nil
}

// OpenFileStore opens the shared positions of a pipeline file with a
// coordinator section, for weave positions, and says where they are.
func OpenFileStore(ctx context.Context, f *config.File, log *slog.Logger) (position.Store, string, error) {
	c, err := FromSpec(f.Coordinator)
	if err != nil {
		return nil, "", err
	}
	c = c.withDefaults()
	if c.PositionsDSN != "" {
		st, err := postgres.PositionStore(ctx, c.PositionsDSN, c.PositionsTable)
		if err != nil {
			return nil, "", fmt.Errorf("coordinator: %w", err)
		}
		return st, "PostgreSQL table " + c.PositionsTable, nil
	}
	st, err := OpenStore(ctx, c, log)
	if err != nil {
		return nil, "", err
	}
	return st, fmt.Sprintf("JetStream bucket %s at %s", c.Bucket, natsauth.DisplayURLs(c.URLs)), nil
}
