package gcpace_test

import (
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"testing"

	"github.com/dataweaver/dataweaver/internal/gcpace"
)

func TestPercent(t *testing.T) {
	const mib = 1 << 20
	for _, tc := range []struct {
		name        string
		live, floor uint64
		want        int
	}{
		{"half the floor live: the default", 64 * mib, 128 * mib, 100},
		{"more than half live: the default", 100 * mib, 128 * mib, 100},
		{"a quarter live: goal at the floor", 32 * mib, 128 * mib, 300},
		{"57 MiB live (W1, Go guests)", 57 * mib, 128 * mib, 124},
		{"nothing live yet", 0, 128 * mib, 1_000_000},
		{"no floor", 10 * mib, 0, 100},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := gcpace.Percent(tc.live, tc.floor); got != tc.want {
				t.Errorf("Percent(%d, %d) = %d, want %d", tc.live, tc.floor, got, tc.want)
			}
		})
	}
}

// cycles is the number of completed collections so far.
func cycles() uint64 {
	s := []metrics.Sample{{Name: "/gc/cycles/total:gc-cycles"}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}

var sink []byte

// churn allocates n bytes of short-lived garbage a MiB at a time, with
// almost nothing live, as a pipeline's released batches are.
func churn(n int) {
	for range n >> 20 {
		sink = make([]byte, 1<<20)
	}
	sink = nil
}

// TestFloorHoldsOffCollections checks the pacer against the runtime: with
// a 256 MiB floor and ~nothing live, 96 MiB of garbage starts at most one
// collection (the one that re-arms the pacer may already be running),
// where GOGC=100 starts many; after Stop, GOGC=100 again.
func TestFloorHoldsOffCollections(t *testing.T) {
	if debug.SetGCPercent(100) < 0 {
		t.Skip("GOGC=off in the environment: nothing to pace")
	}
	t.Cleanup(func() { debug.SetGCPercent(100) })
	runtime.GC()
	before := cycles()
	churn(96 << 20)
	without := cycles() - before

	p := gcpace.Start(256 << 20)
	t.Cleanup(p.Stop)
	runtime.GC() // a cycle the pacer sees, with ~nothing live
	runtime.GC() // and its finalizer has run
	before = cycles()
	churn(96 << 20)
	with := cycles() - before
	if p.Cycles() == 0 {
		t.Error("the pacer saw no collection")
	}
	if without < 4 || with > 1 {
		t.Errorf("collections during 96 MiB of garbage: %d at GOGC=100, %d with a 256 MiB floor; want ≥ 4 and ≤ 1", without, with)
	}

	p.Stop()
	if got := debug.SetGCPercent(100); got != 100 {
		t.Errorf("GOGC after Stop = %d, want 100", got)
	}
}
