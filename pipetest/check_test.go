package pipetest

import (
	"testing"

	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// TestCellEqualFloats: floats match within a relative 1e-9, so a computed
// 0.1+0.2 matches the 0.3 a test writes; anything coarser does not, and
// NaN matches NaN, null only null.
func TestCellEqualFloats(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	b := array.NewFloat64Builder(mem)
	defer b.Release()
	// Computed at run time: Go folds 0.1 + 0.2 in constants exactly.
	x, y, zero := 0.1, 0.2, 0.0
	nan := zero / zero
	b.AppendValues([]float64{x + y, 0.3, 1, 1.000001, 1e300, 1.0000000001e300, nan, nan}, nil)
	b.AppendNull()
	a := b.NewFloat64Array()
	defer a.Release()
	tests := []struct {
		i, j int
		want bool
	}{
		{0, 1, true}, {2, 3, false}, {4, 5, true}, {6, 7, true}, {6, 2, false}, {8, 8, true}, {8, 2, false},
	}
	for _, tt := range tests {
		if got := cellEqual(a, tt.i, a, tt.j); got != tt.want {
			t.Errorf("cellEqual(%v, %v) = %v, want %v", a.ValueStr(tt.i), a.ValueStr(tt.j), got, tt.want)
		}
	}
}
