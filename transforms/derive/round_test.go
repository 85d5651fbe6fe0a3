package main

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestRound: round must give exactly math.Round's result (bits, so the
// sign of zero and NaN count) on edge values and random ones.
func TestRound(t *testing.T) {
	vals := []float64{
		0, math.Copysign(0, -1), math.NaN(), math.Inf(1), math.Inf(-1),
		math.MaxFloat64, -math.MaxFloat64, math.SmallestNonzeroFloat64, -math.SmallestNonzeroFloat64,
		0.49999999999999994, -0.49999999999999994, 0.5000000000000001, -0.5000000000000001,
		1 << 52, -(1 << 52), 1<<52 + 1, 1<<53 + 2, 1 << 62, 1 << 63, -(1 << 63), 1 << 64,
		1<<52 - 0.5, -(1<<52 - 0.5), 1<<51 + 0.5, -(1<<51 + 0.5),
		float64(math.MaxInt64), float64(math.MinInt64), 9.2233720368547748e18,
		123.455 * 100, -123.455 * 100, 0.1 * 100, 1.005 * 100,
	}
	for i := -40; i <= 40; i++ {
		x := float64(i) / 2 // ±0.5 steps
		vals = append(vals, x, math.Nextafter(x, math.Inf(1)), math.Nextafter(x, math.Inf(-1)))
	}
	r := rand.New(rand.NewPCG(1, 2))
	for range 200000 {
		vals = append(vals, (r.Float64()-0.5)*math.Pow(2, float64(r.IntN(130)-60)))
		vals = append(vals, math.Float64frombits(r.Uint64()))
	}
	for _, x := range vals {
		if got, want := round(x), math.Round(x); math.Float64bits(got) != math.Float64bits(want) &&
			!(math.IsNaN(got) && math.IsNaN(want)) {
			t.Fatalf("round(%v (%#x)) = %v, math.Round = %v", x, math.Float64bits(x), got, want)
		}
		y := math.Round(x)
		want := uint64(0)
		if math.IsNaN(y) || y >= lim || y < -lim {
			want = 1
		}
		if got := outside(y); got != want {
			t.Fatalf("outside(%v) = %d, want %d", y, got, want)
		}
	}
}
