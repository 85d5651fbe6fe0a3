package kafka

import (
	"fmt"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/dataweaver/dataweaver/connectors/conformance"
	"github.com/dataweaver/dataweaver/connectors/generate"
	mem "github.com/dataweaver/dataweaver/connectors/inmemory"
	"github.com/dataweaver/dataweaver/connectors/internal/msgtest"
)

// TestGenerateToKafkaAndBack: generate → Kafka sink, then Kafka source →
// memory sink, on one partition so the order is kept: the memory sink
// holds exactly the generated rows.
func TestGenerateToKafkaAndBack(t *testing.T) {
	for _, c := range []struct{ name, codec string }{{"json", ""}, {"avro", "codec: avro"}} {
		t.Run(c.name, func(t *testing.T) {
			// The pipelines keep positions in .weave-state beside their
			// file (t.yaml, relative): in a directory of their own, the
			// second subtest's generate does not resume where the first's
			// stopped.
			t.Chdir(t.TempDir())
			// First, so its leak checks run after the cluster has stopped.
			checked := conformance.Checked(t)
			brokers := startCluster(t, 1, "orders")
			conformance.RunPipeline(t, checked, fmt.Sprintf(`
batch: {rows: 500}
source:
  generate: {preset: orders, rows: 5003}
sinks:
  - kafka: {brokers: %[1]s, topic: orders, key_column: customer, %[2]s}
`, brokers, c.codec))

			src := `schema: {id: int64, customer: utf8, email: utf8, country: utf8, amount: float64, ts: "timestamp[us, UTC]", note: utf8}`
			if c.name == "avro" {
				src = "codec: avro, avro: {schema_file: " + msgtest.Q(msgtest.WriteFile(t, "orders.avsc", msgtest.OrdersAvsc)) + "}"
			}
			conformance.RunPipeline(t, checked, fmt.Sprintf(`
batch: {rows: 700, linger: 50ms}
source:
  kafka: {brokers: %[1]s, topics: [orders], group: e2e, stop_at_end: true, %[2]s}
sinks:
  - memory: {name: kafka-e2e-out-%[3]s}
`, brokers, src, c.name))
			out := mem.Lookup("kafka-e2e-out-" + c.name)
			defer out.Release()
			want := generate.Orders(memory.NewGoAllocator(), 5003, 1)
			defer want.Release()
			conformance.EqualRows(t, want, out.Records())
		})
	}
}
