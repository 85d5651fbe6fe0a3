package nats

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/dataweaver/dataweaver/codec"
	"github.com/dataweaver/dataweaver/connectors/conformance"
	"github.com/dataweaver/dataweaver/connectors/internal/msgtest"
	"github.com/dataweaver/dataweaver/engine"
)

var durables atomic.Int64

// TestSourceConformance: the source Resumes, as its durable consumer
// keeps the acknowledged position in the server. The crash drops the
// connection without nak'ing; the server redelivers after ack_wait.
func TestSourceConformance(t *testing.T) {
	for _, name := range msgtest.Codecs {
		t.Run(name, func(t *testing.T) {
			conformance.RunSource(t, conformance.SourceHarness{
				AtLeastOnce: true,
				Resumes:     true,
				Crash:       func(src engine.Source) { src.(*Source).abandon() },
				New: conformance.FromSample(nil, func(t *testing.T, in arrow.RecordBatch, b engine.Build) conformance.SourceBuilder {
					url := startServer(t)
					js := createStream(t, url, "S", "in.>")
					enc, fields := msgtest.SourceCodec(t, name)
					publish(t, js, "in.x", msgtest.Encode(t, enc, in, b.Mem)...)
					// A short ack_wait: the crash case waits for it.
					return conformance.SourceFromConfig(t, "nats_jetstream", msgtest.Flow("urls: ["+q(url)+"]", "stream: S",
						fmt.Sprintf("durable: d%d", durables.Add(1)), "stop_at_end: true", "ack_wait: 1s", fields))
				}),
			})
		})
	}
}

// readStream decodes every message stored in stream with the codec.
func readStream(t testing.TB, js jetstream.JetStream, stream string, conf codec.Config, mem memory.Allocator) []arrow.RecordBatch {
	t.Helper()
	ctx := context.Background()
	cons, err := js.OrderedConsumer(ctx, stream, jetstream.OrderedConsumerConfig{})
	if err != nil {
		t.Fatal(err)
	}
	info, err := js.Stream(ctx, stream)
	if err != nil {
		t.Fatal(err)
	}
	total := int(info.CachedInfo().State.Msgs)
	var msgs [][]byte
	// Every message is stored already; a fetch that comes back short is
	// tried again rather than failed after a wall-clock wait (messages
	// that never come hang the test, and go test's -timeout says where).
	for len(msgs) < total {
		mb, err := cons.Fetch(total - len(msgs))
		if err != nil {
			t.Fatal(err)
		}
		for m := range mb.Messages() {
			msgs = append(msgs, m.Data())
		}
	}
	return msgtest.Decode(t, conf, msgs, mem)
}

func TestSinkConformance(t *testing.T) {
	for _, c := range []struct{ name, codec, extra string }{
		{"jetstream json", codec.JSON, ""},
		{"jetstream json msg id", codec.JSON, "msg_id_column: id"},
		{"jetstream avro", codec.Avro, ""},
		{"jetstream protobuf", codec.Protobuf, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			conformance.RunSink(t, conformance.SinkHarness{
				New: func(t *testing.T, b engine.Build) (engine.Sink, conformance.ReadBack) {
					url := startServer(t)
					js := createStream(t, url, "OUT", "out.>")
					fields, dec := msgtest.SinkCodec(t, c.codec)
					sink := mustSink(t, msgtest.Flow("urls: ["+q(url)+"]", "subject: out.rows", fields, c.extra), b)
					return sink, func(t *testing.T, mem memory.Allocator) []arrow.RecordBatch {
						return readStream(t, js, "OUT", dec, mem)
					}
				},
			})
		})
	}
}
