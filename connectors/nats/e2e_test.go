package nats

import (
	"fmt"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/dataweaver/dataweaver/connectors/conformance"
	"github.com/dataweaver/dataweaver/connectors/generate"
	mem "github.com/dataweaver/dataweaver/connectors/inmemory"
	"github.com/dataweaver/dataweaver/connectors/internal/msgtest"
)

// TestGenerateToJetStreamAndBack: generate → JetStream sink (also copied
// to a memory sink), then JetStream source → memory sink; both memory
// sinks hold the same rows in the same order.
func TestGenerateToJetStreamAndBack(t *testing.T) {
	for _, c := range []struct{ name, codec string }{{"json", ""}, {"avro", "codec: avro"}} {
		t.Run(c.name, func(t *testing.T) {
			// First, so its leak checks run after the server has stopped.
			checked := conformance.Checked(t)
			url := startServer(t)
			createStream(t, url, "ORDERS", "orders.>")
			schema := "{id: int64, customer: utf8, email: utf8, country: utf8, amount: float64, ts: \"timestamp[us, UTC]\", note: utf8}"
			// Each run keeps its positions in a directory of its own:
			// the default, beside the test's pipeline file, is shared by
			// every subtest, and the second would resume where the
			// first ended (generate resumes by row index).
			conformance.RunPipeline(t, checked, fmt.Sprintf(`
state: %[3]s
batch: {rows: 500}
source:
  generate: {preset: orders, rows: 5003}
sinks:
  - nats: {urls: [%[1]s], subject: orders.new, msg_id_column: id, %[2]s}
`, q(url), c.codec, q(t.TempDir())))

			src := "schema: " + schema
			if c.name == "avro" {
				src = "codec: avro, avro: {schema_file: " + msgtest.Q(msgtest.WriteFile(t, "orders.avsc", msgtest.OrdersAvsc)) + "}"
			}
			conformance.RunPipeline(t, checked, fmt.Sprintf(`
state: %[4]s
batch: {rows: 700, linger: 50ms}
source:
  nats_jetstream: {urls: [%[1]s], stream: ORDERS, durable: e2e, stop_at_end: true, %[2]s}
sinks:
  - memory: {name: e2e-out-%[3]s}
`, q(url), src, c.name, q(t.TempDir())))
			out := mem.Lookup("e2e-out-" + c.name)
			defer out.Release()
			// generate.Orders gives Go code the rows the source generated.
			want := generate.Orders(memory.NewGoAllocator(), 5003, 1)
			defer want.Release()
			conformance.EqualRows(t, want, out.Records())
		})
	}
}
