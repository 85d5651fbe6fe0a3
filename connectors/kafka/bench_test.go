package kafka

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/dataweaver/dataweaver/codec"
	"github.com/dataweaver/dataweaver/connectors/conformance"
	"github.com/dataweaver/dataweaver/connectors/generate"
	"github.com/dataweaver/dataweaver/connectors/internal/msgtest"
	"github.com/dataweaver/dataweaver/internal/benchrec/paired"

	_ "github.com/dataweaver/dataweaver/connectors/discard"
)

// BenchmarkKafkaToDiscard: rows/s from a kfake topic of orders (JSON,
// about 150 bytes a record, 4 partitions) through the source into
// discard, per batch size. The topic is filled once; each iteration reads
// it all in a new consumer group, offset commits included.
func BenchmarkKafkaToDiscard(b *testing.B) {
	const rows = 200_000
	brokers := startCluster(b, 4, "orders")
	mem := memory.NewGoAllocator()
	rec := generate.Orders(mem, rows, 1)
	msgs := msgtest.Encode(b, codec.Config{Name: codec.JSON}, rec, mem)
	rec.Release()
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokerList(brokers)...))
	if err != nil {
		b.Fatal(err)
	}
	for _, m := range msgs {
		cl.Produce(context.Background(), &kgo.Record{Topic: "orders", Value: m}, func(_ *kgo.Record, err error) {
			if err != nil {
				panic(err)
			}
		})
	}
	if err := cl.Flush(context.Background()); err != nil {
		b.Fatal(err)
	}
	cl.Close()
	schema := `{id: int64, customer: utf8, email: utf8, country: utf8, amount: float64, ts: "timestamp[us, UTC]", note: utf8}`
	for _, batch := range []int{1000, 10000} {
		b.Run(fmt.Sprintf("batch%d", batch), func(b *testing.B) {
			for range b.N {
				text := fmt.Sprintf(`
batch: {rows: %d, linger: 100ms}
source:
  kafka: {brokers: %s, topics: [orders], group: bench%d, stop_at_end: true, schema: %s}
sinks:
  - discard:
`, batch, brokers, groups.Add(1), schema)
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

// BenchmarkKafkaSink: rows/s and CPU per row (this process: the pipeline
// and the in-process kfake broker) of generate → the kafka sink (JSON,
// about 150 bytes a record, 4 partitions), per batch size: what a smaller
// default batch costs a message sink, whose flush at the end of a run of
// batches waits for every produce (BENCHMARKS.md "W1 peak memory").
func BenchmarkKafkaSink(b *testing.B) {
	const rows = 500_000
	brokers := startCluster(b, 4, "orders")
	for _, batch := range []int{16384, 65536} {
		b.Run(fmt.Sprintf("batch%d", batch), func(b *testing.B) {
			for range b.N {
				text := fmt.Sprintf(`
batch: {rows: %d}
source: {generate: {preset: orders, rows: %d}}
sinks:
  - kafka: {brokers: %s, topic: orders}
`, batch, rows, brokers)
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
