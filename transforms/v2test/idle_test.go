package v2test

import (
	"context"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/dataweaver/dataweaver/internal/wasmtesting"
	"github.com/dataweaver/dataweaver/wasmabi"
)

// TestWindowAggIdle: window_agg under a watermark with idle advance, on
// one instance and keyed on four. Once the rows stop, Idle (what the
// engine calls when the stage has been quiet) moves the event clock by
// the quiet time: too little closes nothing of the last window, enough
// closes it, every instance's (every country's) windows included, and
// the rows emitted over batches and idle advances are Go's aggregates,
// with nothing left for end of input. The moved clock is in the
// snapshot: a fresh stage restored from it rejects a row behind it as
// too late and emits nothing again at end of input.
func TestWindowAggIdle(t *testing.T) {
	ctx := context.Background()
	mem := wasmtesting.Allocator(t)
	wasm := module(t)
	rows := ordered(500, 21)
	const lateness = 5 * time.Second
	cfg := wasmtesting.Config().WithEventTime("ts", lateness).WithIdleAdvance(10 * time.Second)
	last := rows[len(rows)-1].ts
	end := last - last%minute + minute // the last window's end, µs
	// The quiet time whose watermark, last + quiet - lateness, reaches
	// the last window's last µs (end - 1).
	needed := time.Duration(end-1-last)*time.Microsecond + lateness
	idle := func(t *testing.T, s *wasmabi.Stage, quiet time.Duration) []arrow.RecordBatch {
		t.Helper()
		recs, err := s.Idle(ctx, quiet)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range recs {
			wasmtesting.Release(t, r)
		}
		return recs
	}
	for _, c := range []struct {
		name    string
		workers int // 0: not keyed
	}{{"one instance", 0}, {"keyed/4", 4}} {
		t.Run(c.name, func(t *testing.T) {
			bound := func() *wasmabi.Stage {
				if c.workers > 0 {
					return keyedStage(t, wasm, c.workers, cfg)
				}
				s := wasmtesting.NewStage(t, wasm, nil, mem, cfg)
				if _, err := s.Bind(ctx, schema); err != nil {
					t.Fatal(err)
				}
				return s
			}
			fresh := bound()
			if recs := idle(t, fresh, time.Hour); len(recs) != 0 {
				t.Fatalf("idle advance before any row emitted %d batches: there is no event clock to move yet", len(recs))
			}
			s := bound()
			outs := run(t, s, mem, rows, 64)
			early := idle(t, s, needed-time.Second)
			for _, l := range lines(early) {
				if strings.HasPrefix(l, strconv.FormatInt(end-minute, 10)+" ") {
					t.Fatalf("a quiet time short of the last window's end closed it: %q", l)
				}
			}
			closing := idle(t, s, time.Second)
			if len(lines(closing)) == 0 {
				t.Fatal("idle advance to the last window's end emitted nothing")
			}
			outs = append(append(outs, early...), closing...)
			got := lines(outs)
			if want := aggregate(rows, minute); !slices.Equal(got, want) {
				t.Fatalf("batches + idle advance: %d rows, want %d; first %q vs %q", len(got), len(want), got[:min(3, len(got))], want[:min(3, len(want))])
			}
			if rest := lines(finish(t, s)); len(rest) != 0 {
				t.Fatalf("end of input emitted %q again after idle advance closed every window", rest)
			}

			state, err := s.Snapshot(ctx)
			if err != nil {
				t.Fatal(err)
			}
			r := bound()
			if err := r.Restore(ctx, state); err != nil {
				t.Fatal(err)
			}
			in := batch(mem, []order{{country: "FR", ts: last + 1_000_000}})
			defer in.Release()
			out, rejects, err := r.Process(ctx, in)
			if err != nil {
				t.Fatal(err)
			}
			out.Release()
			if len(rejects) != 1 || !strings.Contains(rejects[0].Err.Error(), "too late") {
				t.Fatalf("a row 1 s after the last one, behind the moved watermark: rejects %v; want it too late (the snapshot lost the moved clock)", rejects)
			}
			if rest := lines(finish(t, r)); len(rest) != 0 {
				t.Fatalf("the restored stage emitted %q again at end of input", rest)
			}
		})
	}
	t.Run("off", func(t *testing.T) {
		s := wasmtesting.NewStage(t, wasm, nil, mem, wasmtesting.Config().WithEventTime("ts", 0))
		if _, err := s.Bind(ctx, schema); err != nil {
			t.Fatal(err)
		}
		run(t, s, mem, rows, 64)
		if s.IdleAfter() != 0 || len(idle(t, s, time.Hour)) != 0 {
			t.Fatal("a stage without idle_advance advanced on idle")
		}
		if s := wasmtesting.NewStage(t, wasm, nil, mem, wasmtesting.Config().WithIdleAdvance(time.Second)); s.IdleAfter() != 0 {
			t.Fatal("idle advance without an event-time column is on")
		}
	})
}
