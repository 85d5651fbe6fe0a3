package codec

import (
	"errors"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/dataweaver/dataweaver/format"
)

var testSchema = arrow.NewSchema([]arrow.Field{
	{Name: "id", Type: arrow.PrimitiveTypes.Int64},
	{Name: "name", Type: arrow.BinaryTypes.String, Nullable: true},
	{Name: "score", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
	{Name: "ts", Type: &arrow.TimestampType{Unit: arrow.Microsecond, TimeZone: "UTC"}},
}, nil)

// testRecord builds n rows of testSchema, with names that need escaping
// (a newline, quotes) and some nulls.
func testRecord(mem memory.Allocator, n int) arrow.RecordBatch {
	b := array.NewRecordBuilder(mem, testSchema)
	defer b.Release()
	words := []string{"plain", "line\nbreak", `say "hi"`, "ünï ✓"}
	for i := range n {
		b.Field(0).(*array.Int64Builder).Append(int64(i))
		if i%5 == 3 {
			b.Field(1).AppendNull()
		} else {
			b.Field(1).(*array.StringBuilder).Append(words[i%len(words)])
		}
		if i%4 == 1 {
			b.Field(2).AppendNull()
		} else {
			b.Field(2).(*array.Float64Builder).Append(float64(i) * 0.25)
		}
		b.Field(3).(*array.TimestampBuilder).Append(arrow.Timestamp(1_700_000_000_000_000 + int64(i)*1_000_001))
	}
	return b.NewRecordBatch()
}

const testAvsc = `{"type":"record","name":"row","fields":[
 {"name":"id","type":"long"},
 {"name":"name","type":["null","string"]},
 {"name":"score","type":["null","double"]},
 {"name":"ts","type":{"type":"long","logicalType":"timestamp-micros"}}]}`

func checked(t *testing.T) *memory.CheckedAllocator {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	t.Cleanup(func() { mem.AssertSize(t, 0) })
	return mem
}

// encodeTestRows encodes n testRecord rows with conf's codec, its Avro
// schema cleared: an Avro encoder refuses one and derives its own from
// testSchema, while the decoder side of conf needs it. It returns the rows (released when t ends), the
// encoder and the messages.
func encodeTestRows(t *testing.T, conf Config, mem memory.Allocator, n int) (arrow.RecordBatch, Encoder, [][]byte) {
	t.Helper()
	want := testRecord(mem, n)
	t.Cleanup(want.Release)
	conf.AvroSchema = ""
	enc, err := NewEncoder(conf, testSchema, mem)
	if err != nil {
		t.Fatal(err)
	}
	return want, enc, encodeAll(t, enc, want)
}

func encodeAll(t testing.TB, enc Encoder, rec arrow.RecordBatch) [][]byte {
	t.Helper()
	var msgs [][]byte
	if err := enc.Encode(rec, func(row int, msg []byte) error {
		if row != len(msgs) {
			t.Fatalf("emit row %d, want %d", row, len(msgs))
		}
		msgs = append(msgs, append([]byte(nil), msg...))
		return nil
	}); err != nil {
		t.Fatalf("Encode: %v", err)
	}
	return msgs
}

// TestRoundTripWithRejects encodes rows, slips bad messages in between,
// and checks that the good ones decode to the same rows and each bad one
// comes back as a reject with its index and bytes.
func TestRoundTripWithRejects(t *testing.T) {
	for _, tc := range []struct {
		name string
		conf Config
		bad  [][]byte // inserted after messages 0, 2, 4, …
	}{
		{"json", Config{Name: JSON, Schema: testSchema}, [][]byte{
			[]byte(`{"id": "not a number", "ts": "2024-01-01T00:00:00Z"}`),
			[]byte(`not json`),
			[]byte(""),
			[]byte("   "),
			[]byte(`{"id": 1,` + "\n" + `"ts": `), // multi-line and broken
			[]byte(`[1, 2]`),
		}},
		{"avro raw", Config{Name: Avro, AvroSchema: testAvsc}, [][]byte{
			{0x02},                         // id, then nothing
			{0x02, 0x00, 0x00, 0x02, 0x07}, // trailing byte after a full datum
			{0x02, 0x04},                   // union index out of range
		}},
		{"avro single object", Config{Name: Avro, AvroSchema: testAvsc, AvroEncoding: AvroSingleObject}, [][]byte{
			{0xC3, 0x01, 1, 2, 3, 4, 5, 6, 7, 8, 0x02, 0x00, 0x00, 0x02}, // wrong fingerprint
			{0x02, 0x00, 0x00, 0x02},                                     // raw, no header
			{0xC3},
		}},
		{"protobuf", protoConf("row.proto", "dw.test.v1.TestRow"), [][]byte{
			{0x08, 0x80},                   // id, truncated
			{0x12, 0x01, 0xff},             // name not UTF-8
			{0x22, 0x02, 0x10, 0x01},       // ts with a nanosecond
			{0x09, 1, 2, 3, 4, 5, 6, 7, 8}, // id as fixed64
			{0x00},                         // field 0
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			mem := checked(t)
			want, _, good := encodeTestRows(t, tc.conf, mem, 12)
			var msgs [][]byte
			badAt := map[int]string{}
			for i, m := range good {
				msgs = append(msgs, m)
				if i%2 == 0 && i/2 < len(tc.bad) {
					badAt[len(msgs)] = string(tc.bad[i/2])
					msgs = append(msgs, tc.bad[i/2])
				}
			}
			dec, err := NewDecoder(tc.conf, mem)
			if err != nil {
				t.Fatal(err)
			}
			got, rejects, err := dec.Decode(msgs)
			if err != nil {
				t.Fatalf("Decode: %v", err)
			}
			defer got.Release()
			if !array.RecordEqual(got, want) {
				t.Errorf("decoded rows differ:\n got %v\nwant %v", got, want)
			}
			if len(rejects) != len(badAt) {
				t.Fatalf("%d rejects, want %d: %v", len(rejects), len(badAt), rejects)
			}
			for _, r := range rejects {
				raw, ok := badAt[r.Row]
				if !ok || raw != string(r.Raw) {
					t.Errorf("reject at %d with raw %q: not one of the bad messages %v", r.Row, r.Raw, badAt)
				}
				if !errors.Is(r.Err, format.ErrMalformed) {
					t.Errorf("reject %d: %v does not wrap format.ErrMalformed", r.Row, r.Err)
				}
			}
		})
	}
}

func TestDecodeEmptyBatch(t *testing.T) {
	mem := checked(t)
	for _, conf := range []Config{{Name: JSON, Schema: testSchema}, {Name: Avro, AvroSchema: testAvsc}, protoConf("row.proto", "dw.test.v1.TestRow")} {
		dec, err := NewDecoder(conf, mem)
		if err != nil {
			t.Fatal(err)
		}
		rec, rej, err := dec.Decode(nil)
		if err != nil || len(rej) != 0 || rec.NumRows() != 0 || !rec.Schema().Equal(dec.Schema()) {
			t.Errorf("%s: Decode(nil) = %v rows, %v, %v", conf.Name, rec.NumRows(), rej, err)
		}
		rec.Release()
	}
}

func TestJSONMessageText(t *testing.T) {
	mem := checked(t)
	rec := testRecord(mem, 2)
	defer rec.Release()
	enc, err := NewEncoder(Config{}, testSchema, mem)
	if err != nil {
		t.Fatal(err)
	}
	msgs := encodeAll(t, enc, rec)
	want := []string{
		`{"id":0,"name":"plain","score":0.0,"ts":"2023-11-14T22:13:20Z"}`, // a float stays a float
		`{"id":1,"name":"line\nbreak","score":null,"ts":"2023-11-14T22:13:21.000001Z"}`,
	}
	for i := range want {
		if string(msgs[i]) != want[i] {
			t.Errorf("message %d = %s, want %s", i, msgs[i], want[i])
		}
	}
}

func TestConfigErrors(t *testing.T) {
	mem := checked(t)
	for _, tc := range []struct {
		name string
		conf Config
		want string
	}{
		{"json without schema", Config{Name: JSON}, "needs a schema"},
		{"avro without schema", Config{Name: Avro}, "avro.schema or avro.schema_file"},
		{"bad avro schema", Config{Name: Avro, AvroSchema: `{"type":"nope"}`}, "avro schema"},
		{"missing avsc", Config{Name: Avro, AvroSchemaFile: "testdata/none.avsc"}, "no such file"},
		{"unknown", Config{Name: "xml"}, "unknown codec"},
	} {
		_, err := NewDecoder(tc.conf, mem)
		if !errors.Is(err, ErrConfig) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want ErrConfig containing %q", tc.name, err, tc.want)
		}
	}
}
