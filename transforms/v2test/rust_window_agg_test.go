package v2test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/dataweaver/dataweaver/internal/benchrec/paired"
	"github.com/dataweaver/dataweaver/internal/wasmtesting"
	"github.com/dataweaver/dataweaver/wasmabi"
)

// rustModule is the committed Rust window_agg (guest-sdk/rust's ABI v2).
// Like the C one it is read as committed, so `make test` needs no Rust
// toolchain; with DW_WASM_FRESH=1 (CI's make test-fresh) it is built from
// transforms/rust/window_agg with cargo and must equal the committed bytes.
func rustModule(t testing.TB) []byte {
	t.Helper()
	return wasmtesting.Committed(t, "transforms/rust/window_agg", "transforms/rust/window_agg/window_agg.wasm")
}

// call is what one call of a stage gave: its rows in the order emitted
// (each value rendered exactly, floats by their bits) and its rejects.
type call struct {
	rows    [][]string
	rejects []string
}

func (c call) String() string {
	return fmt.Sprintf("%d rows %v, rejects %v", len(c.rows), c.rows, c.rejects)
}

func render(recs []arrow.RecordBatch, rejects []string) call {
	c := call{rejects: rejects}
	for _, r := range recs {
		c.rows = append(c.rows, wasmtesting.Rows(r)...)
	}
	return c
}

// calls feeds rows to s in batches of size, then ends the input, and
// returns every call's output in order, the finish last.
func calls(t *testing.T, s *wasmabi.Stage, mem memory.Allocator, rows []order, size int) []call {
	t.Helper()
	var out []call
	for lo := 0; lo < len(rows); lo += size {
		in := batch(mem, rows[lo:min(lo+size, len(rows))])
		rec, rejects, err := s.Process(context.Background(), in)
		in.Release()
		if err != nil {
			t.Fatal(err)
		}
		var rs []string
		for _, r := range rejects {
			rs = append(rs, fmt.Sprintf("%d: %v", r.Row, r.Err))
		}
		out = append(out, render([]arrow.RecordBatch{rec}, rs))
		rec.Release()
	}
	return append(out, render(finish(t, s), nil))
}

// TestRustWindowAggEqualsC: the Rust window_agg gives the C one's output
// call for call, row for row and bit for bit (same rows in the same
// order, same rejects), in event-time order and out of order under
// watermarks, with and without rows too late; and its aggregates are Go's.
func TestRustWindowAggEqualsC(t *testing.T) {
	mem := wasmtesting.Allocator(t)
	rows := ordered(3000, 11)
	shuffled := arrival(rows, 20_000_000, 11)
	for _, tc := range []struct {
		name    string
		rows    []order
		cfg     wasmabi.Config
		rejects bool // whether some rows must come too late
	}{
		{name: "in order", rows: rows, cfg: wasmtesting.Config()},
		{name: "in order, late rows", rows: shuffled, cfg: wasmtesting.Config(), rejects: true},
		{name: "watermark", rows: shuffled, cfg: wasmtesting.Config().WithEventTime("ts", 20*time.Second)},
		{name: "watermark, late rows", rows: shuffled, cfg: wasmtesting.Config().WithEventTime("ts", 5*time.Second), rejects: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			bound := func(wasm []byte) *wasmabi.Stage {
				s := wasmtesting.NewStage(t, wasm, nil, mem, tc.cfg)
				if _, err := s.Bind(context.Background(), schema); err != nil {
					t.Fatal(err)
				}
				return s
			}
			r, c := bound(rustModule(t)), bound(module(t))
			if !r.KeepsState() {
				t.Fatal("the Rust window_agg does not keep state")
			}
			got, want := calls(t, r, mem, tc.rows, 64), calls(t, c, mem, tc.rows, 64)
			emitted, rejected := 0, 0
			for i := range max(len(got), len(want)) {
				if i >= len(got) || i >= len(want) || !slices.EqualFunc(got[i].rows, want[i].rows, slices.Equal) ||
					!slices.Equal(got[i].rejects, want[i].rejects) {
					t.Fatalf("call %d: Rust gave %v\nC gave %v", i, got[min(i, len(got)-1)], want[min(i, len(want)-1)])
				}
				emitted += len(got[i].rows)
				rejected += len(got[i].rejects)
			}
			if emitted == 0 || len(got[len(got)-1].rows) == emitted {
				t.Fatalf("%d rows emitted, %d at end of input: want some before", emitted, len(got[len(got)-1].rows))
			}
			if tc.rejects != (rejected > 0) {
				t.Fatalf("%d rows rejected; want some: %v", rejected, tc.rejects)
			}
			if !tc.rejects {
				// Go sums in arrival order, as the stages do.
				fresh := bound(rustModule(t))
				outs := run(t, fresh, mem, tc.rows, 64)
				if got, want := lines(append(outs, finish(t, fresh)...)), aggregate(tc.rows, minute); !slices.Equal(got, want) {
					t.Fatalf("Rust window_agg gave %d rows, Go %d; first: %q vs %q", len(got), len(want), got[:min(3, len(got))], want[:min(3, len(want))])
				}
			}
		})
	}
}

// TestRustWindowAggRestore: the Rust window_agg's snapshot, taken
// mid-window, restored into a fresh instance, goes on exactly where the
// first left off; its state is byte for byte the C one's at the same
// point, so each restores the other's; a stage of another window width
// refuses it with its reason.
func TestRustWindowAggRestore(t *testing.T) {
	mem := wasmtesting.Allocator(t)
	rows := ordered(2000, 12)
	bound := func(wasm []byte, conf any) *wasmabi.Stage {
		s := wasmtesting.NewStage(t, wasm, conf, mem, wasmtesting.Config())
		if _, err := s.Bind(context.Background(), schema); err != nil {
			t.Fatal(err)
		}
		return s
	}
	ctx := context.Background()
	a, c := bound(rustModule(t), nil), bound(module(t), nil)
	outs := run(t, a, mem, rows[:1037], 100)
	run(t, c, mem, rows[:1037], 100)
	state, err := a.Snapshot(ctx)
	if err != nil {
		t.Fatal(err)
	}
	cstate, err := c.Snapshot(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(state, cstate) {
		t.Fatalf("Rust state (%d bytes) differs from C's (%d bytes)", len(state), len(cstate))
	}
	for _, from := range []struct {
		name  string
		state []byte
	}{{"Rust", state}, {"C", cstate}} {
		b := bound(rustModule(t), nil)
		if err := b.Restore(ctx, from.state); err != nil {
			t.Fatal(err)
		}
		rest := append(slices.Clip(outs), run(t, b, mem, rows[1037:], 100)...)
		if got, want := lines(append(rest, finish(t, b)...)), aggregate(rows, minute); !slices.Equal(got, want) {
			t.Fatalf("across a restore of %s's state: %d rows, want %d", from.name, len(got), len(want))
		}
	}
	other := bound(rustModule(t), map[string]any{"seconds": 30})
	err = other.Restore(ctx, state)
	if !errors.Is(err, wasmabi.ErrStateRefused) || !strings.Contains(err.Error(), "another width") {
		t.Fatalf("restoring into 30 s windows: %v; want the module's refusal", err)
	}
}

// BenchmarkRustWindowAgg: the Rust window_agg paired with the C one on
// BenchmarkWindowAgg's input (64 batches of 1,024 ordered orders and the
// end of input per op), both under the default instrumentation (a
// timeout); "rust/c" is the same-run ratio:
//
//	go test ./transforms/v2test -run '^$' -bench RustWindowAgg -benchtime 20x
func BenchmarkRustWindowAgg(b *testing.B) {
	mem := memory.NewGoAllocator()
	recs := benchBatches(b, mem)
	paired.Run(b, 1,
		paired.Variant{Name: "c", Run: windowPass(b, module(b), mem, recs)},
		paired.Variant{Name: "rust", Run: windowPass(b, rustModule(b), mem, recs)},
	)
}
