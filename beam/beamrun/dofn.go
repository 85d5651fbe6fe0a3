package beamrun

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"sync/atomic"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/register"

	"github.com/dataweaver/dataweaver/connectors/coordinator/split"
	"github.com/dataweaver/dataweaver/engine"
)

func init() {
	register.DoFn2x1[context.Context, string, error](&splitFn{})
}

// counterNS is the namespace of the Beam counters the workers keep the
// steps' figures in, which Runner.Run reads back into engine.Metrics.
const counterNS = "weave"

// splitFn runs one split of the input through the whole pipeline on a Beam
// worker: its source reads the split only, its stages are Wasm or native
// stages made afresh from their recipes, and each sink that writes parts
// (a directory or an S3 prefix) writes the split's part, published when
// the split's pipeline ends well. A split Beam retries (a failed bundle,
// a lost worker) is read again from its start and its part replaces the
// earlier attempt's, so nothing is doubled. It is the coordinator's
// worker loop with Beam in the place of the JetStream work queue.
type splitFn struct {
	// Plan is the pipeline (Plan.Encode), the one field Beam serialises.
	Plan string

	plan *Plan
	log  *slog.Logger
}

// Setup decodes the plan once per DoFn instance.
func (f *splitFn) Setup() error {
	pl, err := DecodePlan(f.Plan)
	if err != nil {
		return err
	}
	f.plan, f.log = pl, slog.Default().With("pipeline", pl.Name)
	return nil
}

// ProcessElement runs the split in elem (a split.Split as JSON) to its end.
func (f *splitFn) ProcessElement(ctx context.Context, elem string) error {
	var s split.Split
	if err := json.Unmarshal([]byte(elem), &s); err != nil {
		return fmt.Errorf("beamrun: decoding a split: %w", err)
	}
	p, err := f.plan.Pipeline(engine.Build{Logger: f.log})
	if err != nil {
		return fmt.Errorf("beamrun: split %s: %w", s.ID, err)
	}
	if err := aim(p, s); err != nil {
		return fmt.Errorf("beamrun: split %s: %w", s.ID, err)
	}
	p.Metrics = p.NewMetrics()
	m, err := engine.Local{}.Run(ctx, p)
	if m != nil {
		count(ctx, m)
	}
	if err != nil {
		return fmt.Errorf("beamrun: split %s (%s): %w", s.ID, s.Text, err)
	}
	return nil
}

// aim points p's source at split s and its part-writing sinks (the dead
// letters' too) at s's parts; p is closed on error. A sink that replaces
// one output file would be replaced again by every split, and is refused.
func aim(p *engine.Pipeline, s split.Split) error {
	fail := func(err error) error { _ = p.Close(); return err }
	src, ok := p.Source.Source.(split.Source)
	if !ok {
		return fail(fmt.Errorf("%w: source %s cannot be read in splits", engine.ErrInvalidConfig, p.Source.Name))
	}
	if err := src.ReadSplit(s); err != nil {
		return fail(err)
	}
	sinks := make([]engine.SinkStep, 0, len(p.Sinks)+1)
	sinks = append(sinks, p.Sinks...)
	if p.DeadLetter != nil {
		sinks = append(sinks, engine.SinkStep{Name: "dead_letter", Sink: p.DeadLetter})
	}
	for _, sk := range sinks {
		if ps, ok := sk.Sink.(split.Sink); ok {
			if err := ps.WritePart(s.ID); err != nil {
				return fail(err)
			}
		}
	}
	// A split is redone whole, never resumed: Beam keeps no position, and
	// a part is published only at the end of its split.
	p.Positions, p.FromStart = nil, true
	return nil
}

// count adds one split's figures to the job's Beam counters, named
// "<step>/<figure>" in namespace weave.
func count(ctx context.Context, m *engine.Metrics) {
	for _, st := range m.Steps {
		for name, c := range figures(st) {
			if v := c.Load(); v != 0 {
				beam.NewCounter(counterNS, st.Name+"/"+name).Inc(ctx, v)
			}
		}
	}
}

// figures are the counters of a step that travel as Beam counters, by
// their names there: the workers add to them (count) and Runner.Run reads
// them back into the same fields (fill).
func figures(st *engine.StepMetrics) map[string]*atomic.Int64 {
	return map[string]*atomic.Int64{
		"rows_in":       &st.RowsIn,
		"rows_out":      &st.RowsOut,
		"batches":       &st.Batches,
		"skipped":       &st.Skipped,
		"dead_lettered": &st.DeadLettered,
		"retries":       &st.Retries,
	}
}
