package codec

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"gopkg.in/yaml.v3"

	"github.com/dataweaver/dataweaver/engine/spec"
)

// fromYAML reads a connector's codec settings as a pipeline file would.
func fromYAML(t *testing.T, text string) (Config, error) {
	t.Helper()
	var doc yaml.Node
	if err := yaml.Unmarshal([]byte(text), &doc); err != nil {
		t.Fatal(err)
	}
	conf, errs := spec.New("test").Field(Fields()...).Parse(doc.Content[0], "pipeline.yaml", "source.nats")
	if len(errs) > 0 {
		return Config{}, errs
	}
	return FromConfig(conf, nil)
}

func TestProtobufConfig(t *testing.T) {
	bad := filepath.Join(t.TempDir(), "bad.proto")
	if err := os.WriteFile(bad, []byte("syntax = \"proto3\";\nmessage M {\n  int64 id = 1\n}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		yaml string
		want string // error text; "" for success
	}{
		{"proto file under an import path", `{codec: protobuf, protobuf: {proto_file: testdata/proto/dw/test/v1/everything.proto, import_paths: [testdata/proto], message: dw.test.v1.Everything}}`, ""},
		{"leading dot", `{codec: protobuf, protobuf: {proto_file: testdata/proto/dw/test/v1/row.proto, message: .dw.test.v1.Order}}`, ""},
		{"no import paths: the file's directory and protoc's own files", `{codec: protobuf, protobuf: {proto_file: testdata/proto/dw/test/v1/row.proto, message: dw.test.v1.TestRow}}`, ""},
		{"descriptor set from protoc", `{codec: protobuf, protobuf: {descriptor_set: testdata/everything.binpb, message: dw.test.v1.Everything}}`, ""},
		{"descriptor set importing only google/protobuf", `{codec: protobuf, protobuf: {descriptor_set: testdata/row_noimports.binpb, message: dw.test.v1.Order}}`, ""},
		{"nanosecond timestamps", `{codec: protobuf, protobuf: {proto_file: testdata/proto/dw/test/v1/row.proto, message: dw.test.v1.Order, timestamp_unit: ns}}`, ""},
		{"no settings", `{codec: protobuf}`, "pipeline.yaml:1:9: source.nats.codec: codec protobuf needs protobuf.message"},
		{"no message", `{codec: protobuf, protobuf: {proto_file: x.proto}}`, "source.nats.protobuf.message: missing required field"},
		{"settings for another codec", `{codec: json, protobuf: {proto_file: x.proto, message: a.B}}`, "protobuf settings given but codec is json"},
		{"neither file", `{codec: protobuf, protobuf: {message: a.B}}`, "needs protobuf.proto_file or protobuf.descriptor_set"},
		{"both files", `{codec: protobuf, protobuf: {proto_file: a.proto, descriptor_set: a.binpb, message: a.B}}`, "not both"},
		{"not a name", `{codec: protobuf, protobuf: {proto_file: a.proto, message: "a b"}}`, "not a full message name"},
		{"missing file", `{codec: protobuf, protobuf: {proto_file: testdata/none.proto, message: a.B}}`, "none.proto"},
		{"syntax error names the line", `{codec: protobuf, protobuf: {proto_file: ` + bad + `, message: M}}`, "bad.proto:4:1: syntax error"},
		{"import not found", `{codec: protobuf, protobuf: {proto_file: testdata/proto/dw/test/v1/everything.proto, message: dw.test.v1.Everything}}`, "google/type/decimal.proto"},
		{"message not in the file", `{codec: protobuf, protobuf: {proto_file: testdata/proto/dw/test/v1/row.proto, message: dw.test.v1.Nope}}`, "dw.test.v1.Nope is not in"},
		{"an enum is not a message", `{codec: protobuf, protobuf: {descriptor_set: testdata/everything.binpb, message: dw.test.v1.Status}}`, "is not a message"},
		{"descriptor set missing an import", `{codec: protobuf, protobuf: {descriptor_set: testdata/everything_noimports.binpb, message: dw.test.v1.Everything}}`, "--include_imports"},
		{"not a descriptor set", `{codec: protobuf, protobuf: {descriptor_set: testdata/README.md, message: a.B}}`, "is not a FileDescriptorSet"},
		{"bad unit", `{codec: protobuf, protobuf: {proto_file: a.proto, message: a.B, timestamp_unit: ms}}`, "timestamp_unit"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := fromYAML(t, tc.yaml)
			if tc.want != "" {
				if err == nil || !strings.Contains(err.Error(), tc.want) {
					t.Fatalf("error %v, want one containing %q", err, tc.want)
				}
				var se spec.Errors
				if !errors.Is(err, ErrConfig) && !errors.As(err, &se) {
					t.Errorf("%v is neither ErrConfig nor a spec error", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if c.Protobuf.desc == nil {
				t.Error("FromConfig did not load the message type")
			}
			if _, err := NewDecoder(c, checked(t)); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// TestProtobufSameSchemaFromProtoc: the message type compiled from the
// .proto file at run time and the one protoc compiled give one schema.
func TestProtobufSameSchemaFromProtoc(t *testing.T) {
	mem := checked(t)
	fromSource, err := NewDecoder(everythingConf, mem)
	if err != nil {
		t.Fatal(err)
	}
	fromSet, err := NewDecoder(Config{Name: Protobuf, Protobuf: ProtobufConfig{DescriptorSet: "testdata/everything.binpb", Message: "dw.test.v1.Everything"}}, mem)
	if err != nil {
		t.Fatal(err)
	}
	if !fromSource.Schema().Equal(fromSet.Schema()) {
		t.Errorf("schemas differ:\n.proto: %s\nprotoc: %s", fromSource.Schema(), fromSet.Schema())
	}
	ns, err := fromYAML(t, `{codec: protobuf, protobuf: {proto_file: testdata/proto/dw/test/v1/row.proto, message: dw.test.v1.Order, timestamp_unit: ns}}`)
	if err != nil {
		t.Fatal(err)
	}
	if ns.Protobuf.TimestampUnit != arrow.Nanosecond {
		t.Errorf("timestamp_unit ns read as %v", ns.Protobuf.TimestampUnit)
	}
}
