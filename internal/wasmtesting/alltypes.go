package wasmtesting

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// AllTypes has a column of every type ABI v1 carries, a dictionary
// column (decoded by the host) and a list column (which it cannot pass:
// a stage must leave it alone). The SDKs' whole-API check stages read it.
var AllTypes = arrow.NewSchema([]arrow.Field{
	{Name: "b", Type: arrow.FixedWidthTypes.Boolean, Nullable: true},
	{Name: "i8", Type: arrow.PrimitiveTypes.Int8, Nullable: true},
	{Name: "i16", Type: arrow.PrimitiveTypes.Int16, Nullable: true},
	{Name: "i32", Type: arrow.PrimitiveTypes.Int32, Nullable: true},
	{Name: "i64", Type: arrow.PrimitiveTypes.Int64},
	{Name: "u8", Type: arrow.PrimitiveTypes.Uint8, Nullable: true},
	{Name: "u16", Type: arrow.PrimitiveTypes.Uint16, Nullable: true},
	{Name: "u32", Type: arrow.PrimitiveTypes.Uint32, Nullable: true},
	{Name: "u64", Type: arrow.PrimitiveTypes.Uint64, Nullable: true},
	{Name: "f32", Type: arrow.PrimitiveTypes.Float32, Nullable: true},
	{Name: "f64", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
	{Name: "d32", Type: arrow.FixedWidthTypes.Date32, Nullable: true},
	{Name: "ts", Type: &arrow.TimestampType{Unit: arrow.Millisecond}, Nullable: true},
	{Name: "tsz", Type: &arrow.TimestampType{Unit: arrow.Microsecond, TimeZone: "UTC"}, Nullable: true},
	{Name: "dec", Type: &arrow.Decimal128Type{Precision: 10, Scale: 2}, Nullable: true},
	{Name: "s", Type: arrow.BinaryTypes.String, Nullable: true},
	{Name: "bin", Type: arrow.BinaryTypes.Binary, Nullable: true},
	{Name: "ls", Type: arrow.BinaryTypes.LargeString, Nullable: true},
	{Name: "lb", Type: arrow.BinaryTypes.LargeBinary, Nullable: true},
	{Name: "dict", Type: &arrow.DictionaryType{IndexType: arrow.PrimitiveTypes.Int16, ValueType: arrow.BinaryTypes.String}, Nullable: true},
	{Name: "list", Type: arrow.ListOf(arrow.PrimitiveTypes.Int32), Nullable: true},
}, nil)

// AllTypesRecord fills n random rows of AllTypes (a function of seed),
// with nulls in every nullable column; floats are any bit pattern (NaNs
// and infinities included), strings include empty, multi-byte and long ones.
func AllTypesRecord(mem memory.Allocator, n int, seed uint64) arrow.RecordBatch {
	r := rand.New(rand.NewPCG(seed, 9))
	b := array.NewRecordBuilder(mem, AllTypes)
	defer b.Release()
	words := []string{"", "a", "héllo", "日本語", "a@b.c", strings.Repeat("long ", 30)}
	for range n {
		for j, f := range AllTypes.Fields() {
			if f.Nullable && r.IntN(5) == 0 {
				b.Field(j).AppendNull()
				continue
			}
			switch fb := b.Field(j).(type) {
			case *array.BooleanBuilder:
				fb.Append(r.IntN(2) == 0)
			case *array.Int8Builder:
				fb.Append(int8(r.Uint32()))
			case *array.Int16Builder:
				fb.Append(int16(r.Uint32()))
			case *array.Int32Builder:
				fb.Append(int32(r.Uint32()))
			case *array.Int64Builder:
				fb.Append(int64(r.Uint64()))
			case *array.Uint8Builder:
				fb.Append(uint8(r.Uint32()))
			case *array.Uint16Builder:
				fb.Append(uint16(r.Uint32()))
			case *array.Uint32Builder:
				fb.Append(r.Uint32())
			case *array.Uint64Builder:
				fb.Append(r.Uint64())
			case *array.Float32Builder:
				fb.Append(math.Float32frombits(r.Uint32()))
			case *array.Float64Builder:
				fb.Append(math.Float64frombits(r.Uint64()))
			case *array.Date32Builder:
				fb.Append(arrow.Date32(r.Int32()))
			case *array.TimestampBuilder:
				fb.Append(arrow.Timestamp(r.Int64()))
			case *array.Decimal128Builder:
				fb.Append(decimal128.New(int64(r.Uint64()), r.Uint64()))
			case *array.StringBuilder:
				fb.Append(words[r.IntN(len(words))])
			case *array.BinaryBuilder: // binary and large_binary
				fb.Append([]byte(words[r.IntN(len(words))] + "\xff"))
			case *array.LargeStringBuilder:
				fb.Append(words[r.IntN(len(words))])
			case *array.BinaryDictionaryBuilder:
				_ = fb.AppendString(words[r.IntN(3)])
			case *array.ListBuilder:
				fb.Append(true)
				fb.ValueBuilder().(*array.Int32Builder).Append(int32(r.IntN(9)))
			}
		}
	}
	return b.NewRecordBatch()
}

// AllTypesInputs are AllTypesRecord batches of 0, 1, 7, 64 and 1000 rows
// and two slices of a 300-row batch at offsets 3 and 13 (so the host
// re-bases offsets and re-packs bitmaps), by name; each is released in
// t.Cleanup.
func AllTypesInputs(tb testing.TB, mem memory.Allocator) map[string]arrow.RecordBatch {
	recs := map[string]arrow.RecordBatch{}
	for _, n := range []int{0, 1, 7, 64, 1000} {
		recs[fmt.Sprintf("n=%d", n)] = Release(tb, AllTypesRecord(mem, n, uint64(n)))
	}
	for _, off := range []int64{3, 13} {
		whole := AllTypesRecord(mem, 300, uint64(off))
		recs[fmt.Sprintf("sliced+%d", off)] = Release(tb, whole.NewSlice(off, 250))
		whole.Release()
	}
	return recs
}

// Value renders row i of a column so that equal renderings mean equal
// values: floats by their bits, byte strings in hex, dictionary entries
// as their value.
func Value(a arrow.Array, i int) string {
	if a.IsNull(i) {
		return "null"
	}
	switch v := a.(type) {
	case *array.Float32:
		return fmt.Sprintf("%08x", math.Float32bits(v.Value(i)))
	case *array.Float64:
		return fmt.Sprintf("%016x", math.Float64bits(v.Value(i)))
	case *array.Binary:
		return fmt.Sprintf("%x", v.Value(i))
	case *array.LargeBinary:
		return fmt.Sprintf("%x", v.Value(i))
	case *array.Dictionary:
		return Value(v.Dictionary(), v.GetValueIndex(i))
	}
	return a.ValueStr(i)
}

// Rows renders every row of rec with Value.
func Rows(rec arrow.RecordBatch) [][]string {
	rows := make([][]string, rec.NumRows())
	for i := range rows {
		for _, c := range rec.Columns() {
			rows[i] = append(rows[i], Value(c, i))
		}
	}
	return rows
}
