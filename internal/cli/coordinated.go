package cli

import (
	"context"
	"errors"
	"fmt"
	"time"

	ucli "github.com/urfave/cli/v2"

	"github.com/dataweaver/dataweaver/connectors/coordinator"
	"github.com/dataweaver/dataweaver/engine"
	"github.com/dataweaver/dataweaver/engine/config"
	"github.com/dataweaver/dataweaver/internal/telemetry"
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

// checkWorkers is weave validate's check of a coordinated file's
// pipeline p (coordinator.Check): the error refusing it, or notes on
// sinks that get a redone split's rows twice. Nothing for other files.
func (w *weave) checkWorkers(c *ucli.Context, p *engine.Pipeline) ([]string, error) {
	_, _, ok, err := w.coordinated(c)
	if err != nil || !ok {
		return nil, err
	}
	return coordinator.Check(p)
}

// runWorker runs f as one worker: split after split until none is left.
// The first signal stops the split being read (Drain) and hands it back
// to the stream, for another worker; the second aborts. With --http,
// /metrics has each split's pipeline series (counters adding up over
// the splits) and the worker's weave_splits_* ones, and /readyz answers
// from the worker's phase.
func (w *weave) runWorker(c *ucli.Context, f *config.File, opts config.Options) error {
	if c.Bool("from-start") || c.Int64("limit") != 0 {
		return usagef("--from-start and --limit do not apply to a coordinated run: positions are shared by the workers (reset them in the coordinator's bucket)")
	}
	conf, job, err := coordinator.FileJob(f, opts)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(c.Context)
	defer cancel()
	drain := make(chan struct{})
	prog := coordinator.NewProgress()
	col := telemetry.NewCollector()
	col.Coordinate(func() []telemetry.Worker { return []telemetry.Worker{workerFigures(f.Name, prog)} })
	if c.String("http") != "" {
		stopHTTP, err := w.serveCollector(c, col, drain)
		if err != nil {
			return err
		}
		defer stopHTTP()
	}
	signals := w.watchSignals(ctx, drain, cancel)
	var total *engine.Metrics // every split's counters, for the summary
	start := time.Now()
	// Each split's pipeline runs on the program's runner, as weave run's
	// own pipeline does.
	job.Run = func(ctx context.Context, p *engine.Pipeline) (*engine.Metrics, error) {
		p.Drain = drain
		p.Metrics = p.NewMetrics()
		if total == nil {
			total = p.NewMetrics()
			total.Start, total.Source = start, nil
		}
		col.Add(p)
		m, err := w.opts.Runner.Run(ctx, p)
		col.Remove(p)
		addCounts(total, p.Metrics)
		return m, err
	}
	job.Stop, job.Progress = drain, prog
	res, err := coordinator.Run(ctx, conf, job)
	first, second := signals()
	switch {
	case second != nil && err != nil:
		err = &abortError{sig: second, err: err}
	case errors.Is(err, coordinator.ErrInterrupted):
		err = &abortError{sig: first, err: err, drained: true}
	}
	if total != nil {
		total.End.Store(time.Now().UnixNano())
	}
	w.writeWorkerSummary(f.Name, res, total, time.Since(start), err)
	return err
}

// workerFigures is what /metrics and /readyz show of a worker.
func workerFigures(pipeline string, p *coordinator.Progress) telemetry.Worker {
	return telemetry.Worker{Pipeline: pipeline, Phase: p.Phase().String(),
		Planned: p.Planned.Load(), Taken: p.Taken.Load(), Done: p.Done.Load(), Redone: p.Redone.Load(),
		Skipped: p.Skipped.Load(), Left: p.Left.Load()}
}

// addCounts adds a split's step counters to the worker's totals (the
// same file, so the same steps in the same order).
func addCounts(total, m *engine.Metrics) {
	for i, st := range m.Steps {
		if i >= len(total.Steps) {
			return
		}
		t := total.Steps[i]
		t.RowsIn.Add(st.RowsIn.Load())
		t.RowsOut.Add(st.RowsOut.Load())
		t.Skipped.Add(st.Skipped.Load())
		t.DeadLettered.Add(st.DeadLettered.Load())
		t.Batches.Add(st.Batches.Load())
		t.Bytes.Add(st.Bytes.Load())
		t.Retries.Add(st.Retries.Load())
	}
}

// loadAlone is config.Load for weave serve. A file with a coordinator
// section is refused, saying why and what to run instead: it is a job
// whose N worker processes each end when no split is left, while weave
// serve keeps long-running pipelines up in one process (restarting one
// that ends badly) and answers /readyz for all of them together. Run
// alone it would write numbered parts and local positions beside the
// workers' split parts and shared positions. See RATIONALE.md.
func loadAlone(path string, opts config.Options) (*engine.Pipeline, error) {
	f, err := config.ParseFile(path, opts)
	if err != nil {
		return nil, err
	}
	if f.Coordinator != nil {
		return nil, fmt.Errorf("%w: %s has a coordinator section: it is a job of N workers that each end when no split is left, "+
			"which weave serve does not run (it keeps pipelines running in one process); start each worker with weave run %s "+
			"(a systemd template unit, or a Kubernetes Job or Deployment: README, N workers on one job)",
			engine.ErrInvalidConfig, path, path)
	}
	return config.Build(f, opts)
}
