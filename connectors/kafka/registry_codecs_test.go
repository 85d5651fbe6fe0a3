package kafka

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/twmb/franz-go/pkg/sr"

	"github.com/dataweaver/dataweaver/connectors/conformance"
	"github.com/dataweaver/dataweaver/connectors/internal/schemareg"
)

// TestRegistryJSONSchema: the json codec through the registry registers a
// JSON Schema of the columns and reads its messages back; a message whose
// JSON Schema gives a column a type it cannot read, or whose id holds an
// Avro schema, is a row error naming the id.
func TestRegistryJSONSchema(t *testing.T) {
	mem := conformance.Checked(t)
	brokers := startCluster(t, 1, "t")
	reg := startRegistry(t)
	rec := conformance.Sample(mem, conformance.SampleSchema, 0, 30)
	defer rec.Release()
	writeRows(t, mem, fmt.Sprintf("{brokers: %s, topic: t, schema_registry: {url: %q}}", brokers, reg.URL()), rec)
	ss, ok := reg.GetSchema("t-value", 1)
	if !ok || ss.Type != sr.TypeJSON {
		t.Fatalf("no JSON schema under t-value: %+v", ss)
	}
	var js struct {
		Properties map[string]struct {
			Type any `json:"type"`
		} `json:"properties"`
		Required []string `json:"required"`
	}
	if err := json.Unmarshal([]byte(ss.Schema.Schema), &js); err != nil {
		t.Fatal(err)
	}
	if js.Properties["id"].Type != "integer" || fmt.Sprint(js.Properties["score"].Type) != "[number null]" || !strings.Contains(fmt.Sprint(js.Required), "id") {
		t.Errorf("JSON Schema %s: want id an integer (required), score a number or null", ss.Schema.Schema)
	}

	badID, _, err := reg.RegisterSchema("other", sr.Schema{Type: sr.TypeJSON, Schema: `{"type": "object", "properties": {"id": {"type": "string"}}}`})
	if err != nil {
		t.Fatal(err)
	}
	avroID, _, err := reg.RegisterSchema("avro", sr.Schema{Type: sr.TypeAvro, Schema: `{"type": "record", "name": "r", "fields": [{"name": "id", "type": "long"}]}`})
	if err != nil {
		t.Fatal(err)
	}
	produce(t, brokers, values("t", [][]byte{framed(badID, `{"id": "a"}`), framed(avroID, `{"id": 1}`)})...)
	got, rejects := readWithRejects(t, registrySource(t, mem, brokers, reg.URL(), "schema: "+conformance.SchemaYAML(conformance.SampleSchema)))
	defer conformance.Release(got)
	conformance.EqualRows(t, rec, got)
	if len(rejects) != 2 {
		t.Fatalf("rejects %v, want 2", rejects)
	}
	for i, want := range []string{fmt.Sprintf(`schema id %d: property "id" may be string`, badID), fmt.Sprintf("schema id %d: it is a AVRO schema", avroID)} {
		if r := rejects[i]; !errors.Is(r.Err, schemareg.ErrIncompatible) || !strings.Contains(r.Error(), want) || r.Line != int64(30+i) {
			t.Errorf("reject %d: %v (offset %d), want %q at offset %d", i, &r, r.Line, want, 30+i)
		}
	}
}

func framed(id int, payload string) []byte {
	return append([]byte{0, byte(id >> 24), byte(id >> 16), byte(id >> 8), byte(id)}, payload...)
}

const rowProto = "../../codec/testdata/proto/dw/test/v1/row.proto"

// TestRegistryProtobuf: the protobuf codec through the registry registers
// the .proto text, frames each message with its id and the message index
// of dw.test.v1.Order (the file's second message: [1]), and reads them
// back; a pipeline on another message of the file rejects them.
func TestRegistryProtobuf(t *testing.T) {
	mem := conformance.Checked(t)
	brokers := startCluster(t, 1, "t")
	reg := startRegistry(t)
	proto := func(msg string) string {
		return fmt.Sprintf("codec: protobuf, protobuf: {message: %s, proto_file: %q}", msg, rowProto)
	}
	schema := registrySource(t, mem, brokers, reg.URL(), proto("dw.test.v1.Order")).schema
	rec := conformance.Sample(mem, schema, 0, 20)
	defer rec.Release()
	writeRows(t, mem, fmt.Sprintf("{brokers: %s, topic: t, %s, schema_registry: {url: %q}}", brokers, proto("dw.test.v1.Order"), reg.URL()), rec)
	ss, ok := reg.GetSchema("t-value", 1)
	if !ok || ss.Type != sr.TypeProtobuf || !strings.Contains(ss.Schema.Schema, "message Order") {
		t.Fatalf("no Protobuf schema under t-value: %+v", ss)
	}
	for _, r := range consumeAll(t, brokers, "t", 20) {
		if want := append(framed(ss.ID, ""), 2, 2); string(r.Value[:len(want)]) != string(want) {
			t.Fatalf("value starts % x, want % x (id %d, message index [1])", r.Value[:len(want)], want, ss.ID)
		}
	}
	got := conformance.ReadAll(t, registrySource(t, mem, brokers, reg.URL(), proto("dw.test.v1.Order")), 100, false)
	defer conformance.Release(got)
	conformance.EqualRows(t, rec, got)

	other, rejects := readWithRejects(t, registrySource(t, mem, brokers, reg.URL(), proto("dw.test.v1.TestRow")))
	defer conformance.Release(other)
	if len(rejects) != 20 || !errors.Is(rejects[0].Err, schemareg.ErrIncompatible) || !strings.Contains(rejects[0].Error(), "not dw.test.v1.TestRow") {
		t.Errorf("a pipeline on TestRow: %d rejects (first %v), want 20 naming the message", len(rejects), rejects[:min(len(rejects), 1)])
	}
}
