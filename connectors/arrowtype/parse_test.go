package arrowtype

import (
	"errors"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/dataweaver/dataweaver/engine/spec"
)

func TestParse(t *testing.T) {
	tests := []struct {
		name     string
		in       string
		want     arrow.DataType
		nullable bool
	}{
		{"int64", "int64", arrow.PrimitiveTypes.Int64, true},
		{"alias string", "string", arrow.BinaryTypes.String, true},
		{"case and spaces", "  Float64 ", arrow.PrimitiveTypes.Float64, true},
		{"not null", "int32 not null", arrow.PrimitiveTypes.Int32, false},
		{"not null upper", "bool NOT NULL", arrow.FixedWidthTypes.Boolean, false},
		{"timestamp no tz", "timestamp[us]", &arrow.TimestampType{Unit: arrow.Microsecond}, true},
		{"timestamp tz", "timestamp[ms, UTC]", &arrow.TimestampType{Unit: arrow.Millisecond, TimeZone: "UTC"}, true},
		{"timestamp arrow spelling", "timestamp[ns, tz=Europe/Paris]", &arrow.TimestampType{Unit: arrow.Nanosecond, TimeZone: "Europe/Paris"}, true},
		{"timestamp offset", "timestamp[s, +05:30]", &arrow.TimestampType{Unit: arrow.Second, TimeZone: "+05:30"}, true},
		{"date32", "date32", arrow.FixedWidthTypes.Date32, true},
		{"time64", "time64[ns]", arrow.FixedWidthTypes.Time64ns, true},
		{"duration", "duration[ms]", arrow.FixedWidthTypes.Duration_ms, true},
		{"decimal", "decimal128(10,2)", &arrow.Decimal128Type{Precision: 10, Scale: 2}, true},
		{"decimal alias spaced", "decimal( 38 , 0 )", &arrow.Decimal128Type{Precision: 38, Scale: 0}, true},
		{"decimal256", "decimal256(60,10)", &arrow.Decimal256Type{Precision: 60, Scale: 10}, true},
		{"list", "list<utf8>", arrow.ListOf(arrow.BinaryTypes.String), true},
		{"nested list", "list<list<decimal(5,1)>>", arrow.ListOf(arrow.ListOf(&arrow.Decimal128Type{Precision: 5, Scale: 1})), true},
		{"struct", "struct<name: utf8, at: timestamp[us, UTC], n: int64 not null>", arrow.StructOf(
			arrow.Field{Name: "name", Type: arrow.BinaryTypes.String, Nullable: true},
			arrow.Field{Name: "at", Type: &arrow.TimestampType{Unit: arrow.Microsecond, TimeZone: "UTC"}, Nullable: true},
			arrow.Field{Name: "n", Type: arrow.PrimitiveTypes.Int64}), true},
		{"list of structs", "list<struct<sku: utf8, tags: list<utf8>>>", arrow.ListOf(arrow.StructOf(
			arrow.Field{Name: "sku", Type: arrow.BinaryTypes.String, Nullable: true},
			arrow.Field{Name: "tags", Type: arrow.ListOf(arrow.BinaryTypes.String), Nullable: true})), true},
		{"map", "map<utf8, list<float64>>", arrow.MapOf(arrow.BinaryTypes.String, arrow.ListOf(arrow.PrimitiveTypes.Float64)), true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, nullable, err := Parse(tc.in)
			if err != nil {
				t.Fatalf("Parse(%q): %v", tc.in, err)
			}
			if !arrow.TypeEqual(got, tc.want) || nullable != tc.nullable {
				t.Fatalf("Parse(%q) = %v nullable=%v, want %v nullable=%v", tc.in, got, nullable, tc.want, tc.nullable)
			}
		})
	}
}

// Every type arrow-go prints must read back, so a schema shown by weave
// can be pasted into a pipeline file.
func TestParseArrowStrings(t *testing.T) {
	for _, dt := range []arrow.DataType{
		arrow.PrimitiveTypes.Int8, arrow.PrimitiveTypes.Uint64, arrow.BinaryTypes.LargeString,
		arrow.FixedWidthTypes.Date64, &arrow.TimestampType{Unit: arrow.Second, TimeZone: "UTC"},
		&arrow.Decimal128Type{Precision: 12, Scale: 3}, arrow.FixedWidthTypes.Time32ms,
	} {
		got, _, err := Parse(dt.String())
		if err != nil || !arrow.TypeEqual(got, dt) {
			t.Errorf("Parse(%q) = %v, %v; want %v", dt.String(), got, err, dt)
		}
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"empty", "", "empty type name"},
		{"typo", "int65", `did you mean "int64"`},
		{"unknown far", "geometry", "known:"},
		{"missing params", "timestamp", "timestamp[unit]"},
		{"bad unit", "timestamp[sec]", `time unit "sec" is not one of s, ms, us, ns`},
		{"time32 ns", "time32[ns]", "not one of s, ms"},
		{"bad zone", "timestamp[us, Mars/Olympus]", "unknown time zone"},
		{"bad offset", "timestamp[us, +5]", "must look like +05:30"},
		{"decimal precision", "decimal128(40,2)", "precision 40 is outside 1..38"},
		{"decimal scale", "decimal128(5,6)", "scale 6 is outside"},
		{"decimal not int", "decimal(a,b)", "must be integers"},
		{"params on simple", "int64[3]", "takes no parameters"},
		{"unclosed", "timestamp[us", "missing closing"},
		{"unbalanced", "list<list<int64>", "unbalanced brackets"},
		{"list bad elem", "list<nope>", "list element"},
		{"struct without a name", "struct<int64>", "struct field 1: write name: type"},
		{"struct twice", "struct<a: int8, a: int8>", `struct field "a" appears twice`},
		{"struct bad field", "struct<a: nope>", `struct field "a"`},
		{"map one type", "map<utf8>", "write map<key type, value type>"},
		{"map list key", "map<list<utf8>, int8>", "cannot be a key"},
		{"empty param", "decimal(10,)", "parameter 2 of decimal is empty"},
		{"space", "int 64", "unexpected"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := Parse(tc.in)
			if err == nil {
				t.Fatalf("Parse(%q) succeeded", tc.in)
			}
			if !errors.Is(err, ErrType) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Parse(%q) error %q, want it to wrap ErrType and contain %q", tc.in, err, tc.want)
			}
		})
	}
}

func TestSchema(t *testing.T) {
	s, err := Schema([]spec.KV{{Key: "id", Value: "int64 not null"}, {Key: "name", Value: "utf8"}})
	if err != nil {
		t.Fatal(err)
	}
	want := arrow.NewSchema([]arrow.Field{
		{Name: "id", Type: arrow.PrimitiveTypes.Int64},
		{Name: "name", Type: arrow.BinaryTypes.String, Nullable: true},
	}, nil)
	if !s.Equal(want) {
		t.Fatalf("got %v, want %v", s, want)
	}

	_, err = Schema([]spec.KV{{Key: "a", Value: "int64", Line: 3}, {Key: "a", Value: "utf8", Line: 4}, {Key: "b", Value: "nope", Line: 5}})
	if err == nil {
		t.Fatal("want an error")
	}
	for _, want := range []string{`line 4: column "a" is declared twice`, `line 5: column "b"`} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not contain %q (every problem must be reported)", err, want)
		}
	}
	if _, err := Schema(nil); err == nil {
		t.Error("empty schema accepted")
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{"int64", "timestamp[us, UTC]", "decimal128(10,2)", "list<list<utf8>>", "x[<(", "list<"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		dt, _, err := Parse(s)
		if err == nil && dt == nil {
			t.Fatalf("Parse(%q) returned neither a type nor an error", s)
		}
	})
}
