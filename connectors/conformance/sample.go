package conformance

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// SampleSchema is the default schema of the known rows: the column types
// every file format DataWeaver supports can hold exactly.
var SampleSchema = arrow.NewSchema([]arrow.Field{
	{Name: "id", Type: arrow.PrimitiveTypes.Int64},
	{Name: "name", Type: arrow.BinaryTypes.String},
	{Name: "score", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
	{Name: "ok", Type: arrow.FixedWidthTypes.Boolean},
	{Name: "note", Type: arrow.BinaryTypes.String, Nullable: true},
	{Name: "ts", Type: &arrow.TimestampType{Unit: arrow.Microsecond, TimeZone: "UTC"}},
}, nil)

// SchemaYAML spells schema the way a pipeline file declares one (a flow
// mapping of column name to type, "not null" where the field is not
// nullable), for harnesses whose source takes a
// schema: field: text formats cannot tell a timestamp's unit and zone.
func SchemaYAML(schema *arrow.Schema) string {
	parts := make([]string, schema.NumFields())
	for i, f := range schema.Fields() {
		typ := f.Type.String()
		if !f.Nullable {
			typ += " not null"
		}
		parts[i] = fmt.Sprintf("%s: %q", f.Name, typ)
	}
	return "{" + strings.Join(parts, ", ") + "}"
}

// sampleWords are chosen to trip up text encoders: a delimiter, quotes,
// non-ASCII, significant spaces. Never the empty string: CSV cannot tell it
// from null.
var sampleWords = []string{"alpha", "beta, gamma", `say "hi"`, "ünïcödé ✓", "  padded ", "semi;colon", "O'Brien"}

// Sample builds rows start..start+n-1 of schema. Each value depends only on
// its row number and column, so Sample(s, 0, 10) sliced at 4 equals
// Sample(s, 4, 6): harnesses can produce input and expectations
// independently. Nullable columns hold a null every few rows. It panics on
// a type it does not know, which is a mistake in the calling test.
func Sample(mem memory.Allocator, schema *arrow.Schema, start, n int) arrow.RecordBatch {
	b := array.NewRecordBuilder(mem, schema)
	defer b.Release()
	b.Reserve(n)
	for c, f := range schema.Fields() {
		fb := b.Field(c)
		for r := start; r < start+n; r++ {
			if f.Nullable && (r+c)%5 == 2 {
				fb.AppendNull()
				continue
			}
			appendSample(fb, f.Type, r)
		}
	}
	return b.NewRecordBatch()
}

func appendSample(fb array.Builder, dt arrow.DataType, r int) {
	i := int64(r)
	switch b := fb.(type) {
	case *array.Int8Builder:
		b.Append(int8(i%100 - 50))
	case *array.Int16Builder:
		b.Append(int16(i%30000 - 15000))
	case *array.Int32Builder:
		b.Append(int32(i*7 - 1000))
	case *array.Int64Builder:
		b.Append(i)
	case *array.Uint8Builder:
		b.Append(uint8(i % 250))
	case *array.Uint16Builder:
		b.Append(uint16(i % 60000))
	case *array.Uint32Builder:
		b.Append(uint32(i * 13))
	case *array.Uint64Builder:
		b.Append(uint64(i) * 1_000_003)
	case *array.Float32Builder:
		b.Append(float32(i%2001-1000) * 0.125)
	case *array.Float64Builder:
		// Eighths are exact in binary and short in decimal, so text formats
		// round-trip them without a precision argument.
		b.Append(float64(i%2001-1000) * 0.125)
	case *array.BooleanBuilder:
		b.Append(i%3 == 0)
	case *array.StringBuilder:
		b.Append(sampleWords[r%len(sampleWords)] + " " + strconv.Itoa(r))
	case *array.LargeStringBuilder:
		b.Append(sampleWords[r%len(sampleWords)] + " " + strconv.Itoa(r))
	case *array.BinaryBuilder:
		b.Append([]byte{byte(r), 0, 0xff, byte(r >> 8)})
	case *array.Date32Builder:
		b.Append(arrow.Date32(19000 + i%5000))
	case *array.TimestampBuilder:
		b.Append(arrow.Timestamp(sampleTime(dt.(*arrow.TimestampType).Unit, i)))
	case *array.Decimal128Builder:
		p := dt.(*arrow.Decimal128Type).Precision
		mod := int64(1)
		for k := int32(0); k < min(p, 9); k++ {
			mod *= 10
		}
		b.Append(decimal128.FromI64((i*1234567 - 500000) % mod))
	default:
		panic(fmt.Sprintf("conformance.Sample: no sample values for type %s", dt))
	}
}

func sampleTime(unit arrow.TimeUnit, i int64) int64 {
	switch unit {
	case arrow.Second:
		return 1_700_000_000 + i*3601
	case arrow.Millisecond:
		return 1_700_000_000_000 + i*3_601_001
	case arrow.Microsecond:
		return 1_700_000_000_000_000 + i*3_601_000_001
	default:
		return 1_700_000_000_000_000_000 + i*3_601_000_000_001
	}
}
