package engine

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"
)

// This file is the engine's side of tracing: a hook told about each batch
// and each step it goes through, so a tracing backend (OpenTelemetry, in
// internal/tracing) can make spans without the engine importing it. As
// with the metrics in observe.go, the engine calls it once per batch per
// step, never per row; and when Pipeline.Tracer is nil nothing is
// allocated and each step costs one nil check per batch.

// Tracer starts the span of one batch. It is called from the source's
// goroutine, and the returned span's methods from the steps' goroutines.
type Tracer interface {
	StartBatch(b TraceBatch) BatchSpan
}

// TraceBatch describes a batch the source delivered.
type TraceBatch struct {
	Pipeline string
	Source   string
	// Seq numbers the batch within the run, from 0.
	Seq int64
	// Rows the source delivered; Rejects the rows it could not decode.
	Rows, Rejects int64
	// Start is when the source's Read of the batch began.
	Start time.Time
	// TraceParent is the W3C traceparent the batch's rows arrived with
	// (Batch.TraceParent), "" for none.
	TraceParent string
}

// BatchSpan is one batch's span. End is called once, when every sink has
// finished the batch or a step failed the run on it (err then set).
// StartStep returns the step span's W3C traceparent ("" if it has none),
// which a sink finds in its Write's context (TraceParent).
type BatchSpan interface {
	StartStep(step, kind string, rowsIn int64) (traceParent string, end func(StepEnd))
	End(err error)
}

type traceParentKey struct{}

// TraceParent is the W3C traceparent of the sink's span for the batch
// being written, "" when the pipeline is not traced. A sink that sends
// messages or requests writes it into them (a traceparent header), so the
// receiver continues the trace.
func TraceParent(ctx context.Context) string {
	tp, _ := ctx.Value(traceParentKey{}).(string)
	return tp
}

// StepEnd is what a step did with a batch.
type StepEnd struct {
	RowsOut, Rejects int64
	// Err is the batch's failure, also when the step's policy absorbed
	// it (the rows were skipped or dead-lettered).
	Err error
}

// batchTrace is an envelope's span; every copy of the envelope the
// fan-out makes shares it, and the last sink to finish the batch ends it.
type batchTrace struct {
	span  BatchSpan
	left  atomic.Int32 // sinks that have not finished the batch
	spans *openSpans
}

// openSpans holds the batch spans not yet ended, so that a run that ends
// on an error still ends (and so exports) the spans of the batches it
// dropped in flight.
type openSpans struct {
	mu   sync.Mutex
	open map[*batchTrace]struct{}
}

// errDropped ends the span of a batch still in flight when the run ended.
var errDropped = errors.New("the run ended before the batch was written")

// endAll ends every span still open, with the run's error if it has one.
func (o *openSpans) endAll(err error) {
	if o == nil {
		return
	}
	if err == nil {
		err = errDropped
	}
	o.mu.Lock()
	left := make([]*batchTrace, 0, len(o.open))
	for t := range o.open {
		left = append(left, t)
	}
	o.mu.Unlock()
	for _, t := range left {
		t.done(err)
	}
}

// traceBatch starts b's span; nil when the pipeline is not traced.
func (r *runner) traceBatch(b *Batch, seq int64, start time.Time) *batchTrace {
	if r.p.Tracer == nil {
		return nil
	}
	var rows int64
	if b.Record != nil {
		rows = b.Record.NumRows()
	}
	if r.spans == nil {
		r.spans = &openSpans{open: map[*batchTrace]struct{}{}}
	}
	t := &batchTrace{spans: r.spans, span: r.p.Tracer.StartBatch(TraceBatch{
		Pipeline: r.p.Name, Source: r.p.Source.Name, Seq: seq,
		Rows: rows, Rejects: int64(len(b.Rejects)), Start: start, TraceParent: b.TraceParent,
	})}
	t.left.Store(int32(len(r.p.Sinks)))
	r.spans.mu.Lock()
	r.spans.open[t] = struct{}{}
	r.spans.mu.Unlock()
	return t
}

// step starts a step's span; nil when the batch is not traced.
func (t *batchTrace) step(name, kind string, rowsIn int64) func(StepEnd) {
	if t == nil {
		return nil
	}
	_, end := t.span.StartStep(name, kind, rowsIn)
	return end
}

// sinkStep starts a sink's span and puts its traceparent in the context
// the sink writes with; ctx as it is when the batch is not traced.
func (t *batchTrace) sinkStep(ctx context.Context, name string, rowsIn int64) (context.Context, func(StepEnd)) {
	if t == nil {
		return ctx, nil
	}
	tp, end := t.span.StartStep(name, KindSink, rowsIn)
	if tp != "" {
		ctx = context.WithValue(ctx, traceParentKey{}, tp)
	}
	return ctx, end
}

// done is called by each sink when it has finished the batch, and by a
// step whose failure ends the run (err set): the span then ends at once.
func (t *batchTrace) done(err error) {
	if t == nil {
		return
	}
	if err != nil {
		if t.left.Swap(0) > 0 {
			t.end(err)
		}
		return
	}
	if t.left.Add(-1) == 0 {
		t.end(nil)
	}
}

func (t *batchTrace) end(err error) {
	t.spans.mu.Lock()
	delete(t.spans.open, t)
	t.spans.mu.Unlock()
	t.span.End(err)
}
