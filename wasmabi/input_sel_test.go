package wasmabi

import (
	"strconv"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/decimal128"

	"github.com/dataweaver/dataweaver/connectors/conformance"
	"github.com/dataweaver/dataweaver/internal/gather"
)

// TestSelectedInputLayout: a flat column with a selection is gathered
// straight into guest memory (input_sel.go); read back by the output
// validator, which checks every offset, it builds the same array as
// gathering the rows first (gather.Take) does, with the selected rows'
// null count in its descriptor and no validity bitmap when they have none. Every flat layout, sliced (so bits start
// mid-byte), with selections of long runs, short runs, none and all.
func TestSelectedInputLayout(t *testing.T) {
	mem := conformance.Checked(t)
	const n = 70
	types := []arrow.DataType{
		arrow.FixedWidthTypes.Boolean, arrow.PrimitiveTypes.Int8, arrow.PrimitiveTypes.Int16,
		arrow.PrimitiveTypes.Float32, arrow.PrimitiveTypes.Int64, &arrow.Decimal128Type{Precision: 20, Scale: 2},
		arrow.BinaryTypes.String, arrow.BinaryTypes.Binary, arrow.BinaryTypes.LargeString, arrow.BinaryTypes.LargeBinary,
	}
	var most, every3, all []int
	for i := range n - 3 {
		all = append(all, i)
		if i%13 != 5 {
			most = append(most, i)
		}
		if i%3 == 0 {
			every3 = append(every3, i)
		}
	}
	sels := map[string][]int{"most": most, "every third": every3, "all": all, "none": {}, "ends": {0, n - 4}}
	for _, dt := range types {
		for _, nulls := range []bool{false, true} {
			b := array.NewBuilder(mem, dt)
			for r := range n {
				switch {
				case nulls && r%7 == 2:
					b.AppendNull()
				case dt.ID() == arrow.BOOL:
					b.(*array.BooleanBuilder).Append(r%3 == 1)
				case dt.ID() == arrow.DECIMAL128:
					b.(*array.Decimal128Builder).Append(decimal128.FromI64(int64(r * 101)))
				case arrow.IsBaseBinary(dt.ID()):
					b.(interface{ AppendString(string) }).AppendString("é" + strconv.Itoa(r*r))
				default:
					if err := b.AppendValueFromString(strconv.Itoa(r % 100)); err != nil {
						t.Fatal(err)
					}
				}
			}
			whole := b.NewArray()
			b.Release()
			a := array.NewSlice(whole, 3, n) // bits from mid-byte
			whole.Release()
			_, code, err := typeName(dt)
			if err != nil {
				t.Fatal(err)
			}
			for name, sel := range sels {
				want, err := gather.Take(mem, a, sel)
				if err != nil {
					t.Fatal(err)
				}
				rows := gather.NewRows(sel)
				c := inCol{index: 7, code: code, arr: a, sel: rows}
				if lay, _ := layoutOf(code); lay.offsets > 0 {
					c.selVals = selVarSize(a, lay.offsets, rows)
				}
				cols := []inCol{c}
				// An arena 8-aligned and one that is not: typed and
				// byte-wise offsets.
				for _, base := range []int{4096, 4098} {
					guest := make([]byte, base+layoutSize(cols))
					for i := range guest {
						guest[i] = 0xa5 // stale bytes: the layout must overwrite what it uses
					}
					writeBatch(guest[base:], uint32(base), rows.Len(), cols)
					d := guest[base+batchHeader:]
					if got := int(le.Uint32(d[8:])); got != want.NullN() {
						t.Errorf("%s nulls=%v %s base %d: descriptor says %d nulls, want %d", dt, nulls, name, base, got, want.NullN())
					}
					if vp := le.Uint32(d[12:]); (vp == 0) != (want.NullN() == 0) {
						t.Errorf("%s nulls=%v %s base %d: validity pointer %#x with %d nulls (0 means none, ABI.md)", dt, nulls, name, base, vp, want.NullN())
					}
					cv, err := readColumn(guest, d, len(sel), outCol{name: "c", code: code})
					if err != nil {
						t.Fatalf("%s nulls=%v %s base %d: %v", dt, nulls, name, base, err)
					}
					got := buildArray(unpooled(mem), dt, code, len(sel), cv)
					if !array.Equal(got, want) {
						t.Errorf("%s nulls=%v %s base %d: the guest saw %s, want %s", dt, nulls, name, base, got, want)
					}
					got.Release()
				}
				want.Release()
			}
			a.Release()
		}
	}
}
