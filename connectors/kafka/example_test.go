package kafka_test

import (
	"context"
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/dataweaver/dataweaver/connectors/inmemory"
	"github.com/dataweaver/dataweaver/connectors/kafka"
	"github.com/dataweaver/dataweaver/engine"
	"github.com/dataweaver/dataweaver/engine/spec"
)

// Rows go to a topic as JSON records through the sink, and come back
// through the source, which stops at the end of the topic (stop_at_end).
// The broker is franz-go's in-process kfake; give Brokers your own.
func Example() {
	cluster, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(1, "cities"))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer cluster.Close()
	brokers := cluster.ListenAddrs()
	ctx := context.Background()

	sink, err := kafka.SinkConfig{Brokers: brokers, Topic: "cities"}.Build(engine.Build{})
	if err != nil {
		fmt.Println(err)
		return
	}
	rec := cities()
	defer rec.Release()
	src := inmemory.NewSource(rec.Schema(), rec)
	defer src.Release()
	out := &engine.Pipeline{
		Source: engine.SourceStep{Name: "cities", Source: src},
		Sinks:  []engine.SinkStep{{Name: "topic", Sink: sink}},
	}
	if _, err := out.Run(ctx); err != nil {
		fmt.Println(err)
		return
	}

	source, err := kafka.SourceConfig{
		Brokers: brokers, Topics: []string{"cities"}, Group: "example", StartOffset: "earliest",
		StopAtEnd: true, Schema: []spec.KV{{Key: "city", Value: "utf8"}, {Key: "people", Value: "int64"}},
	}.Build(engine.Build{})
	if err != nil {
		fmt.Println(err)
		return
	}
	got := inmemory.NewSink()
	defer got.Release()
	in := &engine.Pipeline{
		Source: engine.SourceStep{Name: "topic", Source: source},
		Sinks:  []engine.SinkStep{{Name: "rows", Sink: got}},
	}
	if _, err := in.Run(ctx); err != nil {
		fmt.Println(err)
		return
	}
	tbl := got.Table()
	defer tbl.Release()
	fmt.Println(tbl.NumRows(), "rows:", tbl.Column(0).Data().Chunk(0), tbl.Column(1).Data().Chunk(0))
	// Output: 2 rows: ["Lyon" "Oslo"] [522 709]
}

// cities is a record of two rows built in Go.
func cities() arrow.RecordBatch {
	schema := arrow.NewSchema([]arrow.Field{
		{Name: "city", Type: arrow.BinaryTypes.String},
		{Name: "people", Type: arrow.PrimitiveTypes.Int64},
	}, nil)
	b := array.NewRecordBuilder(memory.DefaultAllocator, schema)
	defer b.Release()
	b.Field(0).(*array.StringBuilder).AppendValues([]string{"Lyon", "Oslo"}, nil)
	b.Field(1).(*array.Int64Builder).AppendValues([]int64{522, 709}, nil)
	return b.NewRecordBatch()
}
