package assemblyscript_test

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/dataweaver/dataweaver/internal/orders"
	"github.com/dataweaver/dataweaver/internal/wasmtesting"
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

var waSchema = orders.Columns("country", "amount", "ts")

const minute = 60_000_000 // µs

type order struct {
	country *string
	amount  *float64
	ts      *int64
}

// waOrders makes n orders in event-time order, 0.7 s apart on average,
// some amounts null; with nulls, a few keys and times are null too.
func waOrders(n int, seed uint64, nulls bool) []order {
	rng := rand.New(rand.NewPCG(seed, 1))
	countries := []string{"FR", "DE", "US", "JP", "BR", "Île", ""}
	ts := int64(1_780_000_000_000_000)
	out := make([]order, n)
	for i := range out {
		ts += rng.Int64N(1_400_000)
		c, t := countries[rng.IntN(len(countries))], ts
		o := order{country: &c, ts: &t}
		if rng.IntN(10) > 0 {
			a := math.Round(rng.Float64()*10000) / 100
			o.amount = &a
		}
		if nulls && rng.IntN(100) == 0 {
			o.country = nil
		}
		if nulls && rng.IntN(100) == 0 {
			o.ts = nil
		}
		out[i] = o
	}
	return out
}

// arrive reorders rows as a stream whose rows each arrive up to delay µs
// after their event time.
func arrive(rows []order, delay int64, seed uint64) []order {
	rng := rand.New(rand.NewPCG(seed, 2))
	at := make(map[*int64]int64, len(rows))
	out := slices.Clone(rows)
	for _, o := range out {
		at[o.ts] = *o.ts + rng.Int64N(delay)
	}
	slices.SortStableFunc(out, func(a, b order) int { return int(min(max(at[a.ts]-at[b.ts], -1), 1)) })
	return out
}

func waBatch(mem memory.Allocator, rows []order) arrow.RecordBatch {
	b := array.NewRecordBuilder(mem, waSchema)
	defer b.Release()
	for _, o := range rows {
		if o.country == nil {
			b.Field(0).AppendNull()
		} else {
			b.Field(0).(*array.StringBuilder).Append(*o.country)
		}
		if o.amount == nil {
			b.Field(1).AppendNull()
		} else {
			b.Field(1).(*array.Float64Builder).Append(*o.amount)
		}
		if o.ts == nil {
			b.Field(2).AppendNull()
		} else {
			b.Field(2).(*array.TimestampBuilder).Append(arrow.Timestamp(*o.ts))
		}
	}
	return b.NewRecordBatch()
}

// waStage binds a window_agg module.
func waStage(t *testing.T, wasm []byte, conf any, mem memory.Allocator, cfg wasmabi.Config) *wasmabi.Stage {
	t.Helper()
	s := wasmtesting.NewStage(t, wasm, conf, mem, cfg.WithCacheDir(cacheDir))
	if _, err := s.Bind(context.Background(), waSchema); err != nil {
		t.Fatal(err)
	}
	return s
}

// render is a record's schema, rows (floats by their bits) and rejects.
func render(rec arrow.RecordBatch, rejects []string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s\n", rec.Schema())
	for _, r := range wasmtesting.Rows(rec) {
		fmt.Fprintln(&b, strings.Join(r, " "))
	}
	fmt.Fprintf(&b, "rejected %q\n", rejects)
	return b.String()
}

// feed runs rows through s in batches of size, then (with finish) ends
// the input, returning one rendering per call.
func feed(t *testing.T, s *wasmabi.Stage, mem memory.Allocator, rows []order, size int, finish bool) []string {
	t.Helper()
	var out []string
	for lo := 0; lo < len(rows); lo += size {
		in := waBatch(mem, rows[lo:min(lo+size, len(rows))])
		rec, rejects, err := s.Process(context.Background(), in)
		in.Release()
		if err != nil {
			t.Fatal(err)
		}
		msgs := make([]string, len(rejects))
		for i, r := range rejects {
			msgs[i] = fmt.Sprintf("%d: %v", r.Row, r.Err)
		}
		out = append(out, render(rec, msgs))
		rec.Release()
	}
	if finish {
		recs, err := s.Finish(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range recs {
			out = append(out, render(r, nil))
			r.Release()
		}
	}
	return out
}

// reference is window_agg in Go over rows in arrival order: one line per
// window and key, sorted, as the rendered rows are (floats by bits).
func reference(rows []order, width int64) []string {
	type acc struct {
		count, values int64
		sum           float64
	}
	type wk struct {
		w int64
		k string
	}
	m := map[wk]*acc{}
	for _, o := range rows {
		if o.country == nil || o.ts == nil {
			continue
		}
		k := wk{*o.ts - *o.ts%width, *o.country}
		if m[k] == nil {
			m[k] = &acc{}
		}
		a := m[k]
		a.count++
		if o.amount != nil {
			a.values++
			a.sum += *o.amount
		}
	}
	var out []string
	for k, a := range m {
		avg := "null"
		if a.values > 0 {
			avg = fmt.Sprintf("%016x", math.Float64bits(a.sum/float64(a.values)))
		}
		out = append(out, fmt.Sprintf("%s %s %d %016x %s", timestamp(k.w), k.k, a.count, math.Float64bits(a.sum), avg))
	}
	slices.Sort(out)
	return out
}

// timestamp renders µs since the epoch as the rows render ts.
func timestamp(us int64) string {
	b := array.NewTimestampBuilder(memory.DefaultAllocator, waSchema.Field(2).Type.(*arrow.TimestampType))
	defer b.Release()
	b.Append(arrow.Timestamp(us))
	a := b.NewArray()
	defer a.Release()
	return wasmtesting.Value(a, 0)
}

// dataRows picks the data lines out of renderings, sorted.
func dataRows(calls []string) []string {
	var out []string
	for _, c := range calls {
		for _, l := range strings.Split(c, "\n") {
			if strings.HasPrefix(l, "20") {
				out = append(out, l)
			}
		}
	}
	slices.Sort(out)
	return out
}

func sameCalls(t *testing.T, what string, as, c []string) {
	t.Helper()
	if len(as) != len(c) {
		t.Fatalf("%s: AssemblyScript made %d calls' output, C %d", what, len(as), len(c))
	}
	for i := range as {
		if as[i] != c[i] {
			t.Fatalf("%s: call %d differs:\nAssemblyScript:\n%s\nC:\n%s", what, i, as[i], c[i])
		}
	}
}

// TestWindowAggLikeC: in event-time order, with null keys and times, the
// AssemblyScript window_agg emits in every call the rows and rejects the
// C one does, byte for byte; the rows are Go's aggregates.
func TestWindowAggLikeC(t *testing.T) {
	mem := wasmtesting.Allocator(t)
	rows := waOrders(3000, 1, true)
	as := waStage(t, asWindowAgg(t), nil, mem, wasmtesting.Config())
	if !as.KeepsState() {
		t.Fatal("the AssemblyScript window_agg does not keep state")
	}
	got := feed(t, as, mem, rows, 64, true)
	want := feed(t, waStage(t, cWindowAgg(t), nil, mem, wasmtesting.Config()), mem, rows, 64, true)
	sameCalls(t, "in order", got, want)
	if !strings.Contains(strings.Join(got, ""), "the key or the time is null") {
		t.Fatal("no row was rejected for a null key or time: the data tests nothing")
	}
	if ref := reference(rows, minute); !slices.Equal(dataRows(got), ref) {
		t.Fatalf("%d rows, Go %d; first %q vs %q", len(dataRows(got)), len(ref), dataRows(got)[:1], ref[:1])
	}
}

// TestWindowAggWatermarkLikeC: rows up to 20 s out of order under a
// declared event time: with 20 s lateness several windows stay open and
// close as the watermark passes (same rows per call as C); with 5 s,
// rows behind the watermark are rejected as C rejects them.
func TestWindowAggWatermarkLikeC(t *testing.T) {
	mem := wasmtesting.Allocator(t)
	rows := arrive(waOrders(2000, 6, false), 20_000_000, 6)
	for _, lateness := range []time.Duration{20 * time.Second, 5 * time.Second} {
		cfg := wasmtesting.Config().WithEventTime("ts", lateness)
		got := feed(t, waStage(t, asWindowAgg(t), nil, mem, cfg), mem, rows, 64, true)
		want := feed(t, waStage(t, cWindowAgg(t), nil, mem, cfg), mem, rows, 64, true)
		sameCalls(t, fmt.Sprint("lateness ", lateness), got, want)
		late := strings.Contains(strings.Join(got, ""), "row too late")
		if late != (lateness < 20*time.Second) {
			t.Fatalf("lateness %v: rows rejected as late: %v", lateness, late)
		}
		if lateness == 20*time.Second && !slices.Equal(dataRows(got), reference(rows, minute)) {
			t.Fatal("with watermarks, the rows differ from Go's")
		}
	}
	// At the edge: with no lateness, a row at a window's last µs makes the
	// watermark close that window in its own call, not one later.
	var edge []order
	t0 := int64(29_666_667) * minute
	for i, d := range []int64{0, minute - 2, minute - 1, minute, 2*minute - 1, 3 * minute} {
		c, ts := []string{"FR", "DE"}[i%2], t0+d
		edge = append(edge, order{country: &c, ts: &ts})
	}
	cfg := wasmtesting.Config().WithEventTime("ts", 0)
	got := feed(t, waStage(t, asWindowAgg(t), nil, mem, cfg), mem, edge, 1, false)
	sameCalls(t, "at a window's edge", got, feed(t, waStage(t, cWindowAgg(t), nil, mem, cfg), mem, edge, 1, false))
	if len(dataRows(got[2:3])) != 2 {
		t.Fatalf("the row at the first window's last µs closed %d groups in its call, want 2:\n%s", len(dataRows(got[2:3])), got[2])
	}
}

// TestWindowAggRestoreLikeC: a snapshot taken mid-window is the C
// module's byte for byte; restored into a fresh AssemblyScript stage (its
// own, or C's) the run goes on as if never stopped; a stage of another
// window width refuses it.
func TestWindowAggRestoreLikeC(t *testing.T) {
	mem := wasmtesting.Allocator(t)
	rows := waOrders(2000, 2, false)
	ctx := context.Background()
	whole := feed(t, waStage(t, asWindowAgg(t), nil, mem, wasmtesting.Config()), mem, rows, 100, true)
	a := waStage(t, asWindowAgg(t), nil, mem, wasmtesting.Config())
	c := waStage(t, cWindowAgg(t), nil, mem, wasmtesting.Config())
	first := feed(t, a, mem, rows[:1037], 100, false)
	feed(t, c, mem, rows[:1037], 100, false)
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
		rest := append(slices.Clone(first), feed(t, b, mem, rows[1037:], 100, true)...)
		if !slices.Equal(dataRows(rest), dataRows(whole)) {
			t.Fatalf("across a restore: %d rows, a run without one %d", len(dataRows(rest)), len(dataRows(whole)))
		}
	}
	other := waStage(t, asWindowAgg(t), map[string]any{"seconds": 30}, mem, wasmtesting.Config())
	if err := other.Restore(ctx, state); err == nil || !strings.Contains(err.Error(), "another width") {
		t.Fatalf("restoring into 30 s windows: %v; want the module's refusal", err)
	}
}
