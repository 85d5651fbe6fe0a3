// Package testrecords builds deterministic Arrow columns of many types for
// round-trip tests: nulls, extreme values, NaN and non-ASCII text included,
// so each format's tests can say which types they round-trip by listing them.
package testrecords

import (
	"fmt"
	"math"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// Rows is the number of rows Record builds: enough to hit every special value.
const Rows = 12

var texts = []string{"", "plain", "naïve café", "日本語テキスト", "emoji 🚀", "tab\tand\nnewline", "\"quoted\",comma", "a"}

// Record builds a Rows-row record with one column per field; a nullable field
// gets a null in every third row, starting with row 2.
func Record(mem memory.Allocator, fields ...arrow.Field) arrow.RecordBatch {
	schema := arrow.NewSchema(fields, nil)
	b := array.NewRecordBuilder(mem, schema)
	defer b.Release()
	for i, f := range fields {
		for row := 0; row < Rows; row++ {
			if f.Nullable && row%3 == 2 {
				b.Field(i).AppendNull()
				continue
			}
			appendValue(b.Field(i), f.Type, row)
		}
	}
	return b.NewRecordBatch()
}

// appendValue appends a value determined by row; rows 0 and 1 are the
// type's extremes where it has them.
func appendValue(b array.Builder, dt arrow.DataType, row int) {
	r := int64(row)
	switch b := b.(type) {
	case *array.BooleanBuilder:
		b.Append(row%2 == 0)
	case *array.Int8Builder:
		b.Append(pick(row, math.MinInt8, math.MaxInt8, int8(r*7-40)))
	case *array.Int16Builder:
		b.Append(pick(row, math.MinInt16, math.MaxInt16, int16(r*1001-5000)))
	case *array.Int32Builder:
		b.Append(pick(row, math.MinInt32, math.MaxInt32, int32(r*1000003-5000000)))
	case *array.Int64Builder:
		b.Append(pick(row, math.MinInt64, math.MaxInt64, r*1e12-5e12))
	case *array.Uint8Builder:
		b.Append(pick(row, 0, math.MaxUint8, uint8(r*13)))
	case *array.Uint16Builder:
		b.Append(pick(row, 0, math.MaxUint16, uint16(r*1001)))
	case *array.Uint32Builder:
		b.Append(pick(row, 0, math.MaxUint32, uint32(r*1000003)))
	case *array.Uint64Builder:
		b.Append(pick(row, 0, math.MaxUint64, uint64(r)*1e15))
	case *array.Float32Builder:
		b.Append(pick(row, -math.MaxFloat32, float32(math.NaN()), pick(row-2, float32(math.Inf(-1)), math.SmallestNonzeroFloat32, float32(r)*-1.25)))
	case *array.Float64Builder:
		b.Append(pick(row, -math.MaxFloat64, math.NaN(), pick(row-2, math.Inf(1), math.Copysign(0, -1), float64(r)*3.14159e-3-0.01)))
	case *array.StringBuilder:
		b.Append(texts[row%len(texts)])
	case *array.LargeStringBuilder:
		b.Append(texts[(row+1)%len(texts)])
	case *array.BinaryBuilder:
		v := []byte(fmt.Sprintf("\x00\xff%d-bytes", row))
		b.Append(v[:row%len(v)])
	case *array.FixedSizeBinaryBuilder:
		v := make([]byte, dt.(*arrow.FixedSizeBinaryType).ByteWidth)
		for i := range v {
			v[i] = byte(row*31 + i)
		}
		b.Append(v)
	case *array.Date32Builder:
		b.Append(pick(row, arrow.Date32(-719162), arrow.Date32(2932896), arrow.Date32(r*4000-20000)))
	case *array.Date64Builder:
		b.Append(arrow.Date64(pick(row, -62135596800000, 253402214400000, r*86400000*1000)))
	case *array.Time32Builder:
		b.Append(arrow.Time32(pick(row, 0, 86399999, int32(r)*3600000+123)))
	case *array.Time64Builder:
		unit := int64(1000)
		if dt.(*arrow.Time64Type).Unit == arrow.Nanosecond {
			unit = 1e6
		}
		b.Append(arrow.Time64(pick(row, 0, 86399999*unit+unit-1, r*3600000*unit+7)))
	case *array.TimestampBuilder:
		// Within ±9999 years at microsecond precision, so every format's
		// timestamp representation can hold it.
		v := pick(row, -62135596800000000, 253402214399999999, r*1700000000000000/7)
		switch dt.(*arrow.TimestampType).Unit {
		case arrow.Second:
			v /= 1e6
		case arrow.Millisecond:
			v /= 1e3
		case arrow.Nanosecond:
			v = pick(row, math.MinInt64, math.MaxInt64, v*1000+999)
		}
		b.Append(arrow.Timestamp(v))
	case *array.DurationBuilder:
		b.Append(arrow.Duration(pick(row, math.MinInt64, math.MaxInt64, r*-1e9)))
	case *array.Decimal128Builder:
		p := dt.(*arrow.Decimal128Type).Precision
		max := decimal128.GetMaxValue(p)
		b.Append(pick(row, max.Negate(), max, decimal128.FromI64(r*12345-60000)))
	case *array.ListBuilder:
		n := row % 4
		if row%5 == 4 {
			b.AppendEmptyValue()
			return
		}
		b.Append(true)
		et := dt.(*arrow.ListType).Elem()
		for i := 0; i < n; i++ {
			if i == 1 && dt.(*arrow.ListType).ElemField().Nullable {
				b.ValueBuilder().AppendNull()
				continue
			}
			appendValue(b.ValueBuilder(), et, row+i)
		}
	case *array.StructBuilder:
		b.Append(true)
		st := dt.(*arrow.StructType)
		for i, f := range st.Fields() {
			if f.Nullable && (row+i)%4 == 1 {
				b.FieldBuilder(i).AppendNull()
				continue
			}
			appendValue(b.FieldBuilder(i), f.Type, row+i)
		}
	case *array.MapBuilder:
		b.Append(true)
		mt := dt.(*arrow.MapType)
		for i := 0; i < row%3; i++ {
			b.KeyBuilder().(*array.StringBuilder).Append(fmt.Sprintf("k%d·%d", row, i))
			appendValue(b.ItemBuilder(), mt.ItemType(), row+i)
		}
	case *array.BinaryDictionaryBuilder:
		if err := b.AppendString([]string{"red", "grün", "青"}[row%3]); err != nil {
			panic(err)
		}
	default:
		panic(fmt.Sprintf("testrecords: no values for %s", dt))
	}
}

func pick[T any](row int, first, second, other T) T {
	switch row {
	case 0:
		return first
	case 1:
		return second
	}
	return other
}
