package codec

import (
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
)

// The tests in this file check the json and avro rows of docs/types.md at
// the codec (what the message connectors run); the protobuf rows are
// checked by TestProtobufValues, TestProtobufEncode and the tests around
// them.

var (
	tsUS  = &arrow.TimestampType{Unit: arrow.Microsecond, TimeZone: "UTC"}
	dec92 = &arrow.Decimal128Type{Precision: 9, Scale: 2}
)

// TestJSONTypes: a message's value for a column of each type (the schema
// is the connector's), and what each Arrow type is written as.
func TestJSONTypes(t *testing.T) {
	mem := checked(t)
	for _, tc := range []struct {
		name     string
		dt       arrow.DataType
		nullable bool
		msg      string
		want     string // ValueStr of the row, or "reject"
	}{
		{"null", arrow.PrimitiveTypes.Int64, true, `{"v": null}`, "(null)"},
		{"missing key", arrow.PrimitiveTypes.Int64, true, `{}`, "(null)"},
		{"not null is not enforced", arrow.PrimitiveTypes.Int64, false, `{}`, "(null)"},
		{"integer", arrow.PrimitiveTypes.Int8, true, `{"v": -128}`, "-128"},
		{"integer out of range", arrow.PrimitiveTypes.Int8, true, `{"v": 300}`, "reject"},
		{"integer with a fraction", arrow.PrimitiveTypes.Int64, true, `{"v": 1.0}`, "reject"},
		{"uint64", arrow.PrimitiveTypes.Uint64, true, `{"v": 18446744073709551615}`, "18446744073709551615"},
		{"float", arrow.PrimitiveTypes.Float64, true, `{"v": 1e-7}`, "1e-07"},
		{"bool", arrow.FixedWidthTypes.Boolean, true, `{"v": true}`, "true"},
		{"string", arrow.BinaryTypes.String, true, `{"v": "a\u00e9"}`, "aé"},
		{"object into utf8 keeps its JSON text", arrow.BinaryTypes.String, true, `{"v": {"a": [1, 2]}}`, `{"a": [1, 2]}`},
		{"binary is base64", arrow.BinaryTypes.Binary, true, `{"v": "AP8="}`, "AP8="},
		{"date", arrow.FixedWidthTypes.Date32, true, `{"v": "2024-02-29"}`, "2024-02-29"},
		{"timestamp RFC 3339", tsUS, true, `{"v": "2024-01-02T03:04:05+02:00"}`, "2024-01-02T01:04:05Z"},
		{"timestamp without zone is UTC", tsUS, true, `{"v": "2024-01-02 03:04:05"}`, "2024-01-02T03:04:05Z"},
		{"timestamp finer than the unit", tsUS, true, `{"v": "2024-01-02T03:04:05.1234567Z"}`, "reject"},
		{"timestamp as a number", tsUS, true, `{"v": 1700000000}`, "reject"},
		{"decimal from a string", dec92, true, `{"v": "12.3"}`, "12.3"},
		{"decimal from a number", dec92, true, `{"v": -0.05}`, "-0.05"},
		{"decimal finer than the scale", dec92, true, `{"v": 12.345}`, "reject"},
		{"decimal with an exponent", dec92, true, `{"v": 1e2}`, "reject"},
		{"list", arrow.ListOf(arrow.PrimitiveTypes.Int64), true, `{"v": [1, null]}`, "[1,null]"},
		{"struct, unknown keys skipped", arrow.StructOf(arrow.Field{Name: "a", Type: arrow.PrimitiveTypes.Int64, Nullable: true}), true, `{"v": {"a": 1, "b": 2}}`, `{"a":1}`},
		{"map is not readable", arrow.MapOf(arrow.BinaryTypes.String, arrow.PrimitiveTypes.Int64), true, `{"v": {}}`, "config"},
		{"duration is not readable", &arrow.DurationType{Unit: arrow.Microsecond}, true, `{"v": 1}`, "config"},
	} {
		t.Run("read/"+tc.name, func(t *testing.T) {
			s := arrow.NewSchema([]arrow.Field{{Name: "v", Type: tc.dt, Nullable: tc.nullable}}, nil)
			dec, err := NewDecoder(Config{Name: JSON, Schema: s}, mem)
			if err == nil && tc.want == "config" {
				t.Fatal("NewDecoder accepts the type")
			}
			if tc.want == "config" {
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			rec, rej, err := dec.Decode([][]byte{[]byte(tc.msg)})
			if err != nil {
				t.Fatal(err)
			}
			defer rec.Release()
			got := "reject"
			if len(rej) == 0 {
				got = rec.Column(0).ValueStr(0)
			}
			if got != tc.want {
				t.Errorf("%s as %s: %s, want %s", tc.msg, tc.dt, got, tc.want)
			}
		})
	}
	for _, tc := range []struct {
		name string
		dt   arrow.DataType
		rows string // for array.RecordFromJSON
		want string
	}{
		{"null", arrow.PrimitiveTypes.Int64, `[{"v": null}]`, `{"v":null}`},
		{"bool", arrow.FixedWidthTypes.Boolean, `[{"v": true}]`, `{"v":true}`},
		{"int64 beyond 2^53 stays exact", arrow.PrimitiveTypes.Int64, `[{"v": "9007199254740993"}]`, `{"v":9007199254740993}`},
		{"float", arrow.PrimitiveTypes.Float64, `[{"v": 0.1}]`, `{"v":0.1}`},
		{"binary", arrow.BinaryTypes.Binary, `[{"v": "AP8="}]`, `{"v":"AP8="}`},
		{"timestamp", &arrow.TimestampType{Unit: arrow.Nanosecond, TimeZone: "UTC"}, `[{"v": "2024-01-02T03:04:05.123456789Z"}]`, `{"v":"2024-01-02T03:04:05.123456789Z"}`},
		{"timestamp without zone", &arrow.TimestampType{Unit: arrow.Microsecond}, `[{"v": "2024-01-02T03:04:05"}]`, `{"v":"2024-01-02T03:04:05Z"}`},
		{"date", arrow.FixedWidthTypes.Date32, `[{"v": "2024-02-29"}]`, `{"v":"2024-02-29"}`},
		{"decimal is an exact string", dec92, `[{"v": "-1.5"}]`, `{"v":"-1.50"}`},
		{"list", arrow.ListOf(arrow.PrimitiveTypes.Int64), `[{"v": [1, null]}]`, `{"v":[1,null]}`},
		{"struct", arrow.StructOf(arrow.Field{Name: "a", Type: arrow.PrimitiveTypes.Int64, Nullable: true}), `[{"v": {"a": 1}}]`, `{"v":{"a":1}}`},
		{"map", arrow.MapOf(arrow.BinaryTypes.String, arrow.PrimitiveTypes.Int64), `[{"v": [{"key": "a", "value": 1}]}]`, `{"v":[{"key":"a","value":1}]}`},
		{"duration", &arrow.DurationType{Unit: arrow.Microsecond}, `[{"v": 5}]`, `{"v":"5us"}`},
	} {
		t.Run("write/"+tc.name, func(t *testing.T) {
			s := arrow.NewSchema([]arrow.Field{{Name: "v", Type: tc.dt, Nullable: true}}, nil)
			rec, _, err := array.RecordFromJSON(mem, s, strings.NewReader(tc.rows))
			if err != nil {
				t.Fatal(err)
			}
			defer rec.Release()
			enc, err := NewEncoder(Config{Name: JSON}, s, mem)
			if err != nil {
				t.Fatal(err)
			}
			if got := string(encodeAll(t, enc, rec)[0]); got != tc.want {
				t.Errorf("%s, want %s", got, tc.want)
			}
		})
	}
}

// TestAvroTypes: the Avro type the avro codec writes for each Arrow type
// (it derives the schema from the columns) and the Arrow type it reads
// back, and the Arrow types of Avro types it only reads.
func TestAvroTypes(t *testing.T) {
	mem := checked(t)
	for _, tc := range []struct {
		name     string
		dt       arrow.DataType
		nullable bool
		avro     string // the field's Avro type, or the error
		back     string // the Arrow type read back
	}{
		{"nullable", arrow.PrimitiveTypes.Int64, true, `["null","long"]`, "int64"},
		{"uint32 widens", arrow.PrimitiveTypes.Uint32, false, `"long"`, "int64"},
		{"struct", arrow.StructOf(arrow.Field{Name: "a", Type: arrow.PrimitiveTypes.Int64}), false, `{"name":"v","type":"record","fields":[{"name":"a","type":"long"}]}`, "struct<a: int64>"},
		{"list", arrow.ListOfNonNullable(arrow.PrimitiveTypes.Int64), false, `{"type":"array","items":"long"}`, "list<item: int64>"},
		{"list of nullable items", arrow.ListOf(arrow.PrimitiveTypes.Int64), false, `{"type":"array","items":["null","long"]}`, "list<item: int64, nullable>"},
		{"map", arrow.MapOf(arrow.BinaryTypes.String, arrow.PrimitiveTypes.Int64), false, `{"type":"map","values":["null","long"]}`, "map<utf8, int64, items_nullable>"},
		{"timestamp with zone", tsUS, false, `{"type":"long","logicalType":"timestamp-micros"}`, "timestamp[us, tz=UTC]"},
		{"timestamp without zone", &arrow.TimestampType{Unit: arrow.Millisecond}, false, `{"type":"long","logicalType":"local-timestamp-millis"}`, "timestamp[ms]"},
		{"timestamp[ns]", &arrow.TimestampType{Unit: arrow.Nanosecond, TimeZone: "UTC"}, false, `{"type":"long","logicalType":"timestamp-micros"}`, "timestamp[us, tz=UTC]"},
		{"decimal", dec92, false, `{"type":"bytes","logicalType":"decimal","precision":9,"scale":2}`, "decimal(9, 2)"},
		{"duration", &arrow.DurationType{Unit: arrow.Microsecond}, false, `no Avro mapping for Arrow type duration[us]`, ""},
	} {
		t.Run("write/"+tc.name, func(t *testing.T) {
			s := arrow.NewSchema([]arrow.Field{{Name: "v", Type: tc.dt, Nullable: tc.nullable}}, nil)
			if _, err := NewEncoder(Config{Name: Avro}, s, mem); err != nil {
				if tc.back != "" || !strings.Contains(err.Error(), tc.avro) {
					t.Fatalf("NewEncoder: %v", err)
				}
				return
			}
			text := avroSchemaOf(t, s)
			if want := `"fields":[{"name":"v","type":` + tc.avro + `}]`; !strings.Contains(text, want) {
				t.Errorf("Avro schema %s, want the field %s", text, tc.avro)
			}
			dec, err := NewDecoder(Config{Name: Avro, AvroSchema: text}, mem)
			if err != nil {
				t.Fatal(err)
			}
			if got := dec.Schema().Field(0).Type.String(); got != tc.back {
				t.Errorf("read back as %s, want %s", got, tc.back)
			}
		})
	}
	dec, err := NewDecoder(Config{Name: Avro, AvroSchema: `{"type": "record", "name": "r", "fields": [
		{"name": "e", "type": {"type": "enum", "name": "E", "symbols": ["A", "B"]}},
		{"name": "x", "type": ["null", "string"]},
		{"name": "y", "type": ["string", "null"]},
		{"name": "u", "type": ["int", "string"]},
		{"name": "tm", "type": {"type": "long", "logicalType": "timestamp-millis"}},
		{"name": "fx", "type": {"type": "fixed", "name": "F", "size": 2, "logicalType": "decimal", "precision": 4, "scale": 1}}]}`}, mem)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, f := range dec.Schema().Fields() {
		s := f.Name + ": " + f.Type.String()
		if f.Nullable {
			s += " nullable"
		}
		if v, ok := f.Metadata.GetValue("avro.enum"); ok {
			s += " " + v
		}
		got = append(got, s)
	}
	want := []string{
		`e: utf8 {"name":"E","symbols":["A","B"]}`, "x: utf8 nullable", "y: utf8 nullable",
		"u: dense_union<int: type=int32, nullable=0, string: type=utf8, nullable=1>", "tm: timestamp[ms, tz=UTC]", "fx: decimal(4, 1)",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("read types:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
