package msgtest

import "github.com/dataweaver/dataweaver/engine"

// Tracer is an engine.Tracer whose sink spans all have the traceparent
// TraceParent, for tests of sinks that write it into their messages
// (internal/tracing's tests check the real spans against an OTLP endpoint).
type Tracer struct{ TraceParent string }

func (t Tracer) StartBatch(engine.TraceBatch) engine.BatchSpan { return span(t) }

type span Tracer

func (s span) StartStep(_, kind string, _ int64) (string, func(engine.StepEnd)) {
	if kind != engine.KindSink {
		return "", func(engine.StepEnd) {}
	}
	return s.TraceParent, func(engine.StepEnd) {}
}

func (span) End(error) {}
