package guest

import (
	"math"
	"math/big"
	"math/rand/v2"
	"slices"
	"testing"
)

// hopRef is the windows holding t by definition, in exact arithmetic,
// wrapped to 64 bits as Hop wraps a window starting before MinInt64.
func hopRef(t, w, s int64) []int64 {
	bs := big.NewInt(s)
	k := new(big.Int).Div(big.NewInt(t), bs)
	lo := new(big.Int).Sub(big.NewInt(t), big.NewInt(w))
	mask := new(big.Int).SetUint64(math.MaxUint64)
	var out []int64
	for {
		st := new(big.Int).Mul(k, bs)
		if st.Cmp(lo) <= 0 {
			break
		}
		out = append(out, int64(new(big.Int).And(st, mask).Uint64()))
		k.Sub(k, big.NewInt(1))
	}
	slices.Reverse(out)
	return out
}

func TestHop(t *testing.T) {
	rng := rand.New(rand.NewPCG(18, 5))
	cases := [][3]int64{{0, 60, 10}, {-1, 60, 10}, {65, 60, 60}, {15, 10, 20}, {math.MaxInt64, 60, 10}, {math.MinInt64, 60, 10},
		{0, math.MaxInt64, math.MaxInt64 / 3}, {math.MaxInt64, math.MaxInt64, math.MaxInt64}, {math.MinInt64, math.MaxInt64, math.MaxInt64 / 2}}
	for range 3000 {
		cases = append(cases, [3]int64{rng.Int64N(20000) - 10000, 1 + rng.Int64N(300), 1 + rng.Int64N(100)})
	}
	for range 200 {
		cases = append(cases, [3]int64{int64(rng.Uint64()), 1 + rng.Int64N(math.MaxInt64), 1 + rng.Int64N(math.MaxInt64)})
	}
	for _, c := range cases {
		got := Hop(c[0], c[1], c[2], nil)
		if want := hopRef(c[0], c[1], c[2]); !slices.Equal(got, want) || len(got) > HopMax(c[1], c[2]) {
			t.Fatalf("Hop(%d, %d, %d) = %v, want %v (HopMax %d)", c[0], c[1], c[2], got, want, HopMax(c[1], c[2]))
		}
	}
}

// TestSessions: one key's rows out of order under a watermark give the
// sessions their definition gives over the rows not late (sorted, a
// session while each row is less than gap after the one before), each
// closed as soon as the watermark allows.
func TestSessions(t *testing.T) {
	rng := rand.New(rand.NewPCG(18, 6))
	early := 0
	for c := range 400 {
		gap := 1 + rng.Int64N(50)
		lateness := rng.Int64N(3 * gap)
		type row struct{ at, t int64 }
		var rows []row
		ts := rng.Int64N(1000) - 500
		for range 1 + rng.IntN(120) {
			ts += rng.Int64N(2 * gap)
			rows = append(rows, row{ts + rng.Int64N(2*gap), ts})
		}
		slices.SortStableFunc(rows, func(a, b row) int { return int(a.at - b.at) })
		var open, got []Session
		var late, kept []int64
		seen, hi, closed := false, int64(0), 0
		for _, r := range rows {
			if seen && r.t <= hi-lateness {
				late = append(late, r.t)
				continue
			}
			kept = append(kept, r.t)
			open, _ = SessionAdd(open, r.t, gap)
			if !seen || r.t > hi {
				hi, seen = r.t, true
			}
			k := SessionsClosed(open, hi-lateness, gap)
			got = append(got, open[:k]...)
			open = append(open[:0], open[k:]...)
			closed += k
		}
		got = append(got, open...)
		slices.Sort(kept)
		var want []Session
		for _, t := range kept {
			if n := len(want); n > 0 && t-want[n-1].Last < gap {
				want[n-1].Last = t
				continue
			}
			want = append(want, Session{t, t})
		}
		if !slices.Equal(got, want) {
			t.Fatalf("case %d (gap %d, lateness %d, late %v): sessions %v, want %v", c, gap, lateness, late, got, want)
		}
		wantClosed := 0
		for _, s := range want {
			if hi-lateness-s.Last >= gap-1 {
				wantClosed++
			}
		}
		if closed != wantClosed {
			t.Fatalf("case %d: %d sessions closed by the watermark, want %d", c, closed, wantClosed)
		}
		early += closed
	}
	if early == 0 {
		t.Fatal("the watermark closed no session")
	}
}
