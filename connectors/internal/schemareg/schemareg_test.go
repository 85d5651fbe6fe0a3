package schemareg

import (
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/twmb/franz-go/pkg/sr"
	"github.com/twmb/franz-go/pkg/sr/srfake"

	"github.com/dataweaver/dataweaver/codec"
	"github.com/dataweaver/dataweaver/connectors/conformance"
)

// TestMessageIndex: the message index written and read here is the one
// franz-go's serde writes (Confluent's encoding, with [0] as one zero
// byte), and a different or truncated index is told apart.
func TestMessageIndex(t *testing.T) {
	var h sr.ConfluentHeader
	for _, index := range [][]int{{0}, {1}, {2, 3}, {0, 0}, {130}} {
		theirs, _ := h.AppendEncode(nil, 7, index)
		ours := appendIndex(framedHeader(7), index)
		if string(theirs) != string(ours) {
			t.Errorf("index %v: wrote % x, franz-go writes % x", index, ours, theirs)
		}
		body := append(theirs[headerLen:], "payload"...)
		rest, same, ok := matchIndex(body, index)
		if !ok || !same || string(rest) != "payload" {
			t.Errorf("index %v: read back same=%v ok=%v rest=%q", index, same, ok, rest)
		}
		if _, same, ok := matchIndex(body, []int{9}); !ok || same {
			t.Errorf("index %v matched [9]", index)
		}
	}
	if _, _, ok := matchIndex([]byte{0x80}, []int{0}); ok {
		t.Error("a truncated varint read as an index")
	}
}

func framedHeader(id int) []byte {
	return []byte{0, byte(id >> 24), byte(id >> 16), byte(id >> 8), byte(id)}
}

var rows = arrow.NewSchema([]arrow.Field{
	{Name: "id", Type: arrow.PrimitiveTypes.Int64},
	{Name: "name", Type: arrow.BinaryTypes.String, Nullable: true},
}, nil)

// encodeAvro returns the Avro datums of n sample rows of schema and the
// schema's text.
func encodeAvro(t testing.TB, mem memory.Allocator, schema *arrow.Schema, n int) ([][]byte, string) {
	t.Helper()
	rec := conformance.Sample(mem, schema, 0, n)
	defer rec.Release()
	enc, err := codec.NewEncoder(codec.Config{Name: codec.Avro}, schema, mem)
	if err != nil {
		t.Fatal(err)
	}
	var out [][]byte
	if err := enc.Encode(rec, func(_ int, m []byte) error { out = append(out, append([]byte(nil), m...)); return nil }); err != nil {
		t.Fatal(err)
	}
	text, err := codec.AvroSchemaText(schema)
	if err != nil {
		t.Fatal(err)
	}
	return out, string(text)
}

func openRegistry(t testing.TB, url string) *Registry {
	t.Helper()
	r, err := (&Config{URL: url, Timeout: defaultTimeout}).Open()
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// TestDecodeAllocations: once an id is known, the registry decoder adds a
// constant number of allocations per batch to the codec's own, none per
// message (what a 1000-message batch costs beyond a 10-message one).
func TestDecodeAllocations(t *testing.T) {
	mem := memory.NewGoAllocator()
	reg := srfake.New()
	t.Cleanup(reg.Close)
	payloads, text := encodeAvro(t, mem, rows, 1000)
	id, _, err := reg.RegisterSchema("t-value", sr.Schema{Schema: text, Type: sr.TypeAvro})
	if err != nil {
		t.Fatal(err)
	}
	framed := make([][]byte, len(payloads))
	for i, p := range payloads {
		framed[i] = append(framedHeader(id), p...)
	}
	plain, err := codec.NewDecoder(codec.Config{Name: codec.Avro, AvroSchema: text}, mem)
	if err != nil {
		t.Fatal(err)
	}
	dec, err := openRegistry(t, reg.URL()).NewDecoder(codec.Config{Name: codec.Avro, Schema: rows}, mem)
	if err != nil {
		t.Fatal(err)
	}
	allocs := func(d codec.Decoder, msgs [][]byte) float64 {
		return testing.AllocsPerRun(20, func() {
			rec, rej, err := d.Decode(msgs)
			if err != nil || len(rej) > 0 {
				t.Fatal(err, rej)
			}
			rec.Release()
		})
	}
	extraSmall := allocs(dec, framed[:10]) - allocs(plain, payloads[:10])
	extraLarge := allocs(dec, framed) - allocs(plain, payloads)
	t.Logf("allocations: registry %.0f vs codec %.0f (1000 messages), %.0f vs %.0f (10)", allocs(dec, framed), allocs(plain, payloads), allocs(dec, framed[:10]), allocs(plain, payloads[:10]))
	if extraLarge > extraSmall+2 {
		t.Errorf("the registry decoder adds %.0f allocations to a batch of 1000 and %.0f to one of 10: it allocates per message", extraLarge, extraSmall)
	}
}

// TestIncompatibleWriters: writer schemas that cannot be read into the
// pipeline's columns make their messages row errors naming the id.
func TestIncompatibleWriters(t *testing.T) {
	mem := memory.NewGoAllocator()
	reg := srfake.New()
	t.Cleanup(reg.Close)
	r := openRegistry(t, reg.URL())
	const proto = `syntax = "proto3"; package shop; message Order { int64 id = 1; %s amount = 2; }`
	for _, tc := range []struct {
		name   string
		base   codec.Config
		writer sr.Schema
		want   string
	}{
		{"avro type differs", codec.Config{Name: codec.Avro, Schema: rows},
			sr.Schema{Type: sr.TypeAvro, Schema: `{"type": "record", "name": "r", "fields": [{"name": "id", "type": "double"}]}`}, `field "id" is float64`},
		{"avro lacks a column that may not be null", codec.Config{Name: codec.Avro, Schema: rows},
			sr.Schema{Type: sr.TypeAvro, Schema: `{"type": "record", "name": "r", "fields": [{"name": "name", "type": "string"}]}`}, `no field "id"`},
		{"json schema property type", codec.Config{Schema: rows},
			sr.Schema{Type: sr.TypeJSON, Schema: `{"type": "object", "properties": {"id": {"type": ["integer", "string"]}}}`}, `property "id" may be string`},
		{"json schema closed without the column", codec.Config{Schema: rows},
			sr.Schema{Type: sr.TypeJSON, Schema: `{"type": "object", "properties": {"name": {"type": "string"}}, "additionalProperties": false}`}, `no property "id"`},
		{"json schema not an object", codec.Config{Schema: rows},
			sr.Schema{Type: sr.TypeJSON, Schema: `{"type": "array"}`}, "not an object"},
		{"codec type", codec.Config{Schema: rows},
			sr.Schema{Type: sr.TypeProtobuf, Schema: `syntax = "proto3"; message M {}`}, "it is a PROTOBUF schema"},
		{"protobuf field kind", protoConfig(t, strings.Replace(proto, "%s", "double", 1)),
			sr.Schema{Type: sr.TypeProtobuf, Schema: strings.Replace(proto, "%s", "string", 1)}, "field 2 is optional string"},
		{"protobuf message missing", protoConfig(t, strings.Replace(proto, "%s", "double", 1)),
			sr.Schema{Type: sr.TypeProtobuf, Schema: `syntax = "proto3"; package shop; message Other { int64 id = 1; }`}, "does not declare message shop.Order"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			id, _, err := reg.RegisterSchema(strings.ReplaceAll(tc.name, " ", "-"), tc.writer)
			if err != nil {
				t.Fatal(err)
			}
			dec, err := r.NewDecoder(tc.base, mem)
			if err != nil {
				t.Fatal(err)
			}
			rec, rejects, err := dec.Decode([][]byte{append(framedHeader(id), 0, 2)})
			if err != nil {
				t.Fatal(err)
			}
			defer rec.Release()
			if len(rejects) != 1 || !errors.Is(rejects[0].Err, ErrIncompatible) || !strings.Contains(rejects[0].Err.Error(), tc.want) {
				t.Fatalf("rejects %v, want one naming %q", rejects, tc.want)
			}
		})
	}
}

// protoConfig is a protobuf codec of shop.Order from text.
func protoConfig(t testing.TB, text string) codec.Config {
	t.Helper()
	dir := t.TempDir()
	path := dir + "/order.proto"
	if err := writeFile(path, text); err != nil {
		t.Fatal(err)
	}
	c := codec.Config{Name: codec.Protobuf, Protobuf: codec.ProtobufConfig{File: path, Message: "shop.Order"}}
	if _, err := c.Protobuf.MessageDescriptor(); err != nil {
		t.Fatal(err)
	}
	return c
}

func writeFile(path, text string) error { return os.WriteFile(path, []byte(text), 0o644) }

// TestPromotions: Avro's promotions of a column (int to long, float to
// double, bytes to string, long to double) read a writer's older, narrower
// types into the pipeline's columns, nulls kept.
func TestPromotions(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	reg := srfake.New()
	t.Cleanup(reg.Close)
	writer := arrow.NewSchema([]arrow.Field{
		{Name: "id", Type: arrow.PrimitiveTypes.Int32},
		{Name: "score", Type: arrow.PrimitiveTypes.Float32, Nullable: true},
		{Name: "name", Type: arrow.BinaryTypes.Binary, Nullable: true},
		{Name: "big", Type: arrow.PrimitiveTypes.Int64},
	}, nil)
	target := arrow.NewSchema([]arrow.Field{
		{Name: "id", Type: arrow.PrimitiveTypes.Int64},
		{Name: "score", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
		{Name: "name", Type: arrow.BinaryTypes.String, Nullable: true},
		{Name: "big", Type: arrow.PrimitiveTypes.Float64},
	}, nil)
	payloads, text := encodeAvro(t, mem, writer, 20)
	id, _, err := reg.RegisterSchema("t-value", sr.Schema{Schema: text, Type: sr.TypeAvro})
	if err != nil {
		t.Fatal(err)
	}
	msgs := make([][]byte, len(payloads))
	for i, p := range payloads {
		msgs[i] = append(framedHeader(id), p...)
	}
	dec, err := openRegistry(t, reg.URL()).NewDecoder(codec.Config{Name: codec.Avro, Schema: target}, mem)
	if err != nil {
		t.Fatal(err)
	}
	got, rejects, err := dec.Decode(msgs)
	if err != nil || len(rejects) > 0 {
		t.Fatal(err, rejects)
	}
	defer got.Release()
	want := conformance.Sample(mem, writer, 0, 20)
	defer want.Release()
	for c := range 4 {
		w, g := want.Column(c), got.Column(c)
		for i := range 20 {
			if w.IsNull(i) != g.IsNull(i) || (!w.IsNull(i) && w.ValueStr(i) != g.ValueStr(i) && !promoted(w, g, i)) {
				t.Fatalf("column %s row %d: got %s, want %s", target.Field(c).Name, i, g.ValueStr(i), w.ValueStr(i))
			}
		}
	}
}

// promoted compares values whose text differs with the type: a float32
// and its float64, bytes and their string.
func promoted(w, g arrow.Array, i int) bool {
	switch w := w.(type) {
	case *array.Float32:
		f, ok := g.(*array.Float64)
		return ok && float64(w.Value(i)) == f.Value(i)
	case *array.Binary:
		s, ok := g.(*array.String)
		return ok && string(w.Value(i)) == s.Value(i)
	}
	return false
}
