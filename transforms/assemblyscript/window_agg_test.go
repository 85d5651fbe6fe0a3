package assemblyscript_test

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/dataweaver/dataweaver/internal/wasmtesting"
	"github.com/dataweaver/dataweaver/internal/windowtest"
	"github.com/dataweaver/dataweaver/wasmabi"
)

// The AssemblyScript window_agg (ABI v2, transforms/assemblyscript/
// window_agg) is the twin of the C one (transforms/c/window_agg, checked
// against Go in transforms/v2test): these tests run both, committed, on
// the same batches and want the same rows, rejects and state bytes, and
// check the rows against a Go reference.

func asWindowAgg(t testing.TB) []byte {
	t.Helper()
	return wasmtesting.Committed(t, "transforms/assemblyscript/window_agg", "transforms/assemblyscript/window_agg/window_agg.wasm")
}

func cWindowAgg(t testing.TB) []byte {
	t.Helper()
	return wasmtesting.Committed(t, "transforms/c/window_agg", "transforms/c/window_agg/window_agg.wasm")
}

var waSchema = windowtest.Schema

const minute = windowtest.Minute

type order = windowtest.Order

// waStage binds a window_agg module.
func waStage(t *testing.T, wasm []byte, conf any, mem memory.Allocator, cfg wasmabi.Config) *wasmabi.Stage {
	t.Helper()
	s := wasmtesting.NewStage(t, wasm, conf, mem, cfg.WithCacheDir(cacheDir))
	if _, err := s.Bind(context.Background(), waSchema); err != nil {
		t.Fatal(err)
	}
	return s
}

func sameCalls(t *testing.T, what string, as, c []string) {
	t.Helper()
	windowtest.SameCalls(t, what, "AssemblyScript", as, "C", c)
}

// TestWindowAggLikeC: in event-time order, with null keys and times, the
// AssemblyScript window_agg emits in every call the rows and rejects the
// C one does, byte for byte; the rows are Go's aggregates.
func TestWindowAggLikeC(t *testing.T) {
	mem := wasmtesting.Allocator(t)
	rows := windowtest.Orders(3000, 1, true)
	as := waStage(t, asWindowAgg(t), nil, mem, wasmtesting.Config())
	if !as.KeepsState() {
		t.Fatal("the AssemblyScript window_agg does not keep state")
	}
	got := windowtest.Feed(t, as, mem, rows, 64, true)
	want := windowtest.Feed(t, waStage(t, cWindowAgg(t), nil, mem, wasmtesting.Config()), mem, rows, 64, true)
	sameCalls(t, "in order", got, want)
	if !strings.Contains(strings.Join(got, ""), "the key or the time is null") {
		t.Fatal("no row was rejected for a null key or time: the data tests nothing")
	}
	if ref := windowtest.Reference(rows, minute); !slices.Equal(windowtest.DataRows(got), ref) {
		t.Fatalf("%d rows, Go %d; first %q vs %q", len(windowtest.DataRows(got)), len(ref), windowtest.DataRows(got)[:1], ref[:1])
	}
}

// TestWindowAggWatermarkLikeC: rows up to 20 s out of order under a
// declared event time: with 20 s lateness several windows stay open and
// close as the watermark passes (same rows per call as C); with 5 s,
// rows behind the watermark are rejected as C rejects them.
func TestWindowAggWatermarkLikeC(t *testing.T) {
	mem := wasmtesting.Allocator(t)
	rows := windowtest.Arrive(windowtest.Orders(2000, 6, false), 20_000_000, 6)
	for _, lateness := range []time.Duration{20 * time.Second, 5 * time.Second} {
		cfg := wasmtesting.Config().WithEventTime("ts", lateness)
		got := windowtest.Feed(t, waStage(t, asWindowAgg(t), nil, mem, cfg), mem, rows, 64, true)
		want := windowtest.Feed(t, waStage(t, cWindowAgg(t), nil, mem, cfg), mem, rows, 64, true)
		sameCalls(t, fmt.Sprint("lateness ", lateness), got, want)
		late := strings.Contains(strings.Join(got, ""), "row too late")
		if late != (lateness < 20*time.Second) {
			t.Fatalf("lateness %v: rows rejected as late: %v", lateness, late)
		}
		if lateness == 20*time.Second && !slices.Equal(windowtest.DataRows(got), windowtest.Reference(rows, minute)) {
			t.Fatal("with watermarks, the rows differ from Go's")
		}
	}
	// At the edge: with no lateness, a row at a window's last µs makes the
	// watermark close that window in its own call, not one later.
	var edge []order
	t0 := int64(29_666_667) * minute
	for i, d := range []int64{0, minute - 2, minute - 1, minute, 2*minute - 1, 3 * minute} {
		c, ts := []string{"FR", "DE"}[i%2], t0+d
		edge = append(edge, order{Country: &c, TS: &ts})
	}
	cfg := wasmtesting.Config().WithEventTime("ts", 0)
	got := windowtest.Feed(t, waStage(t, asWindowAgg(t), nil, mem, cfg), mem, edge, 1, false)
	sameCalls(t, "at a window's edge", got, windowtest.Feed(t, waStage(t, cWindowAgg(t), nil, mem, cfg), mem, edge, 1, false))
	if len(windowtest.DataRows(got[2:3])) != 2 {
		t.Fatalf("the row at the first window's last µs closed %d groups in its call, want 2:\n%s", len(windowtest.DataRows(got[2:3])), got[2])
	}
}

// TestWindowAggRestoreLikeC: a snapshot taken mid-window is the C
// module's byte for byte; restored into a fresh AssemblyScript stage (its
// own, or C's) the run goes on as if never stopped; a stage of another
// window width refuses it.
func TestWindowAggRestoreLikeC(t *testing.T) {
	mem := wasmtesting.Allocator(t)
	rows := windowtest.Orders(2000, 2, false)
	ctx := context.Background()
	whole := windowtest.Feed(t, waStage(t, asWindowAgg(t), nil, mem, wasmtesting.Config()), mem, rows, 100, true)
	a := waStage(t, asWindowAgg(t), nil, mem, wasmtesting.Config())
	c := waStage(t, cWindowAgg(t), nil, mem, wasmtesting.Config())
	first := windowtest.Feed(t, a, mem, rows[:1037], 100, false)
	windowtest.Feed(t, c, mem, rows[:1037], 100, false)
	state, err := a.Snapshot(ctx)
	if err != nil {
		t.Fatal(err)
	}
	cstate, err := c.Snapshot(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(state, cstate) {
		t.Fatalf("snapshots differ: AssemblyScript %d bytes, C %d", len(state), len(cstate))
	}
	if len(state) < 100 {
		t.Fatalf("a mid-window snapshot of %d bytes holds no groups", len(state))
	}
	for _, from := range map[string][]byte{"own": state, "C's": cstate} {
		b := waStage(t, asWindowAgg(t), nil, mem, wasmtesting.Config())
		if err := b.Restore(ctx, from); err != nil {
			t.Fatal(err)
		}
		// Batches of 100 from row 1037 start at 1037, 1137…: the whole
		// run's calls from the 11th on cover other rows, so compare rows.
		rest := append(slices.Clone(first), windowtest.Feed(t, b, mem, rows[1037:], 100, true)...)
		if !slices.Equal(windowtest.DataRows(rest), windowtest.DataRows(whole)) {
			t.Fatalf("across a restore: %d rows, a run without one %d", len(windowtest.DataRows(rest)), len(windowtest.DataRows(whole)))
		}
	}
	other := waStage(t, asWindowAgg(t), map[string]any{"seconds": 30}, mem, wasmtesting.Config())
	if err := other.Restore(ctx, state); err == nil || !strings.Contains(err.Error(), "another width") {
		t.Fatalf("restoring into 30 s windows: %v; want the module's refusal", err)
	}
}
