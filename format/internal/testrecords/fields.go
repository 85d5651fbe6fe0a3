package testrecords

import "github.com/apache/arrow-go/v18/arrow"

// AllTypes is one field per Arrow type the formats are tested with, named
// after the type, nullable and not mixed. A format's round-trip test takes
// the ones it supports (see ByName).
func AllTypes() []arrow.Field {
	return []arrow.Field{
		{Name: "bool", Type: arrow.FixedWidthTypes.Boolean, Nullable: true},
		{Name: "i8", Type: arrow.PrimitiveTypes.Int8, Nullable: true},
		{Name: "i16", Type: arrow.PrimitiveTypes.Int16},
		{Name: "i32", Type: arrow.PrimitiveTypes.Int32, Nullable: true},
		{Name: "i64", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
		{Name: "u8", Type: arrow.PrimitiveTypes.Uint8},
		{Name: "u16", Type: arrow.PrimitiveTypes.Uint16, Nullable: true},
		{Name: "u32", Type: arrow.PrimitiveTypes.Uint32},
		{Name: "u64", Type: arrow.PrimitiveTypes.Uint64, Nullable: true},
		{Name: "f32", Type: arrow.PrimitiveTypes.Float32, Nullable: true},
		{Name: "f64", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
		{Name: "utf8", Type: arrow.BinaryTypes.String, Nullable: true},
		{Name: "large_utf8", Type: arrow.BinaryTypes.LargeString},
		{Name: "binary", Type: arrow.BinaryTypes.Binary, Nullable: true},
		{Name: "fixed", Type: &arrow.FixedSizeBinaryType{ByteWidth: 16}, Nullable: true},
		{Name: "date32", Type: arrow.FixedWidthTypes.Date32, Nullable: true},
		{Name: "date64", Type: arrow.FixedWidthTypes.Date64},
		{Name: "time32ms", Type: arrow.FixedWidthTypes.Time32ms, Nullable: true},
		{Name: "time64us", Type: arrow.FixedWidthTypes.Time64us},
		{Name: "time64ns", Type: arrow.FixedWidthTypes.Time64ns, Nullable: true},
		{Name: "ts_s", Type: &arrow.TimestampType{Unit: arrow.Second}},
		{Name: "ts_ms_utc", Type: &arrow.TimestampType{Unit: arrow.Millisecond, TimeZone: "UTC"}, Nullable: true},
		{Name: "ts_us_paris", Type: &arrow.TimestampType{Unit: arrow.Microsecond, TimeZone: "Europe/Paris"}},
		{Name: "ts_ns", Type: &arrow.TimestampType{Unit: arrow.Nanosecond}, Nullable: true},
		{Name: "duration", Type: arrow.FixedWidthTypes.Duration_ns, Nullable: true},
		{Name: "dec", Type: &arrow.Decimal128Type{Precision: 38, Scale: 4}, Nullable: true},
		{Name: "list", Type: arrow.ListOfField(arrow.Field{Name: "item", Type: arrow.PrimitiveTypes.Int64, Nullable: true}), Nullable: true},
		{Name: "list_str", Type: arrow.ListOf(arrow.BinaryTypes.String)},
		{Name: "struct", Type: arrow.StructOf(
			arrow.Field{Name: "a", Type: arrow.PrimitiveTypes.Int32, Nullable: true},
			arrow.Field{Name: "b", Type: arrow.BinaryTypes.String, Nullable: true}), Nullable: true},
		{Name: "map", Type: arrow.MapOf(arrow.BinaryTypes.String, arrow.PrimitiveTypes.Float64)},
		{Name: "dict", Type: &arrow.DictionaryType{IndexType: arrow.PrimitiveTypes.Int32, ValueType: arrow.BinaryTypes.String}, Nullable: true},
	}
}

// ByName picks fields of AllTypes by name, panicking on a typo.
func ByName(names ...string) []arrow.Field {
	all := map[string]arrow.Field{}
	for _, f := range AllTypes() {
		all[f.Name] = f
	}
	out := make([]arrow.Field, len(names))
	for i, n := range names {
		f, ok := all[n]
		if !ok {
			panic("testrecords: no field " + n)
		}
		out[i] = f
	}
	return out
}
