package discard

import (
	"context"
	"sync/atomic"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/dataweaver/dataweaver/engine"
	"github.com/dataweaver/dataweaver/engine/spec"
)

var sinkSpec = spec.New("discard").
	Summary("Counts rows and writes nothing; for benchmarks and dry runs.").
	Description("Every batch is accepted and dropped at once. The run summary still shows the rows "+
		"that reached it, so `weave run` with a discard sink checks that a whole input is readable "+
		"and measures the pipeline without an output's cost.").
	WithExample("Dry run", `sinks:
  - discard:`)

func init() {
	engine.RegisterSink(sinkSpec, func(*spec.Parsed, engine.Build) (engine.Sink, error) { return New(), nil })
}

// Sink counts rows and batches. The counters are atomic, so a benchmark may
// read them while a pipeline runs.
type Sink struct {
	rows, batches atomic.Int64
}

// New returns a sink with zero counts.
func New() *Sink { return &Sink{} }

// Open accepts any schema.
func (*Sink) Open(context.Context, *arrow.Schema) error { return nil }

// Write counts rec; it touches none of its data.
func (s *Sink) Write(_ context.Context, rec arrow.RecordBatch) error {
	s.rows.Add(rec.NumRows())
	s.batches.Add(1)
	return nil
}

// Flush has nothing to make durable.
func (*Sink) Flush(context.Context) error { return nil }

// Close has nothing to release.
func (*Sink) Close() error { return nil }

// CheckSchema accepts every schema.
func (*Sink) CheckSchema(*arrow.Schema) error { return nil }

// Rows is the number of rows written.
func (s *Sink) Rows() int64 { return s.rows.Load() }

// Batches is the number of batches written.
func (s *Sink) Batches() int64 { return s.batches.Load() }
