// Package msgtest holds what the Kafka and NATS connectors' tests share:
// conformance.SampleSchema (and generate's orders) spelled as Avro and
// protobuf schemas, the codec settings that go with each, and encoding and
// decoding messages independently of the connector under test.
package msgtest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/twmb/franz-go/pkg/kadm"

	"github.com/dataweaver/dataweaver/codec"
	"github.com/dataweaver/dataweaver/connectors/conformance"
	"github.com/dataweaver/dataweaver/engine"
	"github.com/dataweaver/dataweaver/format"
)

// Codecs are the codecs every message connector's conformance tests run
// with: each has its own decoder and encoder path in the connectors.
var Codecs = []string{codec.JSON, codec.Avro, codec.Protobuf}

// SampleAvsc is conformance.SampleSchema as Avro.
const SampleAvsc = `{"type": "record", "name": "row", "fields": [
  {"name": "id", "type": "long"},
  {"name": "name", "type": "string"},
  {"name": "score", "type": ["null", "double"]},
  {"name": "ok", "type": "boolean"},
  {"name": "note", "type": ["null", "string"]},
  {"name": "ts", "type": {"type": "long", "logicalType": "timestamp-micros"}}]}`

// OrdersAvsc is generate.OrdersSchema as Avro.
const OrdersAvsc = `{"type": "record", "name": "row", "fields": [
  {"name": "id", "type": "long"},
  {"name": "customer", "type": "string"},
  {"name": "email", "type": "string"},
  {"name": "country", "type": "string"},
  {"name": "amount", "type": "double"},
  {"name": "ts", "type": {"type": "long", "logicalType": "timestamp-micros"}},
  {"name": "note", "type": ["null", "string"]}]}`

// SampleProto is conformance.SampleSchema as a protobuf message.
const SampleProto = `syntax = "proto3";
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

// WriteFile writes text to a file named name in a directory of t's own
// and returns its path.
func WriteFile(t testing.TB, name, text string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// RowProto writes SampleProto to a file and returns the codec settings
// naming it.
func RowProto(t testing.TB) codec.Config {
	t.Helper()
	path := WriteFile(t, "row.proto", SampleProto)
	return codec.Config{Name: codec.Protobuf, Protobuf: codec.ProtobufConfig{File: path, Message: "dw.test.v1.Row"}}
}

// Q quotes s for a YAML flow mapping.
func Q(s string) string { return fmt.Sprintf("%q", filepath.ToSlash(s)) }

// SourceCodec returns, for one of Codecs, the settings that encode
// SampleSchema rows into the messages a test publishes, and the source
// configuration fields (a YAML flow fragment) that decode them.
func SourceCodec(t testing.TB, name string) (encode codec.Config, fields string) {
	t.Helper()
	switch name {
	case codec.JSON:
		return codec.Config{Name: codec.JSON}, "schema: " + conformance.SchemaYAML(conformance.SampleSchema)
	case codec.Avro:
		return codec.Config{Name: codec.Avro}, "codec: avro, avro: {schema_file: " + Q(WriteFile(t, "row.avsc", SampleAvsc)) + "}"
	case codec.Protobuf:
		conf := RowProto(t)
		return conf, protoFields(conf)
	}
	t.Fatalf("msgtest: no codec %q", name)
	return codec.Config{}, ""
}

// SinkCodec returns, for one of Codecs, the sink configuration fields
// that write SampleSchema rows with it, and the settings that decode what
// the sink wrote.
func SinkCodec(t testing.TB, name string) (fields string, decode codec.Config) {
	t.Helper()
	switch name {
	case codec.JSON:
		return "", codec.Config{Name: codec.JSON, Schema: conformance.SampleSchema}
	case codec.Avro:
		return "codec: avro", codec.Config{Name: codec.Avro, AvroSchema: SampleAvsc}
	case codec.Protobuf:
		conf := RowProto(t)
		return protoFields(conf), conf
	}
	t.Fatalf("msgtest: no codec %q", name)
	return "", codec.Config{}
}

func protoFields(c codec.Config) string {
	return fmt.Sprintf("codec: protobuf, protobuf: {proto_file: %s, message: %s}", Q(c.Protobuf.File), c.Protobuf.Message)
}

// Encode turns rows into messages with the codec, independently of the
// sink under test.
func Encode(t testing.TB, conf codec.Config, rec arrow.RecordBatch, mem memory.Allocator) [][]byte {
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

// Decode turns stored messages back into rows with the codec,
// independently of the source under test; any reject fails t.
func Decode(t testing.TB, conf codec.Config, msgs [][]byte, mem memory.Allocator) []arrow.RecordBatch {
	t.Helper()
	dec, err := codec.NewDecoder(conf, mem)
	if err != nil {
		t.Fatal(err)
	}
	rec, rej, err := dec.Decode(msgs)
	if err != nil || len(rej) > 0 {
		t.Fatalf("decode stored messages: %v %v", err, rej)
	}
	return []arrow.RecordBatch{rec}
}

// Flow joins the non-empty fields into a YAML flow mapping, so optional
// fragments such as SinkCodec's can be left empty.
func Flow(fields ...string) string {
	var kept []string
	for _, f := range fields {
		if f != "" {
			kept = append(kept, f)
		}
	}
	return "{" + strings.Join(kept, ", ") + "}"
}

// Malformed is a message that does not decode, where it came from (a
// topic/partition or a subject, and an offset or a stream sequence) and
// its bytes.
type Malformed struct {
	From string
	At   int64
	Raw  string
}

// WantRejects fails t unless got are exactly the want messages, in order,
// each rejected as format.ErrMalformed with where it came from and its
// bytes, which is what a dead-letter record needs.
func WantRejects(t testing.TB, got []engine.RowError, want ...Malformed) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("rejects %v, want %d", got, len(want))
	}
	for i, w := range want {
		r := got[i]
		if r.File != w.From || r.Line != w.At || string(r.Raw) != w.Raw || !errors.Is(r.Err, format.ErrMalformed) {
			t.Errorf("reject %d = {%s:%d %q %v}, want %s:%d %q", i, r.File, r.Line, r.Raw, r.Err, w.From, w.At, w.Raw)
		}
	}
}

// ReadOneBatch opens src and reads its first batch, failing t on an
// error. The batch's record is released and src closed when t ends, in
// that order, as a test's own defers would.
func ReadOneBatch(t testing.TB, src engine.Source) *engine.Batch {
	t.Helper()
	ctx := context.Background()
	if _, err := src.Open(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { src.Close() })
	b, err := src.Read(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(b.Record.Release)
	return b
}

// AckAndExpectEnd acks b and fails t unless src then reports the end of
// its input: everything was read in b.
func AckAndExpectEnd(t testing.TB, src engine.Source, b *engine.Batch) {
	t.Helper()
	ctx := context.Background()
	if err := src.Ack(ctx, b.Checkpoint); err != nil {
		t.Fatal(err)
	}
	if _, err := src.Read(ctx); !errors.Is(err, engine.ErrEndOfInput) {
		t.Fatalf("after everything was read and acked: %v, want end of input", err)
	}
}

// TopicRecordCount is the number of records topic holds: the sum of its
// partitions' end offsets, as nothing is deleted or transactional in
// these tests.
func TopicRecordCount(t testing.TB, adm *kadm.Client, topic string) int64 {
	t.Helper()
	ends, err := adm.ListEndOffsets(context.Background(), topic)
	if err == nil {
		err = ends.Error()
	}
	if err != nil {
		t.Fatal(err)
	}
	var n int64
	ends.Each(func(o kadm.ListedOffset) { n += o.Offset })
	return n
}

// WantTooLarge fails t unless got is exactly one reject: the message big
// from where it came from, over a max_record_bytes of limit, carrying
// only big's first codec.RawPrefix bytes.
func WantTooLarge(t testing.TB, got []engine.RowError, from string, at int64, big []byte, limit int) {
	t.Helper()
	if len(got) != 1 {
		t.Fatalf("rejects %v, want 1", got)
	}
	r := got[0]
	if r.File != from || r.Line != at || !bytes.Equal(r.Raw, big[:codec.RawPrefix]) ||
		!errors.Is(r.Err, format.ErrRecordTooLarge) || !strings.Contains(r.Err.Error(), fmt.Sprintf("limit of %d bytes (max_record_bytes)", limit)) {
		t.Errorf("reject {%s:%d %d bytes %v}, want %s:%d, the first %d bytes, too large over %d bytes", r.File, r.Line, len(r.Raw), r.Err, from, at, codec.RawPrefix, limit)
	}
}
