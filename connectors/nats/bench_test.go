package nats

import (
	"fmt"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/dataweaver/dataweaver/codec"
	"github.com/dataweaver/dataweaver/connectors/conformance"
	"github.com/dataweaver/dataweaver/connectors/generate"
	"github.com/dataweaver/dataweaver/connectors/internal/msgtest"
	"github.com/dataweaver/dataweaver/internal/benchrec/paired"

	_ "github.com/dataweaver/dataweaver/connectors/discard"
)

// BenchmarkJetStreamToDiscard: rows/s from a JetStream stream of orders
// (JSON, about 150 bytes a message) through the source into discard, per
// batch size. The stream is filled once; each iteration reads it all
// with a new durable consumer, acks included.
func BenchmarkJetStreamToDiscard(b *testing.B) {
	const rows = 200_000
	url := startServer(b)
	js := createStream(b, url, "ORDERS", "orders.>")
	mem := memory.NewGoAllocator()
	rec := generate.Orders(mem, rows, 1)
	msgs := msgtest.Encode(b, codec.Config{Name: codec.JSON}, rec, mem)
	rec.Release()
	for i, m := range msgs {
		if _, err := js.PublishAsync("orders.new", m); err != nil {
			b.Fatal(err)
		}
		if i%10000 == 9999 {
			<-js.PublishAsyncComplete()
		}
	}
	<-js.PublishAsyncComplete()
	schema := `{id: int64, customer: utf8, email: utf8, country: utf8, amount: float64, ts: "timestamp[us, UTC]", note: utf8}`
	for _, batch := range []int{1000, 10000} {
		b.Run(fmt.Sprintf("batch%d", batch), func(b *testing.B) {
			for range b.N {
				text := fmt.Sprintf(`
batch: {rows: %d, linger: 100ms}
source:
  nats_jetstream: {urls: [%s], stream: ORDERS, durable: bench%d, stop_at_end: true, schema: %s}
sinks:
  - discard:
`, batch, q(url), durables.Add(1), schema)
				start := time.Now()
				m := conformance.RunPipeline(b, memory.NewGoAllocator(), text)
				if got := m.Steps[0].RowsOut.Load(); got != rows {
					b.Fatalf("read %d rows, want %d", got, rows)
				}
				b.ReportMetric(float64(rows)/time.Since(start).Seconds(), "rows/s")
			}
		})
	}
}

// BenchmarkJetStreamSink: rows/s and CPU per row (this process: the
// pipeline and the embedded nats-server) of generate → the nats sink
// publishing to JetStream (JSON, about 150 bytes a message, acks awaited
// at each flush), per batch size: what a smaller default batch costs a
// message sink (BENCHMARKS.md "W1 peak memory").
func BenchmarkJetStreamSink(b *testing.B) {
	const rows = 100_000
	url := startServer(b)
	createStream(b, url, "SINK", "sink.>")
	for _, batch := range []int{16384, 65536} {
		b.Run(fmt.Sprintf("batch%d", batch), func(b *testing.B) {
			for range b.N {
				text := fmt.Sprintf(`
batch: {rows: %d}
source: {generate: {preset: orders, rows: %d}}
sinks:
  - nats: {urls: [%s], subject: sink.orders}
`, batch, rows, q(url))
				cpu0, start := paired.CPU(), time.Now()
				m := conformance.RunPipeline(b, memory.NewGoAllocator(), text)
				elapsed, cpu := time.Since(start), paired.CPU()-cpu0
				if got := m.Steps[len(m.Steps)-1].RowsOut.Load(); got != rows {
					b.Fatalf("wrote %d rows, want %d", got, rows)
				}
				b.ReportMetric(float64(rows)/elapsed.Seconds(), "rows/s")
				b.ReportMetric(float64(cpu.Nanoseconds())/rows, "cpu-ns/row")
			}
		})
	}
}
