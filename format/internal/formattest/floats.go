package formattest

import (
	"bytes"
	"math"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/dataweaver/dataweaver/format"
)

// FloatsStayFloats writes float64 and float32 columns with f and reads them
// back without a schema: each must be inferred as float64, and the float64
// values must come back bit for bit, -0 included (issue 10: 461.0 written
// as "461" came back as an int64 column). A column of whole numbers only is
// the trap; nonFinite adds NaN and ±Inf, for the formats that write them
// (JSON has neither).
func FloatsStayFloats(t *testing.T, f *format.Format, nonFinite bool) {
	t.Helper()
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	negZero := math.Copysign(0, -1)
	// Each whole-number column alone: small ones (written by the
	// two-decimal fast path), zeros (the sign of -0), big ones (strconv).
	cents := []float64{461, -3, 100, 999999, 7}
	zeros := []float64{negZero, 0}
	whole := []float64{1e6, 1e20, 1e21, 1e22, 1 << 53, 1 << 63, 12345678901234567890, math.MaxFloat64}
	mixed := []float64{0.1, 123.45, -0.5, 999999.99, 1e-7, 1.5e-7, math.SmallestNonzeroFloat64, -1e300, 12345678.9, 0.30000000000000004}
	mixed = append(append(append(mixed, cents...), zeros...), whole...)
	if nonFinite {
		mixed = append(mixed, math.NaN(), math.Inf(1), math.Inf(-1))
	}
	whole32 := []float32{461, float32(negZero), 0, -3, 16777216, 1e20, 1e21, 3e38}
	n := len(mixed)
	schema := arrow.NewSchema([]arrow.Field{
		{Name: "cents", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
		{Name: "zeros", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
		{Name: "whole", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
		{Name: "mixed", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
		{Name: "whole32", Type: arrow.PrimitiveTypes.Float32, Nullable: true},
	}, nil)
	b := array.NewRecordBuilder(mem, schema)
	defer b.Release()
	for i := range n {
		for c, vals := range [][]float64{cents, zeros, whole, mixed} {
			b.Field(c).(*array.Float64Builder).Append(vals[i%len(vals)])
		}
		b.Field(4).(*array.Float32Builder).Append(whole32[i%len(whole32)])
	}
	rec := b.NewRecordBatch()
	defer rec.Release()

	var buf bytes.Buffer
	w, err := f.NewWriter(&buf, schema, format.WriteOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Write(rec); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	text := buf.String()
	r, err := f.NewReader(format.Input{R: &buf, Name: "floats." + f.Name}, format.ReadOptions{Mem: mem})
	if err != nil {
		t.Fatal(err)
	}
	_, recs := Records(t, "floats."+f.Name, r)
	defer func() {
		for _, r := range recs {
			r.Release()
		}
	}()
	if len(recs) != 1 || recs[0].NumRows() != int64(n) {
		t.Fatalf("read %d records, want one of %d rows:\n%s", len(recs), n, text)
	}
	got := recs[0]
	for i, fld := range got.Schema().Fields() {
		if fld.Type.ID() != arrow.FLOAT64 {
			t.Errorf("column %s read back as %s, want float64:\n%s", fld.Name, fld.Type, text)
			continue
		}
		col := got.Column(i).(*array.Float64)
		for j := range n {
			switch i {
			case 0, 1, 2, 3:
				want := rec.Column(i).(*array.Float64).Value(j)
				if !sameFloat(col.IsNull(j), false, col.Value(j), want) {
					t.Errorf("%s[%d] = %v (bits %x), want %v (bits %x)", fld.Name, j, col.Value(j), math.Float64bits(col.Value(j)), want, math.Float64bits(want))
				}
			case 4:
				want := rec.Column(i).(*array.Float32).Value(j)
				if g := float32(col.Value(j)); col.IsNull(j) || math.Float32bits(g) != math.Float32bits(want) {
					t.Errorf("%s[%d] = %v, want %v", fld.Name, j, g, want)
				}
			}
		}
	}
}
