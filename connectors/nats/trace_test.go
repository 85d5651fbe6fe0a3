package nats

import (
	"context"
	"fmt"
	"testing"

	"github.com/nats-io/nats.go"

	"github.com/dataweaver/dataweaver/connectors/conformance"
	"github.com/dataweaver/dataweaver/connectors/generate"
	"github.com/dataweaver/dataweaver/connectors/internal/msgtest"
	"github.com/dataweaver/dataweaver/engine"
)

// TestTraceParentHeader: a batch carries the traceparent header of its
// first message that has one, so a traced pipeline continues the
// publisher's trace.
func TestTraceParentHeader(t *testing.T) {
	mem := conformance.Checked(t)
	url := startServer(t)
	js := createStream(t, url, "S", "in.>")
	const first, second = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
	publish(t, js, "in.a", []byte(`{"id": 1}`))
	for i, tp := range []string{first, second} {
		m := nats.NewMsg("in.a")
		m.Data = fmt.Appendf(nil, `{"id": %d}`, i+2)
		m.Header.Set("traceparent", tp)
		if _, err := js.PublishMsg(context.Background(), m); err != nil {
			t.Fatal(err)
		}
	}
	src := mustSource(t, fmt.Sprintf("{urls: [%s], stream: S, durable: d, stop_at_end: true, schema: {id: int64}}", q(url)),
		conformance.Build(mem, 10, "source"))
	b := msgtest.ReadOneBatch(t, src)
	if b.Record.NumRows() != 3 || b.TraceParent != first {
		t.Errorf("%d rows with traceparent %q, want 3 with %q", b.Record.NumRows(), b.TraceParent, first)
	}
	msgtest.AckAndExpectEnd(t, src, b)
}

// TestSinkWritesTraceParent: in a traced pipeline the sink's JetStream
// messages carry its span's traceparent, and our source reading them
// continues it.
func TestSinkWritesTraceParent(t *testing.T) {
	mem := conformance.Checked(t)
	url := startServer(t)
	createStream(t, url, "OUT", "out.>")
	const tp = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
	p := &engine.Pipeline{
		Name:   "traced",
		Source: engine.SourceStep{Name: "gen", Source: generate.NewOrdersSource(mem, 25, 1, 10)},
		Sinks:  []engine.SinkStep{{Name: "out", Sink: mustSink(t, fmt.Sprintf("{urls: [%s], subject: out.x}", q(url)), conformance.Build(mem, 10, "sink"))}},
		Tracer: msgtest.Tracer{TraceParent: tp},
	}
	if _, err := p.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	src := mustSource(t, fmt.Sprintf("{urls: [%s], stream: OUT, durable: d, stop_at_end: true, schema: %s}", q(url), conformance.SchemaYAML(generate.OrdersSchema)),
		conformance.Build(mem, 100, "source"))
	if b := msgtest.ReadOneBatch(t, src); b.Record.NumRows() == 0 || b.TraceParent != tp {
		t.Errorf("read back %d rows with traceparent %q, want %q", b.Record.NumRows(), b.TraceParent, tp)
	}
}
