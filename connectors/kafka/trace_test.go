package kafka

import (
	"context"
	"fmt"
	"testing"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/dataweaver/dataweaver/connectors/conformance"
	"github.com/dataweaver/dataweaver/connectors/generate"
	"github.com/dataweaver/dataweaver/connectors/internal/msgtest"
	"github.com/dataweaver/dataweaver/engine"
)

// TestTraceParentHeader: a batch carries the traceparent header of its
// first record that has one, so a traced pipeline continues the
// producer's trace.
func TestTraceParentHeader(t *testing.T) {
	mem := conformance.Checked(t)
	brokers := startCluster(t, 1, "in")
	const first, second = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
	header := func(v string) []kgo.RecordHeader {
		return []kgo.RecordHeader{{Key: "other", Value: []byte("x")}, {Key: "traceparent", Value: []byte(v)}}
	}
	produce(t, brokers,
		&kgo.Record{Topic: "in", Value: []byte(`{"id": 1}`)},
		&kgo.Record{Topic: "in", Value: []byte(`{"id": 2}`), Headers: header(first)},
		&kgo.Record{Topic: "in", Value: []byte(`{"id": 3}`), Headers: header(second)})
	src := mustSource(t, fmt.Sprintf("{brokers: %s, topics: [in], group: g, stop_at_end: true, schema: {id: int64}}", brokers),
		conformance.Build(mem, 10, "source"))
	b := msgtest.ReadOneBatch(t, src)
	if b.Record.NumRows() != 3 || b.TraceParent != first {
		t.Errorf("%d rows with traceparent %q, want 3 with %q", b.Record.NumRows(), b.TraceParent, first)
	}
	msgtest.AckAndExpectEnd(t, src, b)
}

// TestSinkWritesTraceParent: in a traced pipeline the sink's records carry
// its span's traceparent, and our source reading them continues it.
func TestSinkWritesTraceParent(t *testing.T) {
	mem := conformance.Checked(t)
	brokers := startCluster(t, 1, "t")
	const tp = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
	p := &engine.Pipeline{
		Name:   "traced",
		Source: engine.SourceStep{Name: "gen", Source: generate.NewOrdersSource(mem, 25, 1, 10)},
		Sinks:  []engine.SinkStep{{Name: "out", Sink: mustSink(t, fmt.Sprintf("{brokers: %s, topic: t}", brokers), conformance.Build(mem, 10, "sink"))}},
		Tracer: msgtest.Tracer{TraceParent: tp},
	}
	if _, err := p.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	for i, r := range consumeAll(t, brokers, "t", 25) {
		if len(r.Headers) != 1 || r.Headers[0].Key != "traceparent" || string(r.Headers[0].Value) != tp {
			t.Fatalf("record %d: headers %v, want traceparent %s", i, r.Headers, tp)
		}
	}
	src := mustSource(t, fmt.Sprintf("{brokers: %s, topics: [t], group: g, stop_at_end: true, schema: %s}", brokers, conformance.SchemaYAML(generate.OrdersSchema)),
		conformance.Build(mem, 100, "source"))
	if b := msgtest.ReadOneBatch(t, src); b.TraceParent != tp {
		t.Errorf("read back: traceparent %q, want %q", b.TraceParent, tp)
	}
}
