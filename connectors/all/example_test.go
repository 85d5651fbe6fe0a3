package all_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/dataweaver/dataweaver/connectors/file"
	"github.com/dataweaver/dataweaver/connectors/kafka"
	"github.com/dataweaver/dataweaver/connectors/wasm"
	"github.com/dataweaver/dataweaver/engine"
)

// order is a row of the application's own.
type order struct {
	id     int64
	amount float64
}

// orderSource is a source of your own: it serves the application's orders
// as Arrow batches of two rows.
type orderSource struct {
	engine.NoAck // nothing to acknowledge: the orders are in memory
	orders       []order
	next         int
}

var orderSchema = arrow.NewSchema([]arrow.Field{
	{Name: "id", Type: arrow.PrimitiveTypes.Int64},
	{Name: "amount", Type: arrow.PrimitiveTypes.Float64},
}, nil)

func (s *orderSource) Open(context.Context) (*arrow.Schema, error) {
	s.next = 0
	return orderSchema, nil
}

func (s *orderSource) Read(context.Context) (*engine.Batch, error) {
	if s.next >= len(s.orders) {
		return nil, engine.ErrEndOfInput
	}
	b := array.NewRecordBuilder(memory.DefaultAllocator, orderSchema)
	defer b.Release()
	for i := 0; i < 2 && s.next < len(s.orders); i, s.next = i+1, s.next+1 {
		b.Field(0).(*array.Int64Builder).Append(s.orders[s.next].id)
		b.Field(1).(*array.Float64Builder).Append(s.orders[s.next].amount)
	}
	return &engine.Batch{Record: b.NewRecordBatch()}, nil
}

func (s *orderSource) Close() error { return nil }

// The seed's story in Go: a source of your own, a WebAssembly stage
// loaded from a file, the built-in Kafka sink, and a dead-letter file for
// the rows the stage rejects. The stage (transforms/c/derive) adds the
// amount in cents, and rejects a row whose cents do not fit an int64.
func Example() {
	brokers, stop := startKafka("orders")
	defer stop()
	dir, _ := os.MkdirTemp("", "story")
	defer os.RemoveAll(dir)

	b := engine.Build{}
	cents, err := wasm.StageConfig{
		Path:   "../../transforms/c/derive/derive.wasm",
		Config: map[string]any{"source": "amount", "target": "cents", "factor": 100},
	}.Build(b)
	if err != nil {
		fmt.Println(err)
		return
	}
	topic, err := kafka.SinkConfig{Brokers: brokers, Topic: "orders"}.Build(b)
	if err != nil {
		fmt.Println(err)
		return
	}
	rejected, err := file.SinkConfig{Path: filepath.Join(dir, "rejected.jsonl")}.Build(engine.Build{DeadLetter: true})
	if err != nil {
		fmt.Println(err)
		return
	}
	p := &engine.Pipeline{
		Name:       "orders",
		Source:     engine.SourceStep{Name: "orders", Source: &orderSource{orders: []order{{1, 12.5}, {2, 1e300}, {3, 7}}}},
		Stages:     []engine.StageStep{{Name: "cents", Stage: cents, OnError: engine.DeadLetter}},
		Sinks:      []engine.SinkStep{{Name: "kafka", Sink: topic}},
		DeadLetter: rejected,
	}
	m, err := p.Run(context.Background())
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(m.Step("kafka").RowsIn.Load(), "rows to Kafka,", m.Step("cents").DeadLettered.Load(), "dead-lettered")

	for _, v := range consume(brokers, "orders", 2) {
		fmt.Println("kafka:", v)
	}
	dead, _ := os.ReadFile(filepath.Join(dir, "rejected.jsonl"))
	fmt.Printf("dead letter: %s", dead)
	// Output:
	// 2 rows to Kafka, 1 dead-lettered
	// kafka: {"id":1,"amount":12.5,"cents":1250}
	// kafka: {"id":3,"amount":7.0,"cents":700}
	// dead letter: {"step":"cents","error":"amount: 1e+300 × 100 does not fit in int64","file":null,"line":null,"row":1,"column":null,"record":"{\"id\":2,\"amount\":1e+300}"}
}

// startKafka runs franz-go's in-process Kafka (kfake) with the topics.
func startKafka(topics ...string) (brokers []string, stop func()) {
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(1, topics...))
	if err != nil {
		panic(err)
	}
	return c.ListenAddrs(), c.Close
}

// consume reads the first n record values of topic.
func consume(brokers []string, topic string, n int) []string {
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...), kgo.ConsumeTopics(topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		panic(err)
	}
	defer cl.Close()
	var out []string
	for len(out) < n {
		cl.PollFetches(context.Background()).EachRecord(func(r *kgo.Record) { out = append(out, string(r.Value)) })
	}
	return out
}
