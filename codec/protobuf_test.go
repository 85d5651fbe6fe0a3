package codec

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/dynamicpb"

	"github.com/dataweaver/dataweaver/engine"
	"github.com/dataweaver/dataweaver/format"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

func protoConf(file, msg string) Config {
	return Config{Name: Protobuf, Protobuf: ProtobufConfig{
		File: "testdata/proto/dw/test/v1/" + file, ImportPaths: []string{"testdata/proto"}, Message: msg,
	}}
}

var everythingConf = protoConf("everything.proto", "dw.test.v1.Everything")

func descriptorOf(t testing.TB, c Config) protoreflect.MessageDescriptor {
	t.Helper()
	md, err := c.Protobuf.messageDescriptor()
	if err != nil {
		t.Fatal(err)
	}
	return md
}

// wireOf is what protobuf-go writes for the message given as protojson text.
func wireOf(t testing.TB, md protoreflect.MessageDescriptor, text string) []byte {
	t.Helper()
	m := dynamicpb.NewMessage(md)
	if err := (protojson.UnmarshalOptions{AllowPartial: true}).Unmarshal([]byte(text), m); err != nil {
		t.Fatalf("protojson %s: %v", text, err)
	}
	b, err := proto.MarshalOptions{Deterministic: true, AllowPartial: true}.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// parse is protobuf-go's reading of msg, without unknown fields (which
// the codec drops, having no column for them).
func parse(md protoreflect.MessageDescriptor, msg []byte) (*dynamicpb.Message, error) {
	m := dynamicpb.NewMessage(md)
	if err := proto.Unmarshal(msg, m); err != nil {
		return nil, err
	}
	dropUnknown(m)
	return m, nil
}

func dropUnknown(m protoreflect.Message) {
	m.SetUnknown(nil)
	m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		switch {
		case fd.IsList() && fd.Message() != nil:
			for i := range v.List().Len() {
				dropUnknown(v.List().Get(i).Message())
			}
		case fd.IsMap() && fd.MapValue().Message() != nil:
			v.Map().Range(func(_ protoreflect.MapKey, mv protoreflect.Value) bool {
				dropUnknown(mv.Message())
				return true
			})
		case !fd.IsList() && !fd.IsMap() && fd.Message() != nil:
			dropUnknown(v.Message())
		}
		return true
	})
}

func decodeAll(t testing.TB, dec Decoder, msgs [][]byte) arrow.RecordBatch {
	t.Helper()
	rec, rej, err := dec.Decode(msgs)
	if err != nil {
		t.Fatalf("Decode: %v", err)
	}
	if len(rej) > 0 {
		rec.Release()
		t.Fatalf("Decode rejected %d messages, first: %v", len(rej), rej[0].Err)
	}
	return rec
}

// everythingMessages cover every field kind, present and absent, with
// edge values (extremes, negatives, empty and non-ASCII strings).
var everythingMessages = []string{
	`{}`,
	`{"b": true, "i32": -2147483648, "s32": -5, "sf32": -7, "i64": "-9223372036854775808", "s64": "-3", "sf64": "9",
	  "u32": 4294967295, "f32": 1, "u64": "18446744073709551615", "f64": "2", "fl": 1.5, "db": -0.25,
	  "str": "ünï ✓", "by": "AP8=", "status": "STATUS_SHIPPED", "opt": "0", "wrapped": "0", "wrapped_str": "",
	  "address": {}, "nums": ["1", "-1", "0"], "tags": ["", "x"], "items": [{}, {"sku": "a", "qty": 2, "price": 9.5}],
	  "counts": {"a": "1", "": "0"}, "places": {"7": {"city": "Oslo"}, "0": {}},
	  "at": "2024-02-29T12:34:56.789012Z", "took": "-1.000001s", "amount": {"value": "-12.30"}, "email": "a@b.test",
	  "statuses": ["STATUS_OPEN", "STATUS_UNSPECIFIED"], "times": ["1970-01-01T00:00:00Z", "0001-01-01T00:00:00Z"],
	  "zigzags": [-1, 2147483647], "ratios": [0.5, -1e300], "flag": false, "far": "42"}`,
	`{"opt": "7", "wrapped": "-1", "address": {"city": "Paris", "country": "FR"}, "phone": "+33", "took": "315576000000s",
	  "at": "9999-12-31T23:59:59.999999Z", "status": 9, "statuses": [7], "flag": true}`,
}

// TestProtobufGolden decodes messages of every kind and compares the rows
// with a golden file, then encodes the rows and checks that protobuf-go
// reads back the messages it started from.
func TestProtobufGolden(t *testing.T) {
	mem := checked(t)
	md := descriptorOf(t, everythingConf)
	var msgs [][]byte
	for _, text := range everythingMessages {
		msgs = append(msgs, wireOf(t, md, text))
	}
	dec, err := NewDecoder(everythingConf, mem)
	if err != nil {
		t.Fatal(err)
	}
	rec := decodeAll(t, dec, msgs)
	defer rec.Release()

	var got bytes.Buffer
	fmt.Fprintf(&got, "%s\n", dec.Schema())
	if err := array.RecordToJSON(rec, &got); err != nil {
		t.Fatal(err)
	}
	golden(t, "testdata/everything.golden", got.Bytes())

	enc, err := NewEncoder(everythingConf, rec.Schema(), mem)
	if err != nil {
		t.Fatal(err)
	}
	for i, out := range encodeAll(t, enc, rec) {
		want, _ := parse(md, msgs[i])
		back, err := parse(md, out)
		if err != nil {
			t.Fatalf("message %d: protobuf-go cannot read what the encoder wrote: %v", i, err)
		}
		if !proto.Equal(want, back) {
			t.Errorf("message %d does not survive decode+encode:\n got %v\nwant %v", i, back, want)
		}
	}
}

func golden(t *testing.T, path string, got []byte) {
	t.Helper()
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./codec -run %s -update)", err, t.Name())
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs (go test ./codec -run %s -update rewrites it):\n got:\n%s\nwant:\n%s", path, t.Name(), got, want)
	}
}

// TestProtobufValues checks single mappings, one column at a time: each
// row of the protobuf table in docs/types.md has a case here.
func TestProtobufValues(t *testing.T) {
	mem := checked(t)
	md := descriptorOf(t, everythingConf)
	dec, err := NewDecoder(everythingConf, mem)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, msg, column string
		typ, want         string // Arrow type and ValueStr of the column
	}{
		{"bool", `{"b": true}`, "b", "bool", "true"},
		{"int32", `{"i32": -5}`, "i32", "int32", "-5"},
		{"sint32", `{"s32": -5}`, "s32", "int32", "-5"},
		{"sfixed32", `{"sf32": -5}`, "sf32", "int32", "-5"},
		{"int64", `{"i64": "-5"}`, "i64", "int64", "-5"},
		{"sint64", `{"s64": "-5"}`, "s64", "int64", "-5"},
		{"sfixed64", `{"sf64": "-5"}`, "sf64", "int64", "-5"},
		{"uint32", `{"u32": 4294967295}`, "u32", "uint32", "4294967295"},
		{"fixed32", `{"f32": 4294967295}`, "f32", "uint32", "4294967295"},
		{"uint64", `{"u64": "18446744073709551615"}`, "u64", "uint64", "18446744073709551615"},
		{"fixed64", `{"f64": "18446744073709551615"}`, "f64", "uint64", "18446744073709551615"},
		{"float", `{"fl": 0.5}`, "fl", "float32", "0.5"},
		{"double", `{"db": "NaN"}`, "db", "float64", "NaN"},
		{"string", `{"str": "ünï"}`, "str", "utf8", "ünï"},
		{"bytes", `{"by": "AP8="}`, "by", "binary", "AP8="},
		{"absent proto3 scalar is its zero, not null", `{}`, "i64", "int64", "0"},
		{"enum name", `{"status": "STATUS_OPEN"}`, "status", "utf8", "STATUS_OPEN"},
		{"absent enum is its zero value's name", `{}`, "status", "utf8", "STATUS_UNSPECIFIED"},
		{"unknown enum number as text", `{"status": 9}`, "status", "utf8", "9"},
		{"optional set to zero", `{"opt": "0"}`, "opt", "int64", "0"},
		{"optional absent is null", `{}`, "opt", "int64", "(null)"},
		{"wrapper", `{"wrapped": "0"}`, "wrapped", "int64", "0"},
		{"wrapper absent is null", `{}`, "wrapped", "int64", "(null)"},
		{"bool wrapper", `{"flag": false}`, "flag", "bool", "false"},
		{"nested message", `{"address": {"city": "Oslo"}}`, "address", "struct<city: utf8, country: utf8>", `{"city":"Oslo","country":""}`},
		{"nested message absent is null", `{}`, "address", "struct<city: utf8, country: utf8>", "(null)"},
		{"repeated scalar", `{"nums": ["3", "-1"]}`, "nums", "list<item: int64>", "[3,-1]"},
		{"repeated absent is empty", `{}`, "nums", "list<item: int64>", "[]"},
		{"repeated message", `{"items": [{"sku": "a", "qty": 2}]}`, "items", "list<item: struct<sku: utf8, qty: int32, price: float64>>", `[{"price":0,"qty":2,"sku":"a"}]`},
		{"repeated enum", `{"statuses": ["STATUS_OPEN"]}`, "statuses", "list<item: utf8>", `["STATUS_OPEN"]`},
		{"map", `{"counts": {"a": "1"}}`, "counts", "map<utf8, int64, items_non_nullable>", `[{"key":"a","value":1}]`},
		{"map of messages", `{"places": {"7": {}}}`, "places", "map<int32, struct<city: utf8, country: utf8>, items_non_nullable>", `[{"key":7,"value":{"city":"","country":""}}]`},
		{"timestamp", `{"at": "2024-01-02T03:04:05.000006Z"}`, "at", "timestamp[us, tz=UTC]", "2024-01-02T03:04:05.000006Z"},
		{"timestamp absent is null", `{}`, "at", "timestamp[us, tz=UTC]", "(null)"},
		{"duration", `{"took": "-1.5s"}`, "took", "duration[us]", "-1500000us"},
		{"decimal", `{"amount": {"value": "-12.30"}}`, "amount", "utf8", "-12.30"},
		{"oneof member", `{"phone": "1"}`, "phone", "utf8", "1"},
		{"other oneof member is null", `{"phone": "1"}`, "email", "utf8", "(null)"},
		{"field number above 1024", `{"far": "5"}`, "far", "int64", "5"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := decodeAll(t, dec, [][]byte{wireOf(t, md, tc.msg)})
			defer rec.Release()
			idx := rec.Schema().FieldIndices(tc.column)
			if len(idx) != 1 {
				t.Fatalf("no column %s", tc.column)
			}
			col := rec.Column(idx[0])
			if got := col.DataType().String(); got != tc.typ {
				t.Errorf("type %s, want %s", got, tc.typ)
			}
			if got := col.ValueStr(0); got != tc.want {
				t.Errorf("value %s, want %s", got, tc.want)
			}
		})
	}
}

func TestProtobufNullability(t *testing.T) {
	mem := checked(t)
	dec, err := NewDecoder(everythingConf, mem)
	if err != nil {
		t.Fatal(err)
	}
	nullable := map[string]bool{"opt": true, "wrapped": true, "wrapped_str": true, "address": true, "at": true,
		"took": true, "amount": true, "email": true, "phone": true, "flag": true}
	for _, f := range dec.Schema().Fields() {
		if f.Nullable != nullable[f.Name] {
			t.Errorf("column %s: nullable %v, want %v", f.Name, f.Nullable, nullable[f.Name])
		}
	}
}

// TestProtobufMergeSemantics: a field that occurs twice keeps the last
// scalar and merges messages; a oneof keeps its last member; packed and
// unpacked repeated fields both read — as every protobuf runtime does.
func TestProtobufMergeSemantics(t *testing.T) {
	mem := checked(t)
	md := descriptorOf(t, everythingConf)
	dec, err := NewDecoder(everythingConf, mem)
	if err != nil {
		t.Fatal(err)
	}
	cat := func(texts ...string) []byte {
		var b []byte
		for _, s := range texts {
			b = append(b, wireOf(t, md, s)...)
		}
		return b
	}
	unpacked := []byte{0xa8, 0x01, 0x05, 0xa8, 0x01, 0x06}                                    // field 21 (nums) as two varint records
	unknown := append(wireOf(t, md, `{"i64": "3"}`), 0xb8, 0x06, 0x07, 0xc2, 0x06, 0x01, 'x') // fields 103 and 104
	msgs := [][]byte{
		cat(`{"i64": "1", "address": {"city": "A"}, "nums": ["1"]}`, `{"i64": "2", "address": {"country": "B"}, "nums": ["2"]}`),
		cat(`{"email": "e"}`, `{"phone": "p"}`),
		unpacked,
		unknown,
		cat(`{"counts": {"k": "1"}}`, `{"counts": {"k": "2"}}`),
	}
	rec := decodeAll(t, dec, msgs)
	defer rec.Release()
	for _, tc := range []struct {
		row       int
		col, want string
	}{
		{0, "i64", "2"}, {0, "address", `{"city":"A","country":"B"}`}, {0, "nums", "[1,2]"},
		{1, "email", "(null)"}, {1, "phone", "p"},
		{2, "nums", "[5,6]"},
		{3, "i64", "3"},
		// Arrow keeps both entries, in wire order; protobuf runtimes keep the
		// last, and so does whatever reads the re-encoded message.
		{4, "counts", `[{"key":"k","value":1},{"key":"k","value":2}]`},
	} {
		if got := rec.Column(rec.Schema().FieldIndices(tc.col)[0]).ValueStr(tc.row); got != tc.want {
			t.Errorf("row %d %s = %s, want %s", tc.row, tc.col, got, tc.want)
		}
	}
	for i, m := range msgs {
		want, err := parse(md, m)
		if err != nil {
			t.Fatal(err)
		}
		one := rec.NewSlice(int64(i), int64(i+1))
		enc, err := NewEncoder(everythingConf, rec.Schema(), mem)
		if err != nil {
			t.Fatal(err)
		}
		back, err := parse(md, encodeAll(t, enc, one)[0])
		one.Release()
		if err != nil || !proto.Equal(want, back) {
			t.Errorf("message %d: protobuf-go reads %v, the codec's row encodes to %v (%v)", i, want, back, err)
		}
	}
}

// TestProtobufRandomRoundTrip: random messages written by protobuf-go
// decode and encode back to equal messages.
func TestProtobufRandomRoundTrip(t *testing.T) {
	mem := checked(t)
	md := descriptorOf(t, everythingConf)
	r := rand.New(rand.NewPCG(1, 2))
	var msgs [][]byte
	var want []*dynamicpb.Message
	for range 300 {
		m := dynamicpb.NewMessage(md)
		fill(r, m)
		b, err := proto.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		msgs, want = append(msgs, b), append(want, m)
	}
	dec, err := NewDecoder(everythingConf, mem)
	if err != nil {
		t.Fatal(err)
	}
	rec := decodeAll(t, dec, msgs)
	defer rec.Release()
	enc, err := NewEncoder(everythingConf, rec.Schema(), mem)
	if err != nil {
		t.Fatal(err)
	}
	for i, out := range encodeAll(t, enc, rec) {
		back, err := parse(md, out)
		if err != nil {
			t.Fatalf("message %d: %v", i, err)
		}
		if !proto.Equal(want[i], back) {
			t.Fatalf("message %d differs after decode+encode:\n got %v\nwant %v", i, back, want[i])
		}
	}
}

// fill sets a random subset of m's fields to random values the codec can
// hold exactly (timestamps in whole microseconds).
func fill(r *rand.Rand, m protoreflect.Message) {
	fds := m.Descriptor().Fields()
	for i := range fds.Len() {
		fd := fds.Get(i)
		if r.IntN(3) == 0 {
			continue
		}
		switch {
		case fd.IsList():
			l := m.Mutable(fd).List()
			for n := r.IntN(4); n > 0; n-- {
				l.Append(randValue(r, fd, l.NewElement))
			}
		case fd.IsMap():
			mp := m.Mutable(fd).Map()
			for n := r.IntN(3); n > 0; n-- {
				mp.Set(randValue(r, fd.MapKey(), nil).MapKey(), randValue(r, fd.MapValue(), mp.NewValue))
			}
		default:
			m.Set(fd, randValue(r, fd, func() protoreflect.Value { return m.NewField(fd) }))
		}
	}
}

func randValue(r *rand.Rand, fd protoreflect.FieldDescriptor, newMsg func() protoreflect.Value) protoreflect.Value {
	switch fd.Kind() {
	case protoreflect.BoolKind:
		return protoreflect.ValueOfBool(r.IntN(2) == 0)
	case protoreflect.Int32Kind, protoreflect.Sint32Kind, protoreflect.Sfixed32Kind:
		return protoreflect.ValueOfInt32(int32(r.Uint32()) >> r.IntN(32))
	case protoreflect.Int64Kind, protoreflect.Sint64Kind, protoreflect.Sfixed64Kind:
		return protoreflect.ValueOfInt64(int64(r.Uint64()) >> r.IntN(64))
	case protoreflect.Uint32Kind, protoreflect.Fixed32Kind:
		return protoreflect.ValueOfUint32(r.Uint32() >> r.IntN(32))
	case protoreflect.Uint64Kind, protoreflect.Fixed64Kind:
		return protoreflect.ValueOfUint64(r.Uint64() >> r.IntN(64))
	case protoreflect.FloatKind:
		return protoreflect.ValueOfFloat32(float32(r.NormFloat64()))
	case protoreflect.DoubleKind:
		return protoreflect.ValueOfFloat64(r.NormFloat64() * 1e6)
	case protoreflect.StringKind:
		return protoreflect.ValueOfString(randString(r))
	case protoreflect.BytesKind:
		b := make([]byte, r.IntN(5))
		for i := range b {
			b[i] = byte(r.Uint32())
		}
		return protoreflect.ValueOfBytes(b)
	case protoreflect.EnumKind:
		return protoreflect.ValueOfEnum(protoreflect.EnumNumber(r.IntN(4))) // 3: not declared
	}
	v := newMsg()
	msg := v.Message()
	field := func(n protoreflect.FieldNumber) protoreflect.FieldDescriptor {
		return msg.Descriptor().Fields().ByNumber(n)
	}
	switch name := fd.Message().FullName(); {
	case name == "google.protobuf.Timestamp":
		msg.Set(field(1), protoreflect.ValueOfInt64(minTimestamp+r.Int64N(maxTimestamp-minTimestamp)))
		msg.Set(field(2), protoreflect.ValueOfInt32(int32(r.IntN(1e6))*1000))
	case name == "google.protobuf.Duration":
		secs, nanos := r.Int64N(maxDuration), int32(r.IntN(1e6))*1000
		if r.IntN(2) == 0 {
			secs, nanos = -secs, -nanos
		}
		msg.Set(field(1), protoreflect.ValueOfInt64(secs))
		msg.Set(field(2), protoreflect.ValueOfInt32(nanos))
	case name == "google.type.Decimal":
		msg.Set(field(1), protoreflect.ValueOfString(fmt.Sprintf("%d.%02d", r.IntN(2000)-1000, r.IntN(100))))
	case isWrapper(name):
		msg.Set(field(1), randValue(r, field(1), nil))
	default:
		fill(r, msg)
	}
	return v
}

func randString(r *rand.Rand) string {
	runes := []rune("aZ0 ,\"\\\nü✓😀")
	var b strings.Builder
	for n := r.IntN(6); n > 0; n-- {
		b.WriteRune(runes[r.IntN(len(runes))])
	}
	return b.String()
}

// TestProtobufRejects: a malformed message is one reject with its bytes,
// the field at fault, and format.ErrMalformed; the good ones around it
// are decoded.
func TestProtobufRejects(t *testing.T) {
	mem := checked(t)
	md := descriptorOf(t, everythingConf)
	dec, err := NewDecoder(everythingConf, mem)
	if err != nil {
		t.Fatal(err)
	}
	good := wireOf(t, md, `{"i64": "1", "items": [{"sku": "a"}], "counts": {"k": "1"}}`)
	// tag is field num's key; msg joins keys and values into a message.
	tag := func(num protowire.Number, wt protowire.Type) []byte { return protowire.AppendTag(nil, num, wt) }
	msg := func(parts ...[]byte) []byte { return bytes.Join(parts, nil) }
	varint := func(v int64) []byte { return protowire.AppendVarint(nil, uint64(v)) }
	sub := func(parts ...[]byte) []byte { return protowire.AppendBytes(nil, msg(parts...)) }
	const at, took = 26, 27
	for _, tc := range []struct {
		name   string
		msg    []byte
		column string
		want   string
	}{
		{"truncated varint", msg(tag(5, protowire.VarintType), []byte{0x80}), "i64", "unexpected EOF"},
		{"length past the end", msg(tag(14, protowire.BytesType), []byte{5, 'a'}), "str", "unexpected EOF"},
		{"field number 0", []byte{0x00}, "", "invalid field number"},
		{"wrong wire type", msg(tag(5, protowire.Fixed64Type), make([]byte, 8)), "i64", "wire type 1"},
		{"invalid UTF-8", msg(tag(14, protowire.BytesType), []byte{1, 0xff}), "str", "not valid UTF-8"},
		{"invalid UTF-8 in a map key", msg(tag(24, protowire.BytesType), sub(tag(1, protowire.BytesType), []byte{1, 0xff})), "counts.key", "not valid UTF-8"},
		{"invalid UTF-8 in a list element", msg(tag(23, protowire.BytesType), sub(tag(1, protowire.BytesType), []byte{1, 0xff})), "items.sku", "not valid UTF-8"},
		{"sub-microsecond timestamp", msg(tag(at, protowire.BytesType), sub(tag(2, protowire.VarintType), varint(1))), "at", "sub-microsecond"},
		{"timestamp after 9999", msg(tag(at, protowire.BytesType), sub(tag(1, protowire.VarintType), varint(maxTimestamp+1))), "at", "outside the range"},
		{"negative nanos in a timestamp", msg(tag(at, protowire.BytesType), sub(tag(2, protowire.VarintType), varint(-1000))), "at", "outside the range"},
		{"duration beyond 10,000 years", msg(tag(took, protowire.BytesType), sub(tag(1, protowire.VarintType), varint(maxDuration+1))), "took", "outside the range"},
		{"duration with mixed signs", msg(tag(took, protowire.BytesType), sub(tag(1, protowire.VarintType), varint(1), tag(2, protowire.VarintType), varint(-1000))), "took", "outside the range"},
		{"timestamp seconds as a string", msg(tag(at, protowire.BytesType), sub(tag(1, protowire.BytesType), []byte{0})), "at", "wire type 2"},
		{"message occurrence cut inside a field", msg(tag(at, protowire.BytesType), sub(tag(1, protowire.VarintType)), tag(at, protowire.BytesType), sub(varint(5))), "at", "unexpected EOF"},
		{"truncated packed list", msg(tag(21, protowire.BytesType), []byte{1, 0x80}), "nums", "unexpected EOF"},
		{"truncated unknown field", msg(tag(127, protowire.VarintType)), "", "unknown field 127"},
		{"nested message cut short", msg(tag(20, protowire.BytesType), sub(tag(1, protowire.BytesType), []byte{5})), "address.city", "unexpected EOF"},
		{"decimal text not UTF-8", msg(tag(28, protowire.BytesType), sub(tag(1, protowire.BytesType), []byte{1, 0xfe})), "amount", "not valid UTF-8"},
		{"wrapper value of the wrong wire type", msg(tag(18, protowire.BytesType), sub(tag(1, protowire.Fixed32Type), make([]byte, 4))), "wrapped", "wire type 5"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec, rej, err := dec.Decode([][]byte{good, tc.msg, good})
			if err != nil {
				t.Fatalf("Decode: %v", err)
			}
			defer rec.Release()
			if rec.NumRows() != 2 || len(rej) != 1 {
				t.Fatalf("%d rows and %d rejects, want 2 and 1 (%v)", rec.NumRows(), len(rej), rej)
			}
			r := rej[0]
			if r.Row != 1 || !bytes.Equal(r.Raw, tc.msg) || r.Column != tc.column {
				t.Errorf("reject row %d column %q raw %x, want row 1 column %q raw %x", r.Row, r.Column, r.Raw, tc.column, tc.msg)
			}
			if !errors.Is(r.Err, format.ErrMalformed) || !strings.Contains(r.Err.Error(), tc.want) {
				t.Errorf("reject error %q: want format.ErrMalformed and %q", r.Err, tc.want)
			}
		})
	}
}

// TestProtobufTimestampUnit: timestamp_unit ns keeps sub-microsecond
// digits and rejects what timestamp[ns] cannot hold.
func TestProtobufTimestampUnit(t *testing.T) {
	mem := checked(t)
	conf := everythingConf
	conf.Protobuf.TimestampUnit = arrow.Nanosecond
	md := descriptorOf(t, conf)
	dec, err := NewDecoder(conf, mem)
	if err != nil {
		t.Fatal(err)
	}
	rec, rej, err := dec.Decode([][]byte{
		wireOf(t, md, `{"at": "2024-01-02T03:04:05.123456789Z", "took": "0.000000001s"}`),
		wireOf(t, md, `{"at": "1500-01-01T00:00:00Z"}`),
		wireOf(t, md, `{"took": "-315576000000s"}`),
	})
	if err != nil {
		t.Fatal(err)
	}
	defer rec.Release()
	if rec.NumRows() != 1 || len(rej) != 2 {
		t.Fatalf("%d rows, %d rejects; want 1 and 2", rec.NumRows(), len(rej))
	}
	for _, r := range rej {
		if !strings.Contains(r.Err.Error(), "timestamp[ns]") {
			t.Errorf("reject %d: %v", r.Row, r.Err)
		}
	}
	at := rec.Column(rec.Schema().FieldIndices("at")[0])
	took := rec.Column(rec.Schema().FieldIndices("took")[0])
	if at.DataType().String() != "timestamp[ns, tz=UTC]" || at.ValueStr(0) != "2024-01-02T03:04:05.123456789Z" ||
		took.DataType().String() != "duration[ns]" || took.ValueStr(0) != "1ns" {
		t.Errorf("at %s %s, took %s %s", at.DataType(), at.ValueStr(0), took.DataType(), took.ValueStr(0))
	}
}

// TestProtobufLegacy: proto2 required and optional fields, closed enums,
// and both encodings of repeated scalars.
func TestProtobufLegacy(t *testing.T) {
	mem := checked(t)
	conf := protoConf("legacy.proto", "dw.test.v1.Legacy")
	md := descriptorOf(t, conf)
	dec, err := NewDecoder(conf, mem)
	if err != nil {
		t.Fatal(err)
	}
	rec, rej, err := dec.Decode([][]byte{
		wireOf(t, md, `{"id": "1", "kind": "KIND_B", "plain": [1, 2], "packed": [3, 4]}`),
		wireOf(t, md, `{"label": "x"}`), // no id
		wireOf(t, md, `{"id": "2"}`),
		{0x08, 0x03, 0x12, 0x01, 0xff}, // proto2 too: a string must be UTF-8
	})
	if err != nil {
		t.Fatal(err)
	}
	defer rec.Release()
	if rec.NumRows() != 2 || len(rej) != 2 || rej[0].Column != "id" || !strings.Contains(rej[0].Err.Error(), "required") ||
		rej[1].Column != "label" || !strings.Contains(rej[1].Err.Error(), "UTF-8") {
		t.Fatalf("%d rows, rejects %v; want 2 rows, a missing id and a bad label", rec.NumRows(), rej)
	}
	want := "id: [1 2]\nlabel: [(null) (null)]\nkind: [\"KIND_B\" (null)]\nplain: [[1 2] []]\npacked: [[3 4] []]\n"
	var got strings.Builder
	for i, f := range rec.Schema().Fields() {
		fmt.Fprintf(&got, "%s: %v\n", f.Name, rec.Column(i))
	}
	if got.String() != want {
		t.Errorf("got\n%s\nwant\n%s", got.String(), want)
	}
	if f := rec.Schema().Field(0); f.Nullable {
		t.Error("a required field must not be nullable")
	}
	enc, err := NewEncoder(conf, rec.Schema(), mem)
	if err != nil {
		t.Fatal(err)
	}
	msgs := encodeAll(t, enc, rec)
	// proto2 repeated fields are unpacked unless [packed = true].
	if !bytes.Contains(msgs[0], []byte{0x20, 0x01, 0x20, 0x02}) || !bytes.Contains(msgs[0], []byte{0x2a, 0x02, 0x03, 0x04}) {
		t.Errorf("message %x: want plain unpacked and packed packed", msgs[0])
	}
	back, err := parse(md, msgs[0])
	if err != nil || !proto.Equal(back, mustParse(t, md, wireOf(t, md, `{"id": "1", "kind": "KIND_B", "plain": [1, 2], "packed": [3, 4]}`))) {
		t.Errorf("round trip: %v %v", back, err)
	}
}

func mustParse(t *testing.T, md protoreflect.MessageDescriptor, b []byte) *dynamicpb.Message {
	t.Helper()
	m, err := parse(md, b)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// TestProtobufEncode: Arrow types that are not the decoder's own map onto
// fields when no value changes; values that do not fit fail the batch
// before any message goes out.
func TestProtobufEncode(t *testing.T) {
	mem := checked(t)
	md := descriptorOf(t, everythingConf)
	schema := arrow.NewSchema([]arrow.Field{
		{Name: "i32", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
		{Name: "u64", Type: arrow.PrimitiveTypes.Int8},
		{Name: "db", Type: arrow.PrimitiveTypes.Float32},
		{Name: "status", Type: arrow.PrimitiveTypes.Int16},
		{Name: "by", Type: arrow.BinaryTypes.String},
		{Name: "at", Type: &arrow.TimestampType{Unit: arrow.Millisecond}},
		{Name: "took", Type: &arrow.DurationType{Unit: arrow.Second}},
		{Name: "amount", Type: &arrow.Decimal128Type{Precision: 9, Scale: 3}},
		{Name: "str", Type: &arrow.Decimal128Type{Precision: 5, Scale: 0}},
		{Name: "opt", Type: arrow.PrimitiveTypes.Uint8, Nullable: true},
		{Name: "nums", Type: arrow.ListOf(arrow.PrimitiveTypes.Int32)},
	}, nil)
	const rows = `[
	 {"i32": 300, "u64": 7, "db": 0.5, "status": 2, "by": "hi", "at": -1, "took": -3, "amount": "-1.5", "str": "42", "opt": 0, "nums": [1, 2]},
	 {"i32": null, "u64": 0, "db": 0, "status": 0, "by": "", "at": 0, "took": 0, "amount": "0.001", "str": "-7", "opt": null, "nums": []}]`
	rec, _, err := array.RecordFromJSON(mem, schema, strings.NewReader(rows))
	if err != nil {
		t.Fatal(err)
	}
	defer rec.Release()
	enc, err := NewEncoder(everythingConf, schema, mem)
	if err != nil {
		t.Fatal(err)
	}
	msgs := encodeAll(t, enc, rec)
	for i, want := range []string{
		`{"i32": 300, "u64": "7", "db": 0.5, "status": "STATUS_SHIPPED", "by": "aGk=", "at": "1969-12-31T23:59:59.999Z", "took": "-3s", "amount": {"value": "-1.500"}, "str": "42", "opt": "0", "nums": ["1", "2"]}`,
		`{"at": "1970-01-01T00:00:00Z", "took": "0s", "amount": {"value": "0.001"}, "str": "-7"}`,
	} {
		got, err := parse(md, msgs[i])
		if err != nil {
			t.Fatal(err)
		}
		if w := mustParse(t, md, wireOf(t, md, want)); !proto.Equal(got, w) {
			t.Errorf("row %d: got %v, want %v", i, protojson.Format(got), protojson.Format(w))
		}
	}

	for _, tc := range []struct {
		name   string
		fields []arrow.Field
		rows   string
		want   string // "" when NewEncoder must fail instead
	}{
		{"int32 overflow", []arrow.Field{{Name: "i32", Type: arrow.PrimitiveTypes.Int64}}, `[{"i32": 1}, {"i32": 2147483648}]`, "2147483648 is out of the field's range"},
		{"negative into unsigned", []arrow.Field{{Name: "u32", Type: arrow.PrimitiveTypes.Int32}}, `[{"u32": -1}]`, "is negative"},
		{"null in a list", []arrow.Field{{Name: "nums", Type: arrow.ListOf(arrow.PrimitiveTypes.Int64)}}, `[{"nums": [1, null]}]`, "null at list index 1"},
		{"two oneof members", []arrow.Field{{Name: "email", Type: arrow.BinaryTypes.String, Nullable: true}, {Name: "phone", Type: arrow.BinaryTypes.String, Nullable: true}}, `[{"email": "a", "phone": "b"}]`, "oneof fields email, phone"},
		{"unknown enum name", []arrow.Field{{Name: "status", Type: arrow.BinaryTypes.String}}, `[{"status": "LOST"}]`, `"LOST" is not a value of the enum`},
		{"timestamp beyond 9999", []arrow.Field{{Name: "at", Type: &arrow.TimestampType{Unit: arrow.Second}}}, `[{"at": 253402300800}]`, "outside 0001-01-01..9999-12-31"},
		{"null map value", []arrow.Field{{Name: "counts", Type: arrow.MapOf(arrow.BinaryTypes.String, arrow.PrimitiveTypes.Int64)}}, `[{"counts": [{"key": "a", "value": null}]}]`, "null map value"},
		{"no such field", []arrow.Field{{Name: "nope", Type: arrow.PrimitiveTypes.Int64}}, "", `column "nope": dw.test.v1.Everything has no such field`},
		{"float64 into float", []arrow.Field{{Name: "fl", Type: arrow.PrimitiveTypes.Float64}}, "", "float64 column cannot be written to the float field"},
		{"string into int", []arrow.Field{{Name: "i64", Type: arrow.BinaryTypes.String}}, "", "utf8 column cannot be written to the int64 field"},
		{"scalar into repeated", []arrow.Field{{Name: "nums", Type: arrow.PrimitiveTypes.Int64}}, "", "needs a list column"},
		{"struct child unknown", []arrow.Field{{Name: "address", Type: arrow.StructOf(arrow.Field{Name: "zip", Type: arrow.BinaryTypes.String})}}, "", `column "zip": dw.test.v1.Address has no such field`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := arrow.NewSchema(tc.fields, nil)
			enc, err := NewEncoder(everythingConf, s, mem)
			if tc.rows == "" {
				if !errors.Is(err, ErrConfig) || !strings.Contains(err.Error(), tc.want) {
					t.Fatalf("NewEncoder: %v, want ErrConfig with %q", err, tc.want)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			rec, _, err := array.RecordFromJSON(mem, s, strings.NewReader(tc.rows))
			if err != nil {
				t.Fatal(err)
			}
			defer rec.Release()
			emitted := 0
			err = enc.Encode(rec, func(int, []byte) error { emitted++; return nil })
			if !errors.Is(err, ErrEncode) || !engine.IsPermanent(err) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Encode: %v, want a permanent ErrEncode with %q", err, tc.want)
			}
			if emitted != 0 {
				t.Errorf("%d messages emitted before the error; want none", emitted)
			}
		})
	}
}

// TestProtobufEncodeKinds: the other Arrow types each field kind takes,
// and the bytes themselves: zero values of fields without presence left
// out, proto3 repeated scalars packed.
func TestProtobufEncodeKinds(t *testing.T) {
	mem := checked(t)
	md := descriptorOf(t, everythingConf)
	schema := arrow.NewSchema([]arrow.Field{
		{Name: "by", Type: &arrow.FixedSizeBinaryType{ByteWidth: 2}},
		{Name: "str", Type: arrow.BinaryTypes.LargeString},
		{Name: "tags", Type: arrow.LargeListOf(arrow.BinaryTypes.String)},
		{Name: "wrapped", Type: arrow.PrimitiveTypes.Int32, Nullable: true},
		{Name: "flag", Type: arrow.FixedWidthTypes.Boolean, Nullable: true},
		{Name: "address", Type: arrow.StructOf(arrow.Field{Name: "city", Type: arrow.BinaryTypes.LargeString})},
		{Name: "at", Type: &arrow.TimestampType{Unit: arrow.Nanosecond, TimeZone: "UTC"}},
		{Name: "i64", Type: arrow.PrimitiveTypes.Int64},
		{Name: "nums", Type: arrow.ListOf(arrow.PrimitiveTypes.Int64)},
	}, nil)
	rec, _, err := array.RecordFromJSON(mem, schema, strings.NewReader(`[
	 {"by": "AP8=", "str": "s", "tags": ["a", "b"], "wrapped": 0, "flag": true, "address": {"city": "Oslo"}, "at": "2024-01-02T03:04:05.123456789Z", "i64": 0, "nums": [1, 2]},
	 {"by": "AAA=", "str": "", "tags": [], "wrapped": null, "flag": null, "address": null, "at": null, "i64": 0, "nums": []}]`))
	if err != nil {
		t.Fatal(err)
	}
	defer rec.Release()
	enc, err := NewEncoder(everythingConf, schema, mem)
	if err != nil {
		t.Fatal(err)
	}
	msgs := encodeAll(t, enc, rec)
	want := `{"by": "AP8=", "str": "s", "tags": ["a", "b"], "wrapped": "0", "flag": true, "address": {"city": "Oslo"}, "at": "2024-01-02T03:04:05.123456789Z", "nums": ["1", "2"]}`
	if got := mustParse(t, md, msgs[0]); !proto.Equal(got, mustParse(t, md, wireOf(t, md, want))) {
		t.Errorf("row 0: %v, want %s", protojson.Format(got), want)
	}
	if !bytes.Contains(msgs[0], []byte{0xaa, 0x01, 0x02, 0x01, 0x02}) {
		t.Errorf("row 0 %x: nums not packed", msgs[0])
	}
	// Row 1: a two-byte bytes value, nothing else (zeros and nulls are absent).
	if want := []byte{0x7a, 0x02, 0x00, 0x00}; !bytes.Equal(msgs[1], want) {
		t.Errorf("row 1 is %x, want %x", msgs[1], want)
	}
}

func TestDecimalText(t *testing.T) {
	mem := checked(t)
	for _, tc := range []struct {
		scale int32
		in    string
		want  string
	}{
		{2, "-12.30", "-12.30"}, {2, "0.05", "0.05"}, {2, "-0.05", "-0.05"}, {0, "7", "7"}, {3, "0", "0.000"},
		{10, "12345678901234567890123456.7890123456", "12345678901234567890123456.7890123456"},
	} {
		dt := &arrow.Decimal128Type{Precision: 38, Scale: tc.scale}
		b := array.NewDecimal128Builder(mem, dt)
		if err := b.AppendValueFromString(tc.in); err != nil {
			t.Fatal(err)
		}
		a := b.NewDecimal128Array()
		if got := decimalText(a.Value(0), tc.scale); got != tc.want {
			t.Errorf("decimalText(%s, %d) = %s, want %s", tc.in, tc.scale, got, tc.want)
		}
		a.Release()
		b.Release()
	}
}

// TestProtobufUnsupported: types that have no Arrow schema are
// configuration errors: recursive messages (google.protobuf.Struct is
// one) and proto2 groups.
func TestProtobufUnsupported(t *testing.T) {
	for _, tc := range []struct {
		file, msg, want string
	}{
		{"recursive.proto", "dw.test.v1.Tree", "message dw.test.v1.Tree contains itself"},
		{"recursive.proto", "dw.test.v1.WithStruct", "message google.protobuf.Struct contains itself"},
		{"legacy.proto", "dw.test.v1.WithGroup", "field g: group fields are not supported"},
	} {
		_, err := NewDecoder(protoConf(tc.file, tc.msg), memory.DefaultAllocator)
		if !errors.Is(err, ErrConfig) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: NewDecoder: %v, want ErrConfig with %q", tc.msg, err, tc.want)
		}
	}
}
