package kafka

import (
	"fmt"
	"os"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/twmb/franz-go/pkg/sr"

	"github.com/dataweaver/dataweaver/codec"
	"github.com/dataweaver/dataweaver/connectors/conformance"
	"github.com/dataweaver/dataweaver/connectors/internal/msgtest"
	"github.com/dataweaver/dataweaver/connectors/internal/schemareg"
	"github.com/dataweaver/dataweaver/engine"
)

// TestRegistrySourceConformance runs the shared source suite on messages
// framed for a schema registry: the writer's schema is the one the source
// reads with, registered in srfake. Avro only in make test (the suite
// takes ~4 s a codec; TestRegistryJSONSchema and TestRegistryProtobuf
// read the others through the source); DW_REGISTRY_ALL=1 runs all three.
func TestRegistrySourceConformance(t *testing.T) {
	codecs := []string{codec.Avro}
	if os.Getenv("DW_REGISTRY_ALL") != "" {
		codecs = msgtest.Codecs
	}
	for _, name := range codecs {
		t.Run(name, func(t *testing.T) {
			conformance.RunSource(t, conformance.SourceHarness{
				AtLeastOnce: true,
				Resumes:     true,
				New: conformance.FromSample(nil, func(t *testing.T, in arrow.RecordBatch, b engine.Build) conformance.SourceBuilder {
					brokers := startCluster(t, 1, "in")
					reg := startRegistry(t)
					enc, fields := msgtest.SourceCodec(t, name)
					s := sr.Schema{Type: sr.TypeJSON, Schema: `{"type": "object"}`}
					var index []byte
					switch name {
					case codec.Avro:
						s = sr.Schema{Type: sr.TypeAvro, Schema: msgtest.SampleAvsc}
					case codec.Protobuf:
						text, err := os.ReadFile(enc.Protobuf.File)
						if err != nil {
							t.Fatal(err)
						}
						s, index = sr.Schema{Type: sr.TypeProtobuf, Schema: string(text)}, []byte{0} // its one message
					}
					id, _, err := reg.RegisterSchema("in-value", s)
					if err != nil {
						t.Fatal(err)
					}
					if in.NumRows() > 0 {
						msgs := msgtest.Encode(t, enc, in, b.Mem)
						for i, m := range msgs {
							msgs[i] = append(append(framed(id, ""), index...), m...)
						}
						produce(t, brokers, values("in", msgs)...)
					}
					return conformance.SourceFromConfig(t, "kafka", msgtest.Flow("brokers: "+brokers, "topics: [in]",
						fmt.Sprintf("group: g%d", groups.Add(1)), "stop_at_end: true", fields,
						fmt.Sprintf("schema_registry: {url: %q}", reg.URL())))
				}),
			})
		})
	}
}

// TestRegistrySinkConformance runs the shared sink suite with each codec
// through a registry; what the sink wrote is read back through it.
func TestRegistrySinkConformance(t *testing.T) {
	for _, name := range msgtest.Codecs {
		t.Run(name, func(t *testing.T) {
			conformance.RunSink(t, conformance.SinkHarness{
				New: func(t *testing.T, b engine.Build) (engine.Sink, conformance.ReadBack) {
					brokers := startCluster(t, 1, "out")
					reg := startRegistry(t)
					fields, dec := msgtest.SinkCodec(t, name)
					sink := mustSink(t, msgtest.Flow("brokers: "+brokers, "topic: out", fields,
						fmt.Sprintf("schema_registry: {url: %q}", reg.URL())), b)
					return sink, func(t *testing.T, mem memory.Allocator) []arrow.RecordBatch {
						recs := consumeAll(t, brokers, "out", int(endOffset(t, brokers, "out")))
						msgs := make([][]byte, len(recs))
						for i, r := range recs {
							msgs[i] = r.Value
						}
						d, err := schemareg.NewDecoder(&schemareg.Config{URL: reg.URL()}, dec, mem)
						if err != nil {
							t.Fatal(err)
						}
						rec, rej, err := d.Decode(msgs)
						if err != nil || len(rej) > 0 {
							t.Fatalf("decode stored messages: %v %v", err, rej)
						}
						return []arrow.RecordBatch{rec}
					}
				},
			})
		})
	}
}
