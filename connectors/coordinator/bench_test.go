package coordinator_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/dataweaver/dataweaver/connectors/coordinator"
	"github.com/dataweaver/dataweaver/engine/position"
)

// The coordinator's own cost per split, on the embedded server: what
// bounds how many workers one JetStream serves (BENCHMARKS.md).

// BenchmarkSplitCycle is one split's messages as a worker exchanges them:
// its publication (with a message ID), a fetch, the position's load and
// fenced save, and the synchronous ack. Reports splits/s.
func BenchmarkSplitCycle(b *testing.B) {
	url := startNATS(b)
	ctx := context.Background()
	nc, err := nats.Connect(url)
	if err != nil {
		b.Fatal(err)
	}
	defer nc.Close()
	js, _ := jetstream.New(nc)
	if _, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: "S", Subjects: []string{"weave.splits.>"},
		Retention: jetstream.WorkQueuePolicy, Duplicates: 10 * time.Minute}); err != nil {
		b.Fatal(err)
	}
	cons, err := js.CreateConsumer(ctx, "S", jetstream.ConsumerConfig{Durable: "w", AckPolicy: jetstream.AckExplicitPolicy,
		AckWait: 30 * time.Second, MaxAckPending: -1})
	if err != nil {
		b.Fatal(err)
	}
	st, err := coordinator.OpenStore(ctx, coordinator.Config{URLs: []string{url}}, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	b.ResetTimer()
	for i := range b.N {
		id := fmt.Sprintf("p/data/part-%06d.parquet#0@1", i)
		if _, err := js.Publish(ctx, "weave.splits.p", []byte(`{"pipeline":"p","step":"s","split":{"id":"x"}}`), jetstream.WithMsgID(id)); err != nil {
			b.Fatal(err)
		}
		batch, err := cons.Fetch(1, jetstream.FetchMaxWait(time.Second))
		if err != nil {
			b.Fatal(err)
		}
		for msg := range batch.Messages() {
			key := position.Key{Pipeline: "p", Step: "s", Split: id}
			rec, err := st.Load(ctx, key)
			if err != nil {
				b.Fatal(err)
			}
			rec.Finished, rec.Rows = true, 1000
			if _, err := st.Save(ctx, key, rec); err != nil {
				b.Fatal(err)
			}
			if err := msg.DoubleAck(ctx); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "splits/s")
}

// BenchmarkKVSave is one fenced position save (compare-and-set on the
// revision read before): what a worker does per split, and what a
// streaming source would do per checkpoint.
func BenchmarkKVSave(b *testing.B) {
	url := startNATS(b)
	ctx := context.Background()
	st, err := coordinator.OpenStore(ctx, coordinator.Config{URLs: []string{url}}, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	key := position.Key{Pipeline: "p", Step: "s", Split: "x"}
	var rev uint64
	b.ResetTimer()
	for range b.N {
		if rev, err = st.Save(ctx, key, position.Record{Revision: rev, Rows: 1}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "saves/s")
}
