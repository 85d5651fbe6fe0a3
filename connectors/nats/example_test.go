package nats_test

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/nats-io/nats-server/v2/server"
	natsgo "github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/dataweaver/dataweaver/connectors/inmemory"
	"github.com/dataweaver/dataweaver/connectors/nats"
	"github.com/dataweaver/dataweaver/engine"
	"github.com/dataweaver/dataweaver/engine/spec"
)

// Rows are published to a JetStream stream as JSON messages by the sink,
// and read back by the source through a durable consumer that stops at the
// end of the stream (stop_at_end). The server runs in-process here; give
// URLs your own.
func Example() {
	url, stop, err := startJetStream()
	if err != nil {
		fmt.Println(err)
		return
	}
	defer stop()
	ctx := context.Background()

	sink, err := nats.SinkConfig{URLs: []string{url}, Subject: "cities.new", Jetstream: new(true)}.Build(engine.Build{})
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
		Sinks:  []engine.SinkStep{{Name: "stream", Sink: sink}},
	}
	if _, err := out.Run(ctx); err != nil {
		fmt.Println(err)
		return
	}

	source, err := nats.SourceConfig{
		URLs: []string{url}, Stream: "CITIES", Durable: "example", StopAtEnd: true,
		Schema: []spec.KV{{Key: "city", Value: "utf8"}, {Key: "people", Value: "int64"}},
	}.Build(engine.Build{})
	if err != nil {
		fmt.Println(err)
		return
	}
	got := inmemory.NewSink()
	defer got.Release()
	in := &engine.Pipeline{
		Source: engine.SourceStep{Name: "stream", Source: source},
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

// startJetStream runs nats-server with JetStream in this process, with a
// stream CITIES capturing cities.>, and returns its URL.
func startJetStream() (url string, stop func(), err error) {
	dir, err := os.MkdirTemp("", "nats-example")
	if err != nil {
		return "", nil, err
	}
	srv, err := server.NewServer(&server.Options{
		Host: "127.0.0.1", Port: server.RANDOM_PORT, JetStream: true, StoreDir: dir, NoLog: true, NoSigs: true,
	})
	if err != nil {
		return "", nil, err
	}
	go srv.Start()
	stop = func() {
		srv.Shutdown()
		srv.WaitForShutdown()
		os.RemoveAll(dir)
	}
	if !srv.ReadyForConnections(time.Minute) {
		stop()
		return "", nil, fmt.Errorf("nats-server did not start")
	}
	nc, err := natsgo.Connect(srv.ClientURL())
	if err != nil {
		stop()
		return "", nil, err
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err == nil {
		_, err = js.CreateStream(context.Background(), jetstream.StreamConfig{Name: "CITIES", Subjects: []string{"cities.>"}})
	}
	if err != nil {
		stop()
		return "", nil, err
	}
	return srv.ClientURL(), stop, nil
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
