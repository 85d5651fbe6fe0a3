package sdktest_test

import (
	"bufio"
	"fmt"
	"math"
	"math/big"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

// hopRef is the sliding windows holding t by their definition: every
// multiple k·s with t-w < k·s ≤ t, in exact arithmetic, earliest first,
// wrapped to 64 bits as the SDKs wrap a window starting before
// math.MinInt64.
func hopRef(t, w, s int64) []int64 {
	bt, bw, bs := big.NewInt(t), big.NewInt(w), big.NewInt(s)
	k := new(big.Int).Div(bt, bs) // Euclidean: floor for s > 0
	lo := new(big.Int).Sub(bt, bw)
	var starts []int64
	mask := new(big.Int).SetUint64(math.MaxUint64)
	for {
		st := new(big.Int).Mul(k, bs)
		if st.Cmp(lo) <= 0 {
			break
		}
		starts = append(starts, int64(new(big.Int).And(st, mask).Uint64()))
		k.Sub(k, big.NewInt(1))
	}
	slices.Reverse(starts)
	return starts
}

// TestWindowHop: dw_hop answers as the definition, on random times and
// widths and at the ends of int64.
func TestWindowHop(t *testing.T) {
	p := start(t, "window")
	defer p.close(t)
	rng := rand.New(rand.NewPCG(18, 3))
	type c struct{ t, w, s int64 }
	cases := []c{{0, 60, 10}, {59, 60, 10}, {-1, 60, 10}, {65, 60, 60}, {5, 10, 20}, {15, 10, 20}, {7, 7, 7}, {-7, 10, 3},
		{math.MaxInt64, 60, 10}, {math.MinInt64, 60, 10}, {math.MinInt64 + 5, 60, 10}, {0, math.MaxInt64, math.MaxInt64 / 3},
		{math.MaxInt64, math.MaxInt64, math.MaxInt64}, {math.MinInt64, math.MaxInt64, math.MaxInt64 / 2}}
	for range 3000 {
		s := 1 + rng.Int64N(100)
		cases = append(cases, c{rng.Int64N(20000) - 10000, 1 + rng.Int64N(300), s})
	}
	for range 200 {
		cases = append(cases, c{int64(rng.Uint64()), 1 + rng.Int64N(math.MaxInt64), 1 + rng.Int64N(math.MaxInt64)})
	}
	w := bufio.NewWriter(p.in)
	for _, tc := range cases {
		fmt.Fprintf(w, "hop %d %d %d\n", tc.t, tc.w, tc.s)
	}
	go w.Flush()
	for _, tc := range cases {
		line, err := p.out.ReadString('\n')
		if err != nil {
			t.Fatal(err)
		}
		ref := hopRef(tc.t, tc.w, tc.s)
		want := fmt.Sprint(len(ref))
		for _, s := range ref[:min(64, len(ref))] {
			want += fmt.Sprint(" ", s)
		}
		if got := strings.TrimSpace(line); got != want {
			t.Errorf("dw_hop(%d, %d, %d) = %s, want %s", tc.t, tc.w, tc.s, got, want)
		}
	}
}

// sessionsRef is the sessions of rows (in arrival order) by definition:
// rows at or behind the watermark (largest time seen minus lateness) are
// late; the others, sorted, form a session while each is less than gap
// after the one before.
func sessionsRef(rows []int64, gap, lateness int64) (sessions [][2]int64, late []int64) {
	var kept []int64
	seen, max := false, int64(0)
	for _, t := range rows {
		if seen && t <= max-lateness {
			late = append(late, t)
			continue
		}
		kept = append(kept, t)
		if !seen || t > max {
			max, seen = t, true
		}
	}
	slices.Sort(kept)
	for _, t := range kept {
		if n := len(sessions); n > 0 && t-sessions[n-1][1] < gap {
			sessions[n-1][1] = t
			continue
		}
		sessions = append(sessions, [2]int64{t, t})
	}
	return sessions, late
}

// TestWindowSessions: dw_session_add and dw_sessions_closed, fed one
// key's rows out of order under a watermark, give the sessions their
// definition gives over the rows not late, and close some before the end.
func TestWindowSessions(t *testing.T) {
	p := start(t, "window")
	defer p.close(t)
	rng := rand.New(rand.NewPCG(18, 4))
	closedEarly := 0
	for i := range 400 {
		gap := 1 + rng.Int64N(50)
		lateness := rng.Int64N(3 * gap)
		var rows []int64
		ts := rng.Int64N(1000) - 500
		for range 1 + rng.IntN(120) {
			ts += rng.Int64N(2 * gap)
			rows = append(rows, ts)
		}
		// Arrival order: each row up to 2·gap late.
		at := make([]int64, len(rows))
		for k, r := range rows {
			at[k] = r + rng.Int64N(2*gap)
		}
		idx := make([]int, len(rows))
		for k := range idx {
			idx[k] = k
		}
		slices.SortStableFunc(idx, func(a, b int) int { return int(at[a] - at[b]) })
		arrived := make([]int64, len(rows))
		req := fmt.Sprintf("session %d %d", gap, lateness)
		for k, j := range idx {
			arrived[k] = rows[j]
			req += fmt.Sprint(" ", rows[j])
		}
		if _, err := fmt.Fprintln(p.in, req); err != nil {
			t.Fatal(err)
		}
		var got [][2]int64
		var late []int64
		closed := 0
		for {
			line, err := p.out.ReadString('\n')
			if err != nil {
				t.Fatal(err)
			}
			f := strings.Fields(line)
			if f[0] == "end" {
				break
			}
			var a, b int64
			fmt.Sscan(strings.Join(f[1:], " "), &a, &b)
			switch f[0] {
			case "late":
				late = append(late, a)
			case "closed", "open":
				if f[0] == "closed" {
					closed++
				}
				got = append(got, [2]int64{a, b})
			default:
				t.Fatalf("harness: %q", line)
			}
		}
		want, wantLate := sessionsRef(arrived, gap, lateness)
		if !slices.Equal(got, want) || !slices.Equal(late, wantLate) {
			t.Fatalf("case %d (gap %d, lateness %d, rows %v):\nsessions %v late %v\nwant     %v late %v", i, gap, lateness, arrived, got, late, want, wantLate)
		}
		// Closed as soon as the final watermark allows: a session whose
		// span [start, last+gap) ends at or before the watermark + 1.
		wm := slices.Max(arrived) - lateness
		wantClosed := 0
		for _, s := range want {
			if wm-s[1] >= gap-1 {
				wantClosed++
			}
		}
		if closed != wantClosed {
			t.Fatalf("case %d (gap %d, lateness %d, watermark %d): %d sessions closed, want %d of %v", i, gap, lateness, wm, closed, wantClosed, want)
		}
		closedEarly += closed
	}
	if closedEarly == 0 {
		t.Fatal("the watermark closed no session before the end: dw_sessions_closed is untested")
	}
}
