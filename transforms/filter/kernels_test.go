package main

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"
)

// ref is the per-row semantics the kernels replace: null rows never
// match, otherwise float64(v) op x.
func ref(op string, v, x float64) bool {
	switch op {
	case "==":
		return v == x
	case "!=":
		return v != x
	case "<":
		return v < x
	case "<=":
		return v <= x
	case ">":
		return v > x
	case ">=":
		return v >= x
	}
	panic(op)
}

func kernelFor[T number](op string) (func([]byte, []T, float64, float64, byte), float64, byte) {
	switch op {
	case "==":
		return fillEQ[T], 1, 0
	case "!=":
		return fillEQ[T], 1, 0xff
	case "<":
		return fillGT[T], -1, 0
	case "<=":
		return fillGE[T], -1, 0
	case ">":
		return fillGT[T], 1, 0
	}
	return fillGE[T], 1, 0
}

func checkKernels[T number](t *testing.T, vals []T, xs []float64) {
	t.Helper()
	r := rand.New(rand.NewPCG(3, 4))
	for _, n := range []int{0, 1, 7, 8, 9, 63, 64, 65, 127, 128, 200, len(vals)} {
		n = min(n, len(vals))
		valid := make([]byte, (n+7)/8)
		for i := range valid {
			valid[i] = byte(r.Uint32())
		}
		for _, op := range []string{"==", "!=", "<", "<=", ">", ">="} {
			for _, x := range xs {
				k, sign, inv := kernelFor[T](op)
				for _, nulls := range []bool{false, true} {
					sel := make([]byte, (n+7)/8)
					for i := range sel {
						sel[i] = 0xa5 // kernels must write every byte
					}
					k(sel, vals[:n], sign, sign*x, inv)
					var vb []byte
					if nulls {
						vb = valid
					}
					andValid(sel, vb)
					for i := range n {
						want := ref(op, float64(vals[i]), x) && (!nulls || valid[i>>3]&(1<<(i&7)) != 0)
						if got := sel[i>>3]&(1<<(i&7)) != 0; got != want {
							t.Fatalf("n=%d %v %s %v (row %d, nulls %v): kept %v, want %v", n, vals[i], op, x, i, nulls, got, want)
						}
					}
					if n%8 != 0 && sel[n>>3]>>(n&7) != 0 {
						t.Fatalf("n=%d %s %v: bits past the last row set: %08b", n, op, x, sel[n>>3])
					}
				}
			}
		}
	}
}

func TestNumberKernels(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	specials := []float64{0, math.Copysign(0, -1), math.NaN(), math.Inf(1), math.Inf(-1), 1, -1, 0.5, -7, 1e300}
	f := make([]float64, 300)
	i64 := make([]int64, 300)
	i32 := make([]int32, 300)
	for i := range f {
		if i%3 == 0 {
			f[i] = specials[r.IntN(len(specials))]
		} else {
			f[i] = float64(r.IntN(9)-4) / 2
		}
		i64[i] = int64(r.IntN(9) - 4)
		i32[i] = int32(r.IntN(9) - 4)
	}
	i64[5], i64[6] = math.MaxInt64, math.MinInt64
	i32[5], i32[6] = math.MaxInt32, math.MinInt32
	xs := []float64{0, math.Copysign(0, -1), 1, -1, 0.5, -1.5, math.NaN(), math.Inf(1), math.Inf(-1), 1e300}
	t.Run("float64", func(t *testing.T) { checkKernels(t, f, xs) })
	t.Run("int64", func(t *testing.T) { checkKernels(t, i64, xs) })
	t.Run("int32", func(t *testing.T) { checkKernels(t, i32, xs) })
}

func TestStrEq(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	pool := []string{"", "X", "XX", "XXX", "FR", "XXXXXXXX", "XXXXXXXXX", "xx", "XY", "YX", "XX\x00", "\x00XX"}
	for _, n := range []int{0, 1, 7, 8, 9, 16, 17, 100} {
		rows := make([]string, n)
		for i := range rows {
			rows[i] = pool[r.IntN(len(pool))]
		}
		// A trailing run of short values so the last rows sit within 8
		// bytes of the end of data (the per-row path).
		if n > 4 {
			rows[n-1], rows[n-2], rows[n-3] = "", "X", "XX"
		}
		data := []byte(strings.Join(rows, ""))
		o32 := make([]int32, n+1)
		o64 := make([]int64, n+1)
		for i, s := range rows {
			o32[i+1] = o32[i] + int32(len(s))
			o64[i+1] = o64[i] + int64(len(s))
		}
		for _, want := range pool {
			for _, inv := range []byte{0, 0xff} {
				s32 := make([]byte, (n+7)/8)
				s64 := make([]byte, (n+7)/8)
				strEq(s32, o32, data, want, inv)
				strEq(s64, o64, data, want, inv)
				for i, s := range rows {
					exp := (s == want) != (inv != 0)
					if got := s32[i>>3]&(1<<(i&7)) != 0; got != exp {
						t.Fatalf("n=%d row %d %q vs %q inv %x: kept %v, want %v", n, i, s, want, inv, got, exp)
					}
					if got := s64[i>>3]&(1<<(i&7)) != 0; got != exp {
						t.Fatalf("large offsets: n=%d row %d %q vs %q inv %x: kept %v, want %v", n, i, s, want, inv, got, exp)
					}
				}
				if n%8 != 0 && (s32[n>>3]>>(n&7) != 0 || s64[n>>3]>>(n&7) != 0) {
					t.Fatalf("n=%d: bits past the last row set", n)
				}
			}
		}
	}
}
