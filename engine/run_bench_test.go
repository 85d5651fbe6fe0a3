//go:build unix

package engine_test

import (
	"context"
	"syscall"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/dataweaver/dataweaver/engine"
)

// repeatSource hands out the same one-row record n times, so a run costs
// the engine's per-batch work and nothing else.
type repeatSource struct {
	engine.NoAck
	rec  arrow.RecordBatch
	n, i int
}

func (s *repeatSource) Open(context.Context) (*arrow.Schema, error) { return s.rec.Schema(), nil }
func (s *repeatSource) Read(context.Context) (*engine.Batch, error) {
	if s.i == s.n {
		return nil, engine.ErrEndOfInput
	}
	s.i++
	s.rec.Retain()
	return &engine.Batch{Record: s.rec}, nil
}
func (s *repeatSource) Close() error { return nil }

type discardSink struct{}

func (discardSink) Open(context.Context, *arrow.Schema) error      { return nil }
func (discardSink) Write(context.Context, arrow.RecordBatch) error { return nil }
func (discardSink) Flush(context.Context) error                    { return nil }
func (discardSink) Close() error                                   { return nil }

// BenchmarkRunPerBatch is the engine's cost per batch: one-row batches
// through a source, two pass-through stages and a sink, so the figure is
// the runner's own (channels, counters, latency observations), not the
// steps' work. ns/op is per batch.
func BenchmarkRunPerBatch(b *testing.B) {
	bld := array.NewInt64Builder(memory.DefaultAllocator)
	bld.Append(1)
	arr := bld.NewArray()
	bld.Release()
	rec := array.NewRecordBatch(numSchema, []arrow.Array{arr}, 1)
	arr.Release()
	defer rec.Release()
	pass := funcStage{f: func(r arrow.RecordBatch) (arrow.RecordBatch, []engine.RowError, error) {
		r.Retain()
		return r, nil, nil
	}}
	p := &engine.Pipeline{
		Name:   "bench",
		Source: engine.SourceStep{Name: "source", Source: &repeatSource{rec: rec, n: b.N}},
		Stages: []engine.StageStep{{Name: "a", Stage: pass}, {Name: "b", Stage: pass}},
		Sinks:  []engine.SinkStep{{Name: "sink", Sink: discardSink{}}},
	}
	b.ReportAllocs()
	b.ResetTimer()
	cpu := cpuTime()
	if _, err := p.Run(context.Background()); err != nil {
		b.Fatal(err)
	}
	// CPU time (user + system, every goroutine) per batch: under a loaded
	// machine it moves far less than wall time, so it is the figure to
	// compare across builds.
	b.ReportMetric(float64(cpuTime()-cpu)/float64(b.N), "cpu-ns/op")
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
