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

func TestRescale(t *testing.T) {
	const mib = 1 << 20
	for _, tc := range []struct {
		name              string
		pct               int
		live, goal, floor uint64
		want              int
	}{
		{"goal at the floor: kept", 300, 32 * mib, 128 * mib, 128 * mib, 300},
		{"goal under the floor: kept", 3100, 2 * mib, 124 * mib, 128 * mib, 3100},
		// 4 MiB live, GOGC 3100, roots 1.6 MiB: 174 MiB.
		{"roots times a large GOGC", 3100, 4 * mib, 174 * mib, 128 * mib, 3100 * 124 / 170},
		{"never under 100", 110, 60 * mib, 1000 * mib, 128 * mib, 100},
		{"live above the floor", 100, 200 * mib, 400 * mib, 128 * mib, 100},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := gcpace.Rescale(tc.pct, tc.live, tc.goal, tc.floor); got != tc.want {
				t.Errorf("Rescale(%d, %d, %d, %d) = %d, want %d", tc.pct, tc.live, tc.goal, tc.floor, got, tc.want)
			}
		})
	}
}

// TestGoalAtFloor checks the goal the runtime sets, read back: with
// ~nothing live, GOGC is large and multiplies the roots (stacks,
// globals) too; the pacer's goal is the floor all the same, within 2%.
func TestGoalAtFloor(t *testing.T) {
	if debug.SetGCPercent(100) < 0 {
		t.Skip("GOGC=off in the environment: nothing to pace")
	}
	t.Cleanup(func() { debug.SetGCPercent(100) })
	// Goroutines parked on deep stacks (4 MiB): roots a cycle scans.
	stop := make(chan struct{})
	t.Cleanup(func() { close(stop) })
	for range 16 {
		go deep(256, stop)
	}
	const floor = 256 << 20
	p := gcpace.Start(floor)
	t.Cleanup(p.Stop)
	for _, c := range []string{"after Start", "after a cycle"} {
		s := []metrics.Sample{{Name: "/gc/heap/goal:bytes"}}
		metrics.Read(s)
		if goal := s[0].Value.Uint64(); goal > floor*102/100 {
			t.Errorf("%s: goal %d MiB, want at most the floor, %d MiB", c, goal>>20, floor>>20)
		}
		runtime.GC()
		runtime.GC() // and the pacer's finalizer has run
	}
}

// deep parks on a stack n frames deep until stop closes.
func deep(n int, stop chan struct{}) int {
	var pad [1024]byte
	if n == 0 {
		<-stop
		return int(pad[0])
	}
	return deep(n-1, stop) + int(pad[n%1024])
}
