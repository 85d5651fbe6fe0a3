package tracing

import (
	"context"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/dataweaver/dataweaver/engine"
	"github.com/dataweaver/dataweaver/internal/tracing/otlptest"
)

var benchSchema = arrow.NewSchema([]arrow.Field{{Name: "n", Type: arrow.PrimitiveTypes.Int64}}, nil)

// oneRow hands out the same one-row record n times.
type oneRow struct {
	engine.NoAck
	rec arrow.RecordBatch
	n   int
}

func (s *oneRow) Open(context.Context) (*arrow.Schema, error) { return benchSchema, nil }
func (s *oneRow) Read(context.Context) (*engine.Batch, error) {
	if s.n == 0 {
		return nil, engine.ErrEndOfInput
	}
	s.n--
	s.rec.Retain()
	return &engine.Batch{Record: s.rec}, nil
}
func (s *oneRow) Close() error { return nil }

type pass struct{}

func (pass) Bind(_ context.Context, in *arrow.Schema) (*arrow.Schema, error) { return in, nil }
func (pass) Process(_ context.Context, r arrow.RecordBatch) (arrow.RecordBatch, []engine.RowError, error) {
	r.Retain()
	return r, nil, nil
}
func (pass) Close() error { return nil }

type drop struct{}

func (drop) Open(context.Context, *arrow.Schema) error      { return nil }
func (drop) Write(context.Context, arrow.RecordBatch) error { return nil }
func (drop) Flush(context.Context) error                    { return nil }
func (drop) Close() error                                   { return nil }

// BenchmarkTracedRunPerBatch is engine.BenchmarkRunPerBatch's pipeline
// (one-row batches, two pass-through stages, a sink) traced to a real
// OTLP endpoint: ns/op is the runner's cost per batch plus four spans
// made, batched and exported, and the in-process receiver's decoding.
// At this rate (a batch every few µs) the SDK's queue overflows and it
// drops spans rather than slow the pipeline: spans/batch reports how many
// of the four arrived.
func BenchmarkTracedRunPerBatch(b *testing.B) {
	bld := array.NewInt64Builder(memory.DefaultAllocator)
	bld.Append(1)
	arr := bld.NewArray()
	bld.Release()
	rec := array.NewRecordBatch(benchSchema, []arrow.Array{arr}, 1)
	arr.Release()
	defer rec.Release()
	rc := otlptest.Start(b)
	p := &engine.Pipeline{
		Name:   "bench",
		Source: engine.SourceStep{Name: "source", Source: &oneRow{rec: rec, n: b.N}},
		Stages: []engine.StageStep{{Name: "a", Stage: pass{}}, {Name: "b", Stage: pass{}}},
		Sinks:  []engine.SinkStep{{Name: "sink", Sink: drop{}}},
	}
	t, err := New(context.Background(), func(k string) (string, bool) {
		return rc.URL, k == "OTEL_EXPORTER_OTLP_ENDPOINT"
	})
	if err != nil {
		b.Fatal(err)
	}
	p.Tracer = t
	b.ReportAllocs()
	b.ResetTimer()
	if _, err := p.Run(context.Background()); err != nil {
		b.Fatal(err)
	}
	if err := t.Shutdown(context.Background()); err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(len(rc.Spans()))/float64(b.N), "spans/batch")
}
