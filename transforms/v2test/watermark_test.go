package v2test

import (
	"context"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/dataweaver/dataweaver/internal/wasmtesting"
	"github.com/dataweaver/dataweaver/wasmabi"
)

// arrival reorders rows as a stream whose rows each arrive up to delay
// µs after their event time: sorted by time plus a random delay.
func arrival(rows []order, delay int64, seed uint64) []order {
	rng := rand.New(rand.NewPCG(seed, 2))
	type late struct {
		o  order
		at int64
	}
	ls := make([]late, len(rows))
	for i, o := range rows {
		ls[i] = late{o, o.ts + rng.Int64N(delay)}
	}
	slices.SortStableFunc(ls, func(a, b late) int { return int(min(max(a.at-b.at, -1), 1)) })
	out := make([]order, len(rows))
	for i, l := range ls {
		out[i] = l.o
	}
	return out
}

// TestWindowAggWatermark: rows arrive up to 20 s out of order; with the
// event time declared and a lateness of 20 s, window_agg keeps several
// windows open and emits each when the host's watermark passes its end,
// and the aggregates equal Go's over the same rows, also across
// a snapshot restored into a fresh stage (the host keeps the latest event
// time with the module's state). With no lateness, rows behind the
// watermark are rejected as too late.
func TestWindowAggWatermark(t *testing.T) {
	mem := wasmtesting.Allocator(t)
	rows := ordered(3000, 6)
	shuffled := arrival(rows, 20_000_000, 6)
	if slices.EqualFunc(rows, shuffled, func(a, b order) bool { return a.ts == b.ts }) {
		t.Fatal("the arrival order is the time order: the test would test nothing")
	}
	wasm := module(t)
	bound := func(lateness time.Duration) *wasmabi.Stage {
		s := wasmtesting.NewStage(t, wasm, nil, mem, wasmtesting.Config().WithEventTime("ts", lateness))
		if _, err := s.Bind(context.Background(), schema); err != nil {
			t.Fatal(err)
		}
		return s
	}
	a := bound(20 * time.Second)
	outs := run(t, a, mem, shuffled[:1500], 64)
	emitted := 0
	for _, o := range outs {
		emitted += int(o.NumRows())
	}
	if emitted == 0 {
		t.Fatal("no window was emitted before end of input: the watermark closed none")
	}
	state, err := a.Snapshot(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	b := bound(20 * time.Second)
	if err := b.Restore(context.Background(), state); err != nil {
		t.Fatal(err)
	}
	outs = append(outs, run(t, b, mem, shuffled[1500:], 64)...)
	got := lines(append(outs, finish(t, b)...))
	// Go sums in the order the rows arrive, as the stage does (floating
	// point addition depends on it).
	if want := aggregate(shuffled, minute); !slices.Equal(got, want) {
		t.Fatalf("with watermarks: %d rows, want %d; first %q vs %q", len(got), len(want), got[:min(3, len(got))], want[:min(3, len(want))])
	}

	strict := bound(0)
	in := batch(mem, shuffled)
	defer in.Release()
	out, rejects, err := strict.Process(context.Background(), in)
	if err != nil {
		t.Fatal(err)
	}
	out.Release()
	// One batch: the watermark comes after it, so nothing is late yet.
	if len(rejects) != 0 {
		t.Fatalf("%d rejects in the first batch", len(rejects))
	}
	in2 := batch(mem, arrival(ordered(200, 7), 20_000_000, 7))
	defer in2.Release()
	out, rejects, err = strict.Process(context.Background(), in2)
	if err != nil {
		t.Fatal(err)
	}
	out.Release()
	if len(rejects) == 0 || !strings.Contains(rejects[0].Err.Error(), "too late") {
		t.Fatalf("rejects %v; want rows behind the watermark rejected as too late", rejects)
	}
}
