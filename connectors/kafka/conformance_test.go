package kafka

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/memory"

	"github.com/dataweaver/dataweaver/codec"
	"github.com/dataweaver/dataweaver/connectors/conformance"
	"github.com/dataweaver/dataweaver/engine"
)

const readTimeout = 10 * time.Second

func schemaYAML(s *arrow.Schema) string {
	parts := make([]string, s.NumFields())
	for i, f := range s.Fields() {
		parts[i] = fmt.Sprintf("%s: %q", f.Name, f.Type.String())
	}
	return "{" + strings.Join(parts, ", ") + "}"
}

// sampleAvsc is conformance.SampleSchema as Avro.
const sampleAvsc = `{"type": "record", "name": "row", "fields": [
  {"name": "id", "type": "long"},
  {"name": "name", "type": "string"},
  {"name": "score", "type": ["null", "double"]},
  {"name": "ok", "type": "boolean"},
  {"name": "note", "type": ["null", "string"]},
  {"name": "ts", "type": {"type": "long", "logicalType": "timestamp-micros"}}]}`

func writeAvsc(t testing.TB) string {
	path := filepath.Join(t.TempDir(), "row.avsc")
	if err := os.WriteFile(path, []byte(sampleAvsc), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// sampleProto is conformance.SampleSchema as a protobuf message.
const sampleProto = `syntax = "proto3";
package dw.test.v1;
import "google/protobuf/timestamp.proto";
message Row {
  int64 id = 1;
  string name = 2;
  optional double score = 3;
  bool ok = 4;
  optional string note = 5;
  google.protobuf.Timestamp ts = 6;
}`

// rowProto writes sampleProto to a file and returns the codec settings naming it.
func rowProto(t testing.TB) codec.Config {
	path := filepath.Join(t.TempDir(), "row.proto")
	if err := os.WriteFile(path, []byte(sampleProto), 0o644); err != nil {
		t.Fatal(err)
	}
	return codec.Config{Name: codec.Protobuf, Protobuf: codec.ProtobufConfig{File: path, Message: "dw.test.v1.Row"}}
}

// TestSourceConformance runs the shared suite on one partition (so batch
// boundaries and order are those of the input) with AtLeastOnce: Close
// never commits, so what was not acknowledged is read again by the group.
func TestSourceConformance(t *testing.T) {
	for _, c := range []struct{ name, conf string }{
		{"json", "schema: " + schemaYAML(conformance.SampleSchema)},
		{"avro", "codec: avro, avro: {schema_file: AVSC}"},
		{"protobuf", "codec: protobuf, protobuf: {proto_file: PROTO, message: dw.test.v1.Row}"},
	} {
		t.Run(c.name, func(t *testing.T) {
			conformance.RunSource(t, conformance.SourceHarness{
				AtLeastOnce: true,
				New: conformance.FromSample(nil, func(t *testing.T, in arrow.Record, b engine.Build) engine.Source {
					brokers := startCluster(t, 1, "in")
					conf := codec.Config{Name: codec.JSON}
					extra := c.conf
					if c.name == "avro" {
						conf.Name = codec.Avro
						extra = strings.Replace(extra, "AVSC", q(writeAvsc(t)), 1)
					}
					if c.name == "protobuf" {
						conf = rowProto(t)
						extra = strings.Replace(extra, "PROTO", q(conf.Protobuf.File), 1)
					}
					if in.NumRows() > 0 {
						produce(t, brokers, values("in", encode(t, conf, in, b.Mem))...)
					}
					return mustSource(t, fmt.Sprintf("{brokers: %s, topics: [in], group: g%d, stop_at_end: true, %s}",
						brokers, groups.Add(1), extra), b)
				}),
			})
		})
	}
}

func TestSinkConformance(t *testing.T) {
	for _, c := range []struct {
		name, conf string
		codec      codec.Config
	}{
		{"json", "", codec.Config{Name: codec.JSON, Schema: conformance.SampleSchema}},
		{"json keyed", "key_column: id", codec.Config{Name: codec.JSON, Schema: conformance.SampleSchema}},
		{"avro", "codec: avro", codec.Config{Name: codec.Avro, AvroSchema: sampleAvsc}},
		{"protobuf", "codec: protobuf, protobuf: {proto_file: PROTO, message: dw.test.v1.Row}", codec.Config{Name: codec.Protobuf}},
	} {
		t.Run(c.name, func(t *testing.T) {
			conformance.RunSink(t, conformance.SinkHarness{
				New: func(t *testing.T, b engine.Build) (engine.Sink, conformance.ReadBack) {
					brokers := startCluster(t, 1, "out")
					conf, cc := c.conf, c.codec
					if cc.Name == codec.Protobuf {
						cc = rowProto(t)
						conf = strings.Replace(conf, "PROTO", q(cc.Protobuf.File), 1)
					}
					sink := mustSink(t, fmt.Sprintf("{brokers: %s, topic: out, %s}", brokers, conf), b)
					return sink, func(t *testing.T, mem memory.Allocator) []arrow.Record {
						return readTopic(t, brokers, "out", cc, mem)
					}
				},
			})
		})
	}
}

// readTopic decodes every record of a topic with the codec.
func readTopic(t *testing.T, brokers, topic string, conf codec.Config, mem memory.Allocator) []arrow.Record {
	t.Helper()
	n := endOffset(t, brokers, topic)
	recs := consumeAll(t, brokers, topic, int(n))
	msgs := make([][]byte, len(recs))
	for i, r := range recs {
		msgs[i] = r.Value
	}
	dec, err := codec.NewDecoder(conf, mem)
	if err != nil {
		t.Fatal(err)
	}
	rec, rej, err := dec.Decode(msgs)
	if err != nil || len(rej) > 0 {
		t.Fatalf("decode stored records: %v %v", err, rej)
	}
	return []arrow.Record{rec}
}
