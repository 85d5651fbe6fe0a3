package kafka

import (
	"fmt"
	"testing"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/dataweaver/dataweaver/connectors/conformance"
	"github.com/dataweaver/dataweaver/connectors/internal/msgtest"
	"github.com/dataweaver/dataweaver/engine"
)

// TestLagMessages: after a batch, the source reports the records the
// topic holds beyond it (weave_source_lag_messages).
func TestLagMessages(t *testing.T) {
	mem := conformance.Checked(t)
	brokers := startCluster(t, 1, "in")
	const total = 40
	var msgs [][]byte
	for i := 1; i <= total; i++ {
		msgs = append(msgs, fmt.Appendf(nil, `{"id": %d}`, i))
	}
	produce(t, brokers, values("in", msgs)...)
	src := mustSource(t, fmt.Sprintf("{brokers: %s, topics: [in], group: g, stop_at_end: true, schema: {id: int64}}", brokers),
		conformance.Build(mem, 10, "source"))
	var l engine.Lagger = src
	if _, ok := l.LagMessages(); ok {
		t.Error("lag known before the first poll")
	}
	b := msgtest.ReadOneBatch(t, src)
	n, ok := l.LagMessages()
	if want := total - b.Record.NumRows(); !ok || n != want {
		t.Errorf("lag after a batch of %d = %d (known %v), want %d", b.Record.NumRows(), n, ok, want)
	}
}

// TestLagEveryPartition: the lag counts every partition the member owns,
// those no poll has returned records of yet included (they hold records
// too), not only the partitions of the batches read.
func TestLagEveryPartition(t *testing.T) {
	mem := conformance.Checked(t)
	const parts, each = 4, 10
	brokers := startCluster(t, parts, "in")
	var recs []*kgo.Record
	for p := range int32(parts) {
		for i := range each {
			recs = append(recs, &kgo.Record{Topic: "in", Partition: p, Value: fmt.Appendf(nil, `{"id": %d}`, i)})
		}
	}
	produceManual(t, brokers, recs...)
	src := mustSource(t, fmt.Sprintf("{brokers: %s, topics: [in], group: g, stop_at_end: true, schema: {id: int64}}", brokers),
		conformance.Build(mem, 5, "source"))
	b := msgtest.ReadOneBatch(t, src)
	n, ok := src.LagMessages()
	if want := parts*each - b.Record.NumRows(); !ok || n != want {
		t.Errorf("lag after a batch of %d = %d (known %v), want %d: every partition's records count", b.Record.NumRows(), n, ok, want)
	}
}
