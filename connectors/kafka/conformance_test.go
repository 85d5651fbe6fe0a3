package kafka

import (
	"fmt"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/dataweaver/dataweaver/codec"
	"github.com/dataweaver/dataweaver/connectors/conformance"
	"github.com/dataweaver/dataweaver/connectors/internal/msgtest"
	"github.com/dataweaver/dataweaver/engine"
)

// TestSourceConformance runs the shared suite on one partition (so batch
// boundaries and order are those of the input). The source Resumes: Ack
// commits the group's offsets in the cluster and Close never commits, so
// a new source in the same group reads exactly what was not acknowledged.
func TestSourceConformance(t *testing.T) {
	for _, name := range msgtest.Codecs {
		t.Run(name, func(t *testing.T) {
			conformance.RunSource(t, conformance.SourceHarness{
				AtLeastOnce: true,
				Resumes:     true,
				New: conformance.FromSample(nil, func(t *testing.T, in arrow.RecordBatch, b engine.Build) conformance.SourceBuilder {
					brokers := startCluster(t, 1, "in")
					enc, fields := msgtest.SourceCodec(t, name)
					if in.NumRows() > 0 {
						produce(t, brokers, values("in", msgtest.Encode(t, enc, in, b.Mem))...)
					}
					return conformance.SourceFromConfig(t, "kafka", msgtest.Flow("brokers: "+brokers, "topics: [in]",
						fmt.Sprintf("group: g%d", groups.Add(1)), "stop_at_end: true", fields))
				}),
			})
		})
	}
}

func TestSinkConformance(t *testing.T) {
	for _, c := range []struct{ name, codec, extra string }{
		{"json", codec.JSON, ""},
		{"json keyed", codec.JSON, "key_column: id"},
		{"avro", codec.Avro, ""},
		{"protobuf", codec.Protobuf, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			conformance.RunSink(t, conformance.SinkHarness{
				New: func(t *testing.T, b engine.Build) (engine.Sink, conformance.ReadBack) {
					brokers := startCluster(t, 1, "out")
					fields, dec := msgtest.SinkCodec(t, c.codec)
					sink := mustSink(t, msgtest.Flow("brokers: "+brokers, "topic: out", fields, c.extra), b)
					return sink, func(t *testing.T, mem memory.Allocator) []arrow.RecordBatch {
						return readTopic(t, brokers, "out", dec, mem)
					}
				},
			})
		})
	}
}

// readTopic decodes every record of a topic with the codec.
func readTopic(t *testing.T, brokers, topic string, conf codec.Config, mem memory.Allocator) []arrow.RecordBatch {
	t.Helper()
	n := endOffset(t, brokers, topic)
	recs := consumeAll(t, brokers, topic, int(n))
	msgs := make([][]byte, len(recs))
	for i, r := range recs {
		msgs[i] = r.Value
	}
	return msgtest.Decode(t, conf, msgs, mem)
}
