package sdktest_test

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/dataweaver/dataweaver/internal/wasmtesting"
)

// The "windows" mode's parameters, as testdata/check/windows.go sets them.
const (
	sessionGap = 200
	lateness   = 300
)

func hopWidth(i int) int64 { return 20 + int64(i%50) }
func hopSlide(i int) int64 { return 1 + int64(i%30) }

// wantHop counts, by brute force over the starts a window holding t
// could have (t-w < start ≤ t), those at a multiple of s; first is the
// earliest. No SDK code: the definition only.
func wantHop(t, w, s int64) (n int, first int64) {
	for x := t - w + 1; x <= t; x++ {
		if ((x%s)+s)%s == 0 {
			if n == 0 {
				first = x
			}
			n++
		}
	}
	return n, first
}

// wantSessions gives, from the definition (sorted times, a session while
// each is less than gap after the one before), the session [lo, hi] of
// the times ts holding t, and how many sessions end (hi+gap) at or
// before wm+1.
func wantSessions(ts []int64, t, wm int64) (lo, hi int64, closed int) {
	sorted := slices.Sorted(slices.Values(ts))
	first := 0
	for j := range sorted {
		if j > 0 && sorted[j]-sorted[j-1] >= sessionGap {
			first = j
		}
		end := j == len(sorted)-1 || sorted[j+1]-sorted[j] >= sessionGap
		if !end {
			continue
		}
		if sorted[first] <= t && t <= sorted[j] {
			lo, hi = sorted[first], sorted[j]
		}
		if sorted[j]+sessionGap <= wm+1 {
			closed++
		}
	}
	return lo, hi, closed
}

// denseTimes is an AllTypes batch whose i16 times sit on the edges: a
// row gap-1 and one gap after the last, a watermark (max - lateness)
// exactly and one short of closing a session, rows bridging two
// sessions, then 400 rows in a range of 2000 (a null every 7th), so
// that exact ties at every boundary occur.
func denseTimes(t *testing.T, mem memory.Allocator) arrow.RecordBatch {
	times := []int64{0, 199, 399, 897, 898, 600, 500, 1500, 1301, 1100, 1300}
	r := rand.New(rand.NewPCG(18, 7))
	for range 400 {
		times = append(times, r.Int64N(2000)-1000)
	}
	b := array.NewInt16Builder(mem)
	defer b.Release()
	for i, x := range times {
		if i > 20 && i%7 == 0 {
			b.AppendNull()
		} else {
			b.Append(int16(x))
		}
	}
	i16 := wasmtesting.Release(t, b.NewArray())
	base := wasmtesting.Release(t, wasmtesting.AllTypesRecord(mem, len(times), 7))
	cols := slices.Clone(base.Columns())
	cols[base.Schema().FieldIndices("i16")[0]] = i16
	return wasmtesting.Release(t, array.NewRecordBatch(base.Schema(), cols, int64(len(times))))
}

// TestWindows: the sliding-window (Hop, HopMax) and session (SessionAdd,
// Session.Start/Last, SessionsClosed) helpers, run in the guest on the
// i16 column as event time, give per row what the test recomputes from
// the windows' definitions: small batches (mostly lone sessions), the
// 1000-row one (sessions merging out of order) and sliced ones, on one
// instance.
func TestWindows(t *testing.T) {
	mem := wasmtesting.Allocator(t)
	s := newStage(t, map[string]any{"mode": "windows"}, mem, wasmtesting.Config())
	bind(t, s)
	inputs := wasmtesting.AllTypesInputs(t, mem)
	inputs["dense"] = denseTimes(t, mem)
	var noHop, merged, closedSome int // cases the inputs must reach
	for _, name := range []string{"n=1000", "n=7", "n=0", "sliced+3", "n=64", "sliced+13", "n=1", "dense"} {
		in := inputs[name]
		out, rejects, err := wasmtesting.Process(t, s, in)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if len(rejects) != 0 || out.NumRows() != in.NumRows() {
			t.Fatalf("%s: %d rows out and %d rejected, want %d and none", name, out.NumRows(), len(rejects), in.NumRows())
		}
		get := func(c string) []string {
			idx := out.Schema().FieldIndices(c)
			if len(idx) != 1 {
				t.Fatalf("%s: output has no column %s: %v", name, c, out.Schema())
			}
			a := out.Column(idx[0])
			vals := make([]string, a.Len())
			for i := range vals {
				vals[i] = wasmtesting.Value(a, i)
			}
			return vals
		}
		cols := []string{"hop_n", "hop_first", "hop_max", "sess_start", "sess_last", "sess_closed"}
		got := make([][]string, len(cols))
		for j, c := range cols {
			got[j] = get(c)
		}
		times := in.Column(in.Schema().FieldIndices("i16")[0]).(*array.Int16)
		var seen []int64
		var hi int64
		for i := range int(in.NumRows()) {
			w, sl := hopWidth(i), hopSlide(i)
			want := []string{"null", "null", fmt.Sprint((w + sl - 1) / sl), "null", "null", "null"}
			if times.IsValid(i) {
				ti := int64(times.Value(i))
				n, first := wantHop(ti, w, sl)
				want[0] = fmt.Sprint(n)
				if n > 0 {
					want[1] = fmt.Sprint(first)
				}
				if len(seen) == 0 || ti > hi {
					hi = ti
				}
				seen = append(seen, ti)
				lo, last, closed := wantSessions(seen, ti, hi-lateness)
				want[3], want[4], want[5] = fmt.Sprint(lo), fmt.Sprint(last), fmt.Sprint(closed)
				noHop += b2i(n == 0)
				merged += b2i(lo < last)
				closedSome += b2i(closed > 0)
			}
			for j, c := range cols {
				if got[j][i] != want[j] {
					t.Fatalf("%s: row %d (i16 %s, w %d, s %d) column %s: got %s, want %s",
						name, i, wasmtesting.Value(times, i), w, sl, c, got[j][i], want[j])
				}
			}
		}
	}
	if noHop == 0 || merged == 0 || closedSome == 0 {
		t.Fatalf("rows in no sliding window: %d, in a session of several rows: %d, with closed sessions: %d; want some of each", noHop, merged, closedSome)
	}
	t.Logf("rows in no sliding window: %d, in a session of several rows: %d, with closed sessions: %d", noHop, merged, closedSome)
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}
