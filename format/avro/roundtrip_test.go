package avro

import (
	"bytes"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/dataweaver/dataweaver/format"
	"github.com/dataweaver/dataweaver/format/internal/sharedata"
	"github.com/dataweaver/dataweaver/format/internal/testrecords"
)

// exact lists the AllTypes columns that come back with the same Arrow type
// and values; Types in types.go documents the others.
var exact = []string{"bool", "i32", "i64", "f32", "f64", "utf8", "binary", "fixed", "date32",
	"time32ms", "time64us", "ts_ms_utc", "dec", "list", "list_str", "struct", "map"}

func roundTrip(t *testing.T, mem memory.Allocator, recs []arrow.RecordBatch, compression string, flush bool) (*arrow.Schema, []arrow.RecordBatch) {
	t.Helper()
	var buf bytes.Buffer
	w, err := NewWriter(&buf, recs[0].Schema(), format.WriteOptions{Mem: mem, Compression: compression, Name: "rt.avro"})
	if err != nil {
		t.Fatal(err)
	}
	for _, rec := range recs {
		if err := w.Write(rec); err != nil {
			t.Fatal(err)
		}
		if flush {
			if err := w.Flush(); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return readAll(t, format.Input{R: &buf, Name: "rt.avro"}, format.ReadOptions{Mem: mem, BatchRows: testrecords.Rows})
}

func TestRoundTrip(t *testing.T) {
	tests := []struct {
		name        string
		compression string
		batches     int
		flush       bool
	}{
		{name: "null codec", batches: 1},
		{name: "deflate", compression: "deflate", batches: 2},
		{name: "zstd", compression: "zstd", batches: 2, flush: true},
		{name: "snappy", compression: "snappy", batches: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mem := checkedMem(t)
			rec := testrecords.Record(mem, testrecords.ByName(exact...)...)
			defer rec.Release()
			recs := make([]arrow.RecordBatch, tt.batches)
			for i := range recs {
				recs[i] = rec
			}
			schema, got := roundTrip(t, mem, recs, tt.compression, tt.flush)
			defer testrecords.Release(got)
			if !schema.Equal(rec.Schema()) {
				t.Fatalf("schema\n%s\nwant\n%s", schema, rec.Schema())
			}
			testrecords.RequireEqual(t, "round trip", recs, got)
		})
	}
}

// TestRoundTripConverted covers the types Avro has no exact match for:
// they come back as the Avro type's Arrow type with the same values.
func TestRoundTripConverted(t *testing.T) {
	tests := []struct {
		field string
		want  arrow.DataType
	}{
		{"i8", arrow.PrimitiveTypes.Int32},
		{"i16", arrow.PrimitiveTypes.Int32},
		{"u8", arrow.PrimitiveTypes.Int32},
		{"u16", arrow.PrimitiveTypes.Int32},
		{"u32", arrow.PrimitiveTypes.Int64},
		{"large_utf8", arrow.BinaryTypes.String},
		{"ts_s", &arrow.TimestampType{Unit: arrow.Millisecond}},
		{"ts_us_paris", &arrow.TimestampType{Unit: arrow.Microsecond, TimeZone: "UTC"}},
		{"dict", arrow.BinaryTypes.String},
	}
	for _, tt := range tests {
		t.Run(tt.field, func(t *testing.T) {
			mem := checkedMem(t)
			rec := testrecords.Record(mem, testrecords.ByName(tt.field)...)
			defer rec.Release()
			schema, got := roundTrip(t, mem, []arrow.RecordBatch{rec}, "", false)
			defer testrecords.Release(got)
			if !arrow.TypeEqual(schema.Field(0).Type, tt.want) {
				t.Fatalf("type %s, want %s", schema.Field(0).Type, tt.want)
			}
			// Compare as strings: the values are the same, the types differ.
			wantStr := valuesOf(t, mem, rec.Column(0))
			if gotStr := valuesOf(t, mem, got[0].Column(0)); gotStr != wantStr {
				t.Fatalf("values\n%s\nwant\n%s", gotStr, wantStr)
			}
		})
	}
}

// valuesOf prints values so int8 5 and int32 5 compare equal; timestamps
// print as instants in UTC, dictionaries as their values.
func valuesOf(t *testing.T, mem memory.Allocator, a arrow.Array) string {
	t.Helper()
	var b strings.Builder
	for i := 0; i < a.Len(); i++ {
		switch {
		case a.IsNull(i):
			b.WriteString("null")
		case a.DataType().ID() == arrow.TIMESTAMP:
			ts := a.(*array.Timestamp)
			b.WriteString(ts.Value(i).ToTime(ts.DataType().(*arrow.TimestampType).Unit).UTC().String())
		default:
			b.WriteString(a.ValueStr(i))
		}
		b.WriteString(",")
	}
	return b.String()
}

func TestWriteErrors(t *testing.T) {
	mem := checkedMem(t)
	tests := []struct {
		name   string
		fields []arrow.Field
		want   string
	}{
		{name: "duration", fields: testrecords.ByName("duration"), want: "no Avro mapping"},
		{name: "uint64 past int64", fields: testrecords.ByName("u64"), want: "does not fit Avro long"},
		{name: "nanoseconds", fields: testrecords.ByName("ts_ns"), want: "sub-microsecond"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := testrecords.Record(mem, tt.fields...)
			defer rec.Release()
			w, err := NewWriter(&bytes.Buffer{}, rec.Schema(), format.WriteOptions{Name: "out.avro"})
			if err == nil {
				err = w.Write(rec)
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), "out.avro") {
				t.Fatalf("err = %v, want one naming out.avro and containing %q", err, tt.want)
			}
		})
	}
}

func TestEnumRoundTrip(t *testing.T) {
	mem := checkedMem(t)
	// An enum read from a file keeps its symbols in field metadata and is
	// written back as the same enum.
	md := arrow.NewMetadata([]string{enumKey}, []string{`{"name":"Suit","symbols":["SPADES","HEARTS"]}`})
	schema := arrow.NewSchema([]arrow.Field{{Name: "suit", Type: arrow.BinaryTypes.String, Metadata: md}}, nil)
	b := array.NewRecordBuilder(mem, schema)
	defer b.Release()
	b.Field(0).(*array.StringBuilder).AppendValues([]string{"HEARTS", "SPADES"}, nil)
	rec := b.NewRecordBatch()
	defer rec.Release()
	got, recs := roundTrip(t, mem, []arrow.RecordBatch{rec}, "", false)
	defer testrecords.Release(recs)
	if v, _ := got.Field(0).Metadata.GetValue(enumKey); !strings.Contains(v, `"SPADES","HEARTS"`) {
		t.Fatalf("enum metadata lost: %v", got.Field(0).Metadata)
	}
	testrecords.RequireEqual(t, "enum", []arrow.RecordBatch{rec}, recs)

	b.Field(0).(*array.StringBuilder).Append("CLUBS")
	bad := b.NewRecordBatch()
	defer bad.Release()
	w, _ := NewWriter(&bytes.Buffer{}, schema, format.WriteOptions{Name: "out.avro"})
	if err := w.Write(bad); err == nil || !strings.Contains(err.Error(), "CLUBS") {
		t.Fatalf("err = %v, want the unknown symbol named", err)
	}
}

// TestUnionFileRoundTrip writes what with_union.avro reads as (dense
// unions, a nullable record, a union with a null branch) and reads it back.
func TestUnionFileRoundTrip(t *testing.T) {
	mem := checkedMem(t)
	_, recs := readAll(t, fileInput(t, sharedata.Path(t, "avro", "with_union.avro")), format.ReadOptions{Mem: mem})
	defer testrecords.Release(recs)
	schema, got := roundTrip(t, mem, recs, "deflate", false)
	defer testrecords.Release(got)
	if !schema.Equal(recs[0].Schema()) {
		t.Fatalf("schema\n%s\nwant\n%s", schema, recs[0].Schema())
	}
	testrecords.RequireEqual(t, "with_union round trip", recs, got)
}
