// Package v2test checks the ABI v2 example transforms (transforms/c/
// window_agg) against the same computation in Go, batch by batch, across
// a snapshot and restore into a fresh instance, and across a kill -9 of a
// real weave process.
package v2test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/dataweaver/dataweaver/internal/orders"
	"github.com/dataweaver/dataweaver/internal/wasmtesting"
	"github.com/dataweaver/dataweaver/wasmabi"
)

// order is one input row of the window tests.
type order struct {
	country string
	amount  *float64
	ts      int64 // µs since the epoch
}

// ordered makes n orders in event-time order, 0.7 s apart on average so
// a minute holds ~85 of them, over 6 countries, some amounts null.
func ordered(n int, seed uint64) []order {
	rng := rand.New(rand.NewPCG(seed, 1))
	countries := []string{"FR", "DE", "US", "JP", "BR", "Île"}
	ts := int64(1_780_000_000_000_000)
	out := make([]order, n)
	for i := range out {
		ts += rng.Int64N(1_400_000)
		o := order{country: countries[rng.IntN(len(countries))], ts: ts}
		if rng.IntN(10) > 0 {
			a := math.Round(rng.Float64()*10000) / 100
			o.amount = &a
		}
		out[i] = o
	}
	return out
}

var schema = orders.Columns("country", "amount", "ts")

func batch(mem memory.Allocator, rows []order) arrow.RecordBatch {
	b := array.NewRecordBuilder(mem, schema)
	defer b.Release()
	for _, o := range rows {
		b.Field(0).(*array.StringBuilder).Append(o.country)
		if o.amount == nil {
			b.Field(1).AppendNull()
		} else {
			b.Field(1).(*array.Float64Builder).Append(*o.amount)
		}
		b.Field(2).(*array.TimestampBuilder).Append(arrow.Timestamp(o.ts))
	}
	return b.NewRecordBatch()
}

// aggregate is the reference: one line per window and key, sorted.
func aggregate(rows []order, width int64) []string {
	type acc struct {
		count, values int64
		sum           float64
	}
	type wk struct {
		w int64
		k string
	}
	m := map[wk]*acc{}
	var order []wk
	for _, o := range rows {
		w := o.ts - o.ts%width
		key := wk{w, o.country}
		a := m[key]
		if a == nil {
			a = &acc{}
			m[key] = a
			order = append(order, key)
		}
		a.count++
		if o.amount != nil {
			a.values++
			a.sum += *o.amount
		}
	}
	var out []string
	for _, k := range order {
		a := m[k]
		avg := "null"
		if a.values > 0 {
			avg = fmt.Sprint(a.sum / float64(a.values))
		}
		out = append(out, fmt.Sprintf("%d %s %d %v %s", k.w, k.k, a.count, a.sum, avg))
	}
	slices.Sort(out)
	return out
}

// lines renders window_agg's output rows like aggregate.
func lines(recs []arrow.RecordBatch) []string {
	var out []string
	for _, r := range recs {
		start := r.Column(0).(*array.Timestamp)
		key := r.Column(1).(*array.String)
		count := r.Column(2).(*array.Int64)
		sum := r.Column(3).(*array.Float64)
		avg := r.Column(4).(*array.Float64)
		for i := range int(r.NumRows()) {
			a := "null"
			if avg.IsValid(i) {
				a = fmt.Sprint(avg.Value(i))
			}
			out = append(out, fmt.Sprintf("%d %s %d %v %s", start.Value(i), key.Value(i), count.Value(i), sum.Value(i), a))
		}
	}
	slices.Sort(out)
	return out
}

// module is the committed window_agg (with DW_WASM_FRESH=1, built and
// compared with it).
func module(t testing.TB) []byte {
	t.Helper()
	return wasmtesting.Committed(t, "transforms/c/window_agg", "transforms/c/window_agg/window_agg.wasm")
}

const minute = 60_000_000

// run feeds rows to s in batches of size, releasing each output, and
// returns the outputs (kept until the test ends).
func run(t *testing.T, s *wasmabi.Stage, mem memory.Allocator, rows []order, size int) []arrow.RecordBatch {
	t.Helper()
	var outs []arrow.RecordBatch
	for lo := 0; lo < len(rows); lo += size {
		in := batch(mem, rows[lo:min(lo+size, len(rows))])
		out, rejects, err := s.Process(context.Background(), in)
		in.Release()
		if err != nil {
			t.Fatal(err)
		}
		if len(rejects) > 0 {
			t.Fatalf("rejects %v", rejects)
		}
		outs = append(outs, wasmtesting.Release(t, out))
	}
	return outs
}

func finish(t *testing.T, s *wasmabi.Stage) []arrow.RecordBatch {
	t.Helper()
	recs, err := s.Finish(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range recs {
		wasmtesting.Release(t, r)
	}
	return recs
}

// TestWindowAgg: the C window_agg gives, per window and country, the
// count, sum and average Go computes, the last window at end of input;
// most batches emit no row, some emit a closed window's rows.
func TestWindowAgg(t *testing.T) {
	mem := wasmtesting.Allocator(t)
	rows := ordered(3000, 1)
	s := wasmtesting.NewStage(t, module(t), nil, mem, wasmtesting.Config())
	if _, err := s.Bind(context.Background(), schema); err != nil {
		t.Fatal(err)
	}
	if !s.KeepsState() {
		t.Fatal("window_agg does not keep state")
	}
	outs := run(t, s, mem, rows, 64)
	empty := 0
	for _, o := range outs {
		if o.NumRows() == 0 {
			empty++
		}
	}
	if empty == 0 || empty == len(outs) {
		t.Errorf("%d of %d batches emitted nothing; want some and not all", empty, len(outs))
	}
	got := lines(append(outs, finish(t, s)...))
	if want := aggregate(rows, minute); !slices.Equal(got, want) {
		t.Fatalf("window_agg gave %d rows, Go %d; first: %q vs %q", len(got), len(want), got[:min(3, len(got))], want[:min(3, len(want))])
	}
	// After end of input, rows of later windows are still welcome (a run
	// resuming after a finished one reads files added since), rows of
	// the windows emitted are late.
	last := rows[len(rows)-1].ts
	in := batch(mem, []order{{country: "FR", ts: last + 2*minute}, {country: "FR", ts: last}})
	defer in.Release()
	out, rejects, err := s.Process(context.Background(), in)
	if err != nil {
		t.Fatal(err)
	}
	out.Release()
	if len(rejects) != 1 || rejects[0].Row != 1 {
		t.Fatalf("after end of input: rejects %v, want only row 1 (of a window already emitted)", rejects)
	}
}

// TestWindowAggRestore: a snapshot taken mid-window and restored into a
// fresh stage goes on exactly where the first left off; a stage
// configured with another window width refuses it with its reason.
func TestWindowAggRestore(t *testing.T) {
	mem := wasmtesting.Allocator(t)
	rows := ordered(2000, 2)
	wasm := module(t)
	bound := func(conf any) *wasmabi.Stage {
		s := wasmtesting.NewStage(t, wasm, conf, mem, wasmtesting.Config())
		if _, err := s.Bind(context.Background(), schema); err != nil {
			t.Fatal(err)
		}
		return s
	}
	a := bound(nil)
	outs := run(t, a, mem, rows[:1037], 100)
	state, err := a.Snapshot(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	b := bound(nil)
	if err := b.Restore(context.Background(), state); err != nil {
		t.Fatal(err)
	}
	outs = append(outs, run(t, b, mem, rows[1037:], 100)...)
	got := lines(append(outs, finish(t, b)...))
	if want := aggregate(rows, minute); !slices.Equal(got, want) {
		t.Fatalf("across a restore: %d rows, want %d", len(got), len(want))
	}
	other := bound(map[string]any{"seconds": 30})
	err = other.Restore(context.Background(), state)
	if !errors.Is(err, wasmabi.ErrStateRefused) || !strings.Contains(err.Error(), "another width") {
		t.Fatalf("restoring into 30 s windows: %v; want the module's refusal", err)
	}
}
