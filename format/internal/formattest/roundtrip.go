package formattest

import (
	"bytes"
	"math"
	"math/big"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/dataweaver/dataweaver/format"
)

// Edge says which values a format's EdgeRecord holds beyond those every
// text format round-trips.
type Edge struct {
	// NonFinite puts NaN and infinities into the float columns; a format
	// that writes them as null (JSON has neither) leaves them out.
	NonFinite bool
	// Nested adds a struct column (with a list inside) and a list column.
	Nested bool
}

// EdgeRecord holds every type the format round-trips, with the values most
// likely to break a text encoding: extremes, signed zero, NaN and infinities
// (with e.NonFinite), text that needs quoting or escaping, non-ASCII, nested
// values (with e.Nested), nulls and empty values. The last row is all nulls.
func EdgeRecord(mem memory.Allocator, e Edge) arrow.RecordBatch {
	ts := func(u arrow.TimeUnit) arrow.DataType { return &arrow.TimestampType{Unit: u, TimeZone: "UTC"} }
	fields := []arrow.Field{
		{Name: "bool", Type: arrow.FixedWidthTypes.Boolean},
		{Name: "i8", Type: arrow.PrimitiveTypes.Int8},
		{Name: "i16", Type: arrow.PrimitiveTypes.Int16},
		{Name: "i32", Type: arrow.PrimitiveTypes.Int32},
		{Name: "i64", Type: arrow.PrimitiveTypes.Int64},
		{Name: "u8", Type: arrow.PrimitiveTypes.Uint8},
		{Name: "u16", Type: arrow.PrimitiveTypes.Uint16},
		{Name: "u32", Type: arrow.PrimitiveTypes.Uint32},
		{Name: "u64", Type: arrow.PrimitiveTypes.Uint64},
		{Name: "f32", Type: arrow.PrimitiveTypes.Float32},
		{Name: "f64", Type: arrow.PrimitiveTypes.Float64},
		{Name: "str", Type: arrow.BinaryTypes.String},
		{Name: "large, \"str\"", Type: arrow.BinaryTypes.LargeString},
		{Name: "bin", Type: arrow.BinaryTypes.Binary},
		{Name: "date", Type: arrow.FixedWidthTypes.Date32},
		{Name: "ts_s", Type: ts(arrow.Second)},
		{Name: "ts_ms", Type: ts(arrow.Millisecond)},
		{Name: "ts_us", Type: &arrow.TimestampType{Unit: arrow.Microsecond}},
		{Name: "ts_ns", Type: ts(arrow.Nanosecond)},
		{Name: "dec", Type: &arrow.Decimal128Type{Precision: 38, Scale: 10}},
	}
	if e.Nested {
		fields = append(fields,
			arrow.Field{Name: "obj", Type: arrow.StructOf(
				arrow.Field{Name: "n", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
				arrow.Field{Name: "tags", Type: arrow.ListOf(arrow.BinaryTypes.String), Nullable: true})},
			arrow.Field{Name: "list", Type: arrow.ListOf(arrow.PrimitiveTypes.Float64)})
	}
	for i := range fields {
		fields[i].Nullable = true
	}
	schema := arrow.NewSchema(fields, nil)
	b := array.NewRecordBuilder(mem, schema)
	defer b.Release()
	strs := []string{"", "a,b", `say "hi"`, "two\nlines\r\nand CRLF", "ünïcödé ✓ 日本", " padded ", "NULL", `"`, "\t"}
	nines := new(big.Int).Sub(new(big.Int).Exp(big.NewInt(10), big.NewInt(38), nil), big.NewInt(1))
	maxDec := decimal128.FromBigInt(nines) // the largest decimal128(38, s)
	// Rows 4 and 5 of the float columns are NaN and infinities, or finite
	// values that are as awkward to print.
	f32s := []float32{0.1, math.MaxFloat32, math.SmallestNonzeroFloat32, float32(math.Copysign(0, -1)), 1e-38, 3.4e38, -3.4028235e+38, 16777217, 1e-7}
	f64s := []float64{0.1, math.MaxFloat64, math.SmallestNonzeroFloat64, math.Copysign(0, -1), -1e-300, 123456789.125, -123.456, 1e21, 2.2250738585072014e-308}
	if e.NonFinite {
		f32s[4], f32s[5] = float32(math.NaN()), float32(math.Inf(1))
		f64s[4], f64s[5] = math.NaN(), math.Inf(-1)
	}
	const n = 9
	for i := range n {
		null := i == n-1 // the last row is all nulls
		for j := range fields {
			fb := b.Field(j)
			if null {
				fb.AppendNull()
				continue
			}
			switch fb := fb.(type) {
			case *array.BooleanBuilder:
				fb.Append(i%2 == 0)
			case *array.Int8Builder:
				fb.Append([]int8{math.MinInt8, math.MaxInt8, 0, -1}[i%4])
			case *array.Int16Builder:
				fb.Append([]int16{math.MinInt16, math.MaxInt16, 0, -1}[i%4])
			case *array.Int32Builder:
				fb.Append([]int32{math.MinInt32, math.MaxInt32, 0, -1}[i%4])
			case *array.Int64Builder:
				fb.Append([]int64{math.MinInt64, math.MaxInt64, 0, -1}[i%4])
			case *array.Uint8Builder:
				fb.Append([]uint8{0, math.MaxUint8}[i%2])
			case *array.Uint16Builder:
				fb.Append([]uint16{0, math.MaxUint16}[i%2])
			case *array.Uint32Builder:
				fb.Append([]uint32{0, math.MaxUint32}[i%2])
			case *array.Uint64Builder:
				fb.Append([]uint64{0, math.MaxUint64, 1 << 63}[i%3])
			case *array.Float32Builder:
				fb.Append(f32s[i])
			case *array.Float64Builder:
				fb.Append(f64s[i])
			case *array.StringBuilder:
				fb.Append(strs[i])
			case *array.LargeStringBuilder:
				fb.Append(strs[(i+3)%len(strs)])
			case *array.BinaryBuilder:
				fb.Append([][]byte{{}, {0, 1, 2, 255}, []byte("plain"), {'"', ',', '\n'}}[i%4])
			case *array.Date32Builder:
				fb.Append(arrow.Date32([]int32{0, -1, 19000, 2932896, -719162}[i%5]))
			case *array.TimestampBuilder:
				fb.Append(arrow.Timestamp([]int64{0, -1, 1_700_000_123, -86_400_001, 253402300799}[i%5]))
			case *array.StructBuilder:
				fb.Append(true)
				fb.FieldBuilder(0).(*array.Int64Builder).Append(int64(i))
				tags := fb.FieldBuilder(1).(*array.ListBuilder)
				if i%3 == 2 {
					tags.AppendNull()
				} else {
					tags.Append(true)
					for k := range i % 3 {
						tags.ValueBuilder().(*array.StringBuilder).Append(strs[(i+k)%len(strs)])
					}
				}
			case *array.ListBuilder:
				fb.Append(true)
				for k := range i % 4 {
					fb.ValueBuilder().(*array.Float64Builder).Append(float64(k) / 3)
				}
				if i%4 == 1 {
					fb.ValueBuilder().AppendNull()
				}
			case *array.Decimal128Builder:
				fb.Append([]decimal128.Num{decimal128.FromI64(0), maxDec, maxDec.Negate(), decimal128.FromI64(-1), decimal128.FromI64(12345678901)}[i%5])
			}
		}
	}
	return b.NewRecordBatch()
}

// sameRecords compares cell by cell; floats by bits (so -0 differs from 0)
// with any NaN equal to any NaN.
func sameRecords(t *testing.T, got, want arrow.RecordBatch) {
	t.Helper()
	if !got.Schema().Equal(want.Schema()) {
		t.Fatalf("schema:\n got %s\nwant %s", got.Schema(), want.Schema())
	}
	if got.NumRows() != want.NumRows() {
		t.Fatalf("%d rows, want %d", got.NumRows(), want.NumRows())
	}
	for j := range int(want.NumCols()) {
		g, w := got.Column(j), want.Column(j)
		name := want.Schema().Field(j).Name
		switch w := w.(type) {
		case *array.Float64:
			g := g.(*array.Float64)
			for i := range w.Len() {
				if !sameFloat(g.IsNull(i), w.IsNull(i), g.Value(i), w.Value(i)) {
					t.Errorf("%s row %d: got %v, want %v", name, i, g.Value(i), w.Value(i))
				}
			}
		case *array.Float32:
			g := g.(*array.Float32)
			for i := range w.Len() {
				if !sameFloat(g.IsNull(i), w.IsNull(i), float64(g.Value(i)), float64(w.Value(i))) {
					t.Errorf("%s row %d: got %v, want %v", name, i, g.Value(i), w.Value(i))
				}
			}
		default:
			if !array.Equal(g, w) {
				t.Errorf("%s:\n got %v\nwant %v", name, g, w)
			}
		}
	}
}

func sameFloat(gn, wn bool, g, w float64) bool {
	if gn || wn {
		return gn == wn
	}
	if math.IsNaN(w) {
		return math.IsNaN(g)
	}
	return math.Float64bits(g) == math.Float64bits(w)
}

// Options is one way of writing and reading the text of a round trip.
type Options struct {
	Name  string
	Write format.WriteOptions
	Read  format.ReadOptions
}

// RoundTrip writes EdgeRecord(e) with f under each set of options, reads it
// back with its schema and compares.
func RoundTrip(t *testing.T, f *format.Format, e Edge, cases []Options) {
	for _, tt := range cases {
		t.Run(tt.Name, func(t *testing.T) { roundTrip(t, f, e, tt.Write, tt.Read) })
	}
}

// roundTrip writes in two slices (so sliced arrays, with non-zero offsets,
// are covered); the text is logged when the test fails or runs with -v.
func roundTrip(t *testing.T, f *format.Format, e Edge, wopts format.WriteOptions, ropts format.ReadOptions) {
	t.Helper()
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	want := EdgeRecord(mem, e)
	defer want.Release()
	var buf bytes.Buffer
	w, err := f.NewWriter(&buf, want.Schema(), wopts)
	if err != nil {
		t.Fatal(err)
	}
	for _, part := range []arrow.RecordBatch{want.NewSlice(0, 4), want.NewSlice(4, want.NumRows())} {
		if err := w.Write(part); err != nil {
			t.Fatal(err)
		}
		part.Release()
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	ropts.Mem, ropts.Schema = mem, want.Schema()
	r, err := f.NewReader(format.Input{R: bytes.NewReader(buf.Bytes()), Name: "rt." + f.Name}, ropts)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var recs []arrow.RecordBatch
	for {
		rec, rej, err := r.Next()
		if err != nil {
			break
		}
		for _, e := range rej {
			t.Errorf("reject: %v", &e)
		}
		recs = append(recs, rec)
	}
	got := concat(t, mem, want.Schema(), recs)
	defer got.Release()
	sameRecords(t, got, want)
	if t.Failed() || testing.Verbose() {
		t.Logf("%s:\n%s", strings.ToUpper(f.Name), buf.String())
	}
}

// concat joins records into one (and releases them).
func concat(t *testing.T, mem memory.Allocator, schema *arrow.Schema, recs []arrow.RecordBatch) arrow.RecordBatch {
	t.Helper()
	cols := make([]arrow.Array, schema.NumFields())
	rows := int64(0)
	for j := range cols {
		parts := make([]arrow.Array, len(recs))
		for i, r := range recs {
			parts[i] = r.Column(j)
		}
		c, err := array.Concatenate(parts, mem)
		if err != nil {
			t.Fatal(err)
		}
		cols[j] = c
		defer c.Release()
	}
	for _, r := range recs {
		rows += r.NumRows()
		r.Release()
	}
	return array.NewRecordBatch(schema, cols, rows)
}
