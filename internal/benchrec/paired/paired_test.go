package paired

import (
	"testing"
)

var sink uint64

func spin(n int) {
	x := sink
	for i := range n {
		x = x*6364136223846793005 + uint64(i)
	}
	sink = x
}

// TestRatio: a variant doing twice the work of the first reports a ratio
// near 2, wall and CPU, whatever else the machine runs meanwhile (the
// point of alternating them).
func TestRatio(t *testing.T) {
	const n = 20000
	r := testing.Benchmark(func(b *testing.B) {
		Run(b, 16, Variant{"one", func() { spin(n) }}, Variant{"two", func() { spin(2 * n) }})
	})
	for _, unit := range []string{"two/one", "two/one-cpu"} {
		got, ok := r.Extra[unit]
		if !ok {
			t.Fatalf("no %q metric in %v", unit, r.Extra)
		}
		// Wide bounds: the blocks alternate, but a shared machine can still
		// stall one block more than its neighbour.
		if got < 1.4 || got > 2.8 {
			t.Errorf("%s = %.2f, want about 2", unit, got)
		}
	}
	for _, unit := range []string{"one-ns/batch", "two-cpu-ns/batch"} {
		if r.Extra[unit] <= 0 {
			t.Errorf("%s = %v, want > 0", unit, r.Extra[unit])
		}
	}
}
