// Package beamrun runs DataWeaver pipelines on Apache Beam: a pipeline
// file (or an engine.Pipeline whose steps have recipes) becomes a Beam
// pipeline that Prism, Flink's or Spark's job server, or Dataflow runs.
//
// The source's input is cut into splits when the job is submitted (a file,
// a Parquet row group: the splits the scale-out coordinator hands its
// workers, from the split.Source the source implements). The splits are
// redistributed (Reshuffle) so the runner spreads them over its workers,
// and each split runs through the whole pipeline on one worker: the
// source reads the split, the Wasm and native stages are made from their
// recipes (a module is compiled once per worker process and shared), and
// every sink that writes parts publishes the split's part when the split
// ends well. A split the runner retries replaces its part.
//
// This is a module of its own so the weave binary does not carry Beam's
// dependencies (about 370 modules).
package beamrun

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/x/beamx"

	"github.com/dataweaver/dataweaver/connectors/coordinator"
	"github.com/dataweaver/dataweaver/connectors/coordinator/split"
	"github.com/dataweaver/dataweaver/engine"
)

// Runner is an engine.Runner that runs a pipeline on Beam.
type Runner struct {
	// Execute submits the Beam pipeline and waits for it (default
	// beamx.RunWithMetrics: the runner named by the --runner flag, Prism
	// in this process when it is not given). beam.Init must have been
	// called, as Beam requires, before Run.
	Execute func(ctx context.Context, p *beam.Pipeline) (beam.PipelineResult, error)
}

// Run plans p's splits, submits the Beam pipeline, waits for it and returns
// the steps' figures as the workers counted them (summed over splits; a
// split the runner retried counts again). p itself never runs: its steps
// are closed when Run returns.
//
// What Beam does not give a pipeline: positions (a Beam batch job reads
// all of its input every time; p.Positions is not used), a row limit
// (p.Limit is refused: the splits run apart), and a graceful drain (a
// closed p.Drain cancels the job; parts of unfinished splits are not
// published). Reject limits (max_rejects) count per split.
func (r Runner) Run(ctx context.Context, p *engine.Pipeline) (*engine.Metrics, error) {
	defer p.Close()
	if p.Positions != nil {
		defer p.Positions.Close()
	}
	m := p.Metrics
	if m == nil {
		m = p.NewMetrics()
	}
	defer func() { m.End.Store(time.Now().UnixNano()) }()
	if p.Limit > 0 {
		return m, fmt.Errorf("%w: a row limit is not supported on Beam: the splits run apart", engine.ErrInvalidConfig)
	}
	bp, err := Translate(ctx, p)
	if err != nil {
		return m, err
	}
	if p.Drain != nil {
		var cancel context.CancelFunc
		ctx, cancel = context.WithCancel(ctx)
		defer cancel()
		go func() {
			select {
			case <-p.Drain:
				cancel()
			case <-ctx.Done():
			}
		}()
	}
	execute := r.Execute
	if execute == nil {
		execute = beamx.RunWithMetrics
	}
	res, err := execute(ctx, bp)
	if res != nil {
		fill(m, res)
	}
	if err != nil {
		return m, fmt.Errorf("beam: %w", err)
	}
	return m, nil
}

// Translate makes the Beam pipeline of p: its splits (planned now, from the
// source that p holds) → Reshuffle → one splitFn per split. The steps of p
// are not run; they are made again on the workers from p's recipes.
func Translate(ctx context.Context, p *engine.Pipeline) (*beam.Pipeline, error) {
	enc, elems, err := plan(ctx, p)
	if err != nil {
		return nil, err
	}
	bp, s := beam.NewPipelineWithRoot()
	s = s.Scope("weave:" + p.Name)
	col := beam.CreateList(s, elems)
	col = beam.Reshuffle(s, col)
	beam.ParDo0(s, &splitFn{Plan: enc}, col)
	return bp, nil
}

// plan returns p's plan (encoded) and its splits (as JSON), the DoFn's
// field and its elements.
func plan(ctx context.Context, p *engine.Pipeline) (string, []string, error) {
	pl, err := NewPlan(p)
	if err != nil {
		return "", nil, err
	}
	src, ok := p.Source.Source.(split.Source)
	if !ok {
		return "", nil, fmt.Errorf("%w: source %s cannot be read in splits, which Beam needs: "+
			"files, object storage and Postgres tables can", engine.ErrInvalidConfig, p.Source.Name)
	}
	// Beam's workers take splits as the coordinator's do, so the same
	// sinks are refused (one replaced file, one file appended to by N
	// processes, a sink keeping one position per pipeline) and the same
	// note is given for sinks that get a retried split's rows again.
	notes, err := coordinator.Check(p)
	if err != nil {
		return "", nil, err
	}
	for _, n := range notes {
		logger(p).Warn(n)
	}
	splits, err := src.Splits(ctx)
	if err != nil {
		return "", nil, fmt.Errorf("%s: planning splits: %w", p.Source.Name, err)
	}
	if len(splits) == 0 {
		return "", nil, fmt.Errorf("%s: the input has nothing to read", p.Source.Name)
	}
	enc, err := pl.Encode()
	if err != nil {
		return "", nil, err
	}
	elems := make([]string, len(splits))
	for i, s := range splits {
		b, err := json.Marshal(s)
		if err != nil {
			return "", nil, err
		}
		elems[i] = string(b)
	}
	return enc, elems, nil
}

func logger(p *engine.Pipeline) *slog.Logger {
	if p.Logger != nil {
		return p.Logger
	}
	return slog.Default()
}

// fill adds the workers' counters to m's steps.
func fill(m *engine.Metrics, res beam.PipelineResult) {
	steps := map[string]*engine.StepMetrics{}
	for _, st := range m.Steps {
		steps[st.Name] = st
	}
	for _, c := range res.Metrics().AllMetrics().Counters() {
		if c.Key.Namespace != counterNS {
			continue
		}
		i := strings.LastIndexByte(c.Key.Name, '/')
		if i < 0 {
			continue
		}
		st := steps[c.Key.Name[:i]]
		if st == nil {
			continue
		}
		if f := figures(st)[c.Key.Name[i+1:]]; f != nil {
			f.Add(c.Result())
		}
	}
}
