package nats

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/memory"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/dataweaver/dataweaver/codec"
	"github.com/dataweaver/dataweaver/connectors/conformance"
	"github.com/dataweaver/dataweaver/engine"
)

func schemaYAML(s *arrow.Schema) string {
	parts := make([]string, s.NumFields())
	for i, f := range s.Fields() {
		parts[i] = fmt.Sprintf("%s: %q", f.Name, f.Type.String())
	}
	return "{" + strings.Join(parts, ", ") + "}"
}

// encode turns rows into messages with the codec, independently of the sink.
func encode(t testing.TB, conf codec.Config, rec arrow.Record, mem memory.Allocator) [][]byte {
	t.Helper()
	enc, err := codec.NewEncoder(conf, rec.Schema(), mem)
	if err != nil {
		t.Fatal(err)
	}
	var out [][]byte
	if err := enc.Encode(rec, func(_ int, m []byte) error { out = append(out, append([]byte(nil), m...)); return nil }); err != nil {
		t.Fatal(err)
	}
	return out
}

var durables atomic.Int64

func TestSourceConformance(t *testing.T) {
	for _, c := range []struct{ name, conf string }{
		{"json", "schema: " + schemaYAML(conformance.SampleSchema)},
		{"avro", "codec: avro, avro: {schema_file: AVSC}"},
		{"protobuf", "codec: protobuf, protobuf: {proto_file: PROTO, message: dw.test.v1.Row}"},
	} {
		t.Run(c.name, func(t *testing.T) {
			conformance.RunSource(t, conformance.SourceHarness{
				AtLeastOnce: true,
				Crash:       func(src engine.Source) { src.(*Source).abandon() },
				New: conformance.FromSample(nil, func(t *testing.T, in arrow.Record, b engine.Build) engine.Source {
					url := startServer(t)
					js := createStream(t, url, "S", "in.>")
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
					publish(t, js, "in.x", encode(t, conf, in, b.Mem)...)
					// A short ack_wait: the crash case waits for it.
					return mustSource(t, fmt.Sprintf("{urls: [%s], stream: S, durable: d%d, stop_at_end: true, ack_wait: 1s, %s}",
						q(url), durables.Add(1), extra), b)
				}),
			})
		})
	}
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

// readStream decodes every message stored in stream with the codec.
func readStream(t testing.TB, js jetstream.JetStream, stream string, conf codec.Config, mem memory.Allocator) []arrow.Record {
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
	for len(msgs) < total {
		mb, err := cons.Fetch(total-len(msgs), jetstream.FetchMaxWait(5*time.Second))
		if err != nil {
			t.Fatal(err)
		}
		n := len(msgs)
		for m := range mb.Messages() {
			msgs = append(msgs, m.Data())
		}
		if len(msgs) == n {
			t.Fatalf("read %d of %d messages: %v", n, total, mb.Error())
		}
	}
	dec, err := codec.NewDecoder(conf, mem)
	if err != nil {
		t.Fatal(err)
	}
	rec, rej, err := dec.Decode(msgs)
	if err != nil || len(rej) > 0 {
		t.Fatalf("decode stored messages: %v %v", err, rej)
	}
	return []arrow.Record{rec}
}

func TestSinkConformance(t *testing.T) {
	for _, c := range []struct {
		name, conf string
		codec      codec.Config
	}{
		{"jetstream json", "", codec.Config{Name: codec.JSON, Schema: conformance.SampleSchema}},
		{"jetstream json msg id", "msg_id_column: id", codec.Config{Name: codec.JSON, Schema: conformance.SampleSchema}},
		{"jetstream avro", "codec: avro", codec.Config{Name: codec.Avro, AvroSchema: sampleAvsc}},
		{"jetstream protobuf", "codec: protobuf, protobuf: {proto_file: PROTO, message: dw.test.v1.Row}", codec.Config{Name: codec.Protobuf}},
	} {
		t.Run(c.name, func(t *testing.T) {
			conformance.RunSink(t, conformance.SinkHarness{
				New: func(t *testing.T, b engine.Build) (engine.Sink, conformance.ReadBack) {
					url := startServer(t)
					js := createStream(t, url, "OUT", "out.>")
					conf, cc := c.conf, c.codec
					if cc.Name == codec.Protobuf {
						cc = rowProto(t)
						conf = strings.Replace(conf, "PROTO", q(cc.Protobuf.File), 1)
					}
					sink := mustSink(t, fmt.Sprintf("{urls: [%s], subject: out.rows, %s}", q(url), conf), b)
					return sink, func(t *testing.T, mem memory.Allocator) []arrow.Record {
						return readStream(t, js, "OUT", cc, mem)
					}
				},
			})
		})
	}
}
