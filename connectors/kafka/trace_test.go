package kafka

import (
	"fmt"
	"testing"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/dataweaver/dataweaver/connectors/conformance"
	"github.com/dataweaver/dataweaver/connectors/internal/msgtest"
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
