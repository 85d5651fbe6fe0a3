package windowtest

// The window helpers' cases and definitions, shared by the SDKs' tests so
// that each runs the same inputs against the same reference: the C SDK's
// (dw_hop, dw_session_add and dw_sessions_closed, in a native harness)
// and the AssemblyScript SDK's (hop, Sessions, in a module). Both speak
// one line protocol: a request "hop t w s" is answered by one line, how
// many windows hold t then the first 64 starts; a request "session gap
// lateness t…" (one key's rows in arrival order) by a line "late t" per
// row at or behind the watermark (the largest time seen minus lateness,
// as window_agg treats them), "closed start last" per session the
// watermark closes once a row is added, then "open start last" per
// session left at the end, then "end".

import (
	"fmt"
	"math"
	"math/big"
	"math/rand/v2"
	"slices"
	"strings"
)

// HopCase is a time and a sliding window's width and slide.
type HopCase struct{ T, W, S int64 }

// Request is the case as the harnesses read it.
func (c HopCase) Request() string { return fmt.Sprintf("hop %d %d %d", c.T, c.W, c.S) }

// Want is the answer the definition gives (HopRef), as a harness writes
// it.
func (c HopCase) Want() string {
	ref := HopRef(c.T, c.W, c.S)
	want := fmt.Sprint(len(ref))
	for _, s := range ref[:min(64, len(ref))] {
		want += fmt.Sprint(" ", s)
	}
	return want
}

// HopCases are random times, widths and slides, small and across all of
// int64, and edges: times at the ends of int64, slides over the width.
func HopCases() []HopCase {
	rng := rand.New(rand.NewPCG(18, 3))
	cases := []HopCase{{0, 60, 10}, {59, 60, 10}, {-1, 60, 10}, {65, 60, 60}, {5, 10, 20}, {15, 10, 20}, {7, 7, 7}, {-7, 10, 3},
		{math.MaxInt64, 60, 10}, {math.MinInt64, 60, 10}, {math.MinInt64 + 5, 60, 10}, {0, math.MaxInt64, math.MaxInt64 / 3},
		{math.MaxInt64, math.MaxInt64, math.MaxInt64}, {math.MinInt64, math.MaxInt64, math.MaxInt64 / 2}}
	for range 3000 {
		s := 1 + rng.Int64N(100)
		cases = append(cases, HopCase{rng.Int64N(20000) - 10000, 1 + rng.Int64N(300), s})
	}
	for range 200 {
		cases = append(cases, HopCase{int64(rng.Uint64()), 1 + rng.Int64N(math.MaxInt64), 1 + rng.Int64N(math.MaxInt64)})
	}
	return cases
}

// HopRef is the sliding windows holding t by their definition: every
// multiple k·s with t-w < k·s ≤ t, in exact arithmetic, earliest first,
// wrapped to 64 bits as the SDKs wrap a window starting before
// math.MinInt64.
func HopRef(t, w, s int64) []int64 {
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

// SessionCase is one key's rows in arrival order, each up to 2·gap after
// its event time.
type SessionCase struct {
	Gap, Lateness int64
	Rows          []int64
}

// Request is the case as the harnesses read it.
func (c SessionCase) Request() string {
	req := fmt.Sprintf("session %d %d", c.Gap, c.Lateness)
	for _, t := range c.Rows {
		req += fmt.Sprint(" ", t)
	}
	return req
}

// SessionCases are 400 keys' rows: gaps of 1 to 50, lateness up to
// three gaps, up to 120 rows each.
func SessionCases() []SessionCase {
	rng := rand.New(rand.NewPCG(18, 4))
	var cases []SessionCase
	for range 400 {
		gap := 1 + rng.Int64N(50)
		lateness := rng.Int64N(3 * gap)
		var rows []int64
		ts := rng.Int64N(1000) - 500
		for range 1 + rng.IntN(120) {
			ts += rng.Int64N(2 * gap)
			rows = append(rows, ts)
		}
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
		for k, j := range idx {
			arrived[k] = rows[j]
		}
		cases = append(cases, SessionCase{gap, lateness, arrived})
	}
	return cases
}

// SessionsRef is the sessions of rows (in arrival order) by definition:
// rows at or behind the watermark (largest time seen minus lateness) are
// late; the others, sorted, form a session while each is less than gap
// after the one before.
func SessionsRef(rows []int64, gap, lateness int64) (sessions [][2]int64, late []int64) {
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

// Check compares a harness's answer to the case (its lines before "end")
// with the definition: the sessions closed then left open, in order, are
// SessionsRef's over the rows not late, the late rows are its late ones,
// and the sessions closed are those the final watermark closes (whose
// span [start, last+gap) ends at or before it + 1). It returns how many
// were closed.
func (c SessionCase) Check(lines []string) (closed int, err error) {
	var got [][2]int64
	var late []int64
	for _, line := range lines {
		f := strings.Fields(line)
		if len(f) == 0 {
			return 0, fmt.Errorf("harness: empty line")
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
			return 0, fmt.Errorf("harness: %q", line)
		}
	}
	want, wantLate := SessionsRef(c.Rows, c.Gap, c.Lateness)
	if !slices.Equal(got, want) || !slices.Equal(late, wantLate) {
		return 0, fmt.Errorf("gap %d, lateness %d, rows %v:\nsessions %v late %v\nwant     %v late %v", c.Gap, c.Lateness, c.Rows, got, late, want, wantLate)
	}
	wm := slices.Max(c.Rows) - c.Lateness
	wantClosed := 0
	for _, s := range want {
		if wm-s[1] >= c.Gap-1 {
			wantClosed++
		}
	}
	if closed != wantClosed {
		return 0, fmt.Errorf("gap %d, lateness %d, watermark %d: %d sessions closed, want %d of %v", c.Gap, c.Lateness, wm, closed, wantClosed, want)
	}
	return closed, nil
}
