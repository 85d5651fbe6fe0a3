package v2test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/dataweaver/dataweaver/internal/wasmtesting"
	"github.com/dataweaver/dataweaver/wasmabi"
)

// keyedStage is window_agg keyed by country over workers instances.
func keyedStage(t *testing.T, wasm []byte, workers int, cfg wasmabi.Config) *wasmabi.Stage {
	t.Helper()
	s := wasmtesting.NewStage(t, wasm, nil, wasmtesting.Allocator(t), cfg.WithKey("country"))
	if !s.Partition(workers) {
		t.Fatal("a stage with a key does not partition")
	}
	if _, err := s.Bind(context.Background(), schema); err != nil {
		t.Fatal(err)
	}
	return s
}

// TestWindowAggKeyed: window_agg keyed by country gives Go's aggregates
// on 1 and on 4 instances, in order and with rows up to 20 s out of
// order under watermarks; a snapshot of 4 instances taken mid-window and
// restored into 4 fresh ones goes on where they stopped, and is refused,
// saying why and what to do, by 2 instances, by an unkeyed stage's state
// and when cut short.
func TestWindowAggKeyed(t *testing.T) {
	mem := wasmtesting.Allocator(t)
	wasm := module(t)
	rows := ordered(3000, 11)
	shuffled := arrival(rows, 20_000_000, 11)
	for _, c := range []struct {
		name    string
		workers int
		rows    []order
		cfg     wasmabi.Config
	}{
		{"ordered/1", 1, rows, wasmtesting.Config()},
		{"ordered/4", 4, rows, wasmtesting.Config()},
		{"watermark/4", 4, shuffled, wasmtesting.Config().WithEventTime("ts", 20*time.Second)},
	} {
		t.Run(c.name, func(t *testing.T) {
			a := keyedStage(t, wasm, c.workers, c.cfg)
			outs := run(t, a, mem, c.rows[:1537], 64)
			emitted := 0
			for _, o := range outs {
				emitted += int(o.NumRows())
			}
			if emitted == 0 {
				t.Fatal("no window closed before end of input")
			}
			state, err := a.Snapshot(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			b := keyedStage(t, wasm, c.workers, c.cfg)
			if err := b.Restore(context.Background(), state); err != nil {
				t.Fatal(err)
			}
			outs = append(outs, run(t, b, mem, c.rows[1537:], 64)...)
			got := lines(append(outs, finish(t, b)...))
			if want := aggregate(c.rows, minute); !slices.Equal(got, want) {
				t.Fatalf("%d rows, want %d; first %q vs %q", len(got), len(want), got[:min(3, len(got))], want[:min(3, len(want))])
			}
		})
	}

	a := keyedStage(t, wasm, 4, wasmtesting.Config())
	run(t, a, mem, rows[:1000], 100)
	state, err := a.Snapshot(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	err = keyedStage(t, wasm, 2, wasmtesting.Config()).Restore(context.Background(), state)
	if !errors.Is(err, wasmabi.ErrStateRefused) || !strings.Contains(err.Error(), "saved by 4 instances") || !strings.Contains(err.Error(), "run with workers: 4 to resume") {
		t.Fatalf("restoring 4 instances' state into 2: %v; want it refused, naming the workers to run with", err)
	}
	plain := wasmtesting.NewStage(t, wasm, nil, mem, wasmtesting.Config())
	if _, err := plain.Bind(context.Background(), schema); err != nil {
		t.Fatal(err)
	}
	run(t, plain, mem, rows[:100], 100)
	unkeyed, err := plain.Snapshot(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	err = keyedStage(t, wasm, 1, wasmtesting.Config()).Restore(context.Background(), unkeyed)
	if !errors.Is(err, wasmabi.ErrStateRefused) || !strings.Contains(err.Error(), "not a keyed stage's") {
		t.Fatalf("restoring an unkeyed state into a keyed stage: %v; want it refused", err)
	}
	// Cut anywhere (a hostile or torn position record): refused, never
	// a panic or a partial restore that passes.
	for _, cut := range []int{0, 7, 11, 12, 13, len(state) / 2, len(state) - 1} {
		err := keyedStage(t, wasm, 4, wasmtesting.Config()).Restore(context.Background(), state[:cut])
		if !errors.Is(err, wasmabi.ErrStateRefused) {
			t.Errorf("restoring the state cut to %d of %d bytes: %v; want ErrStateRefused", cut, len(state), err)
		}
	}
	err = keyedStage(t, wasm, 4, wasmtesting.Config()).Restore(context.Background(), append(slices.Clone(state), 0))
	if !errors.Is(err, wasmabi.ErrStateRefused) || !strings.Contains(err.Error(), "after its last instance's") {
		t.Errorf("restoring the state with a byte more: %v; want it refused", err)
	}
}

// TestKeyedRejects: rows a keyed stage rejects are named by their row in
// the batch the engine gave it, in input order, whichever instance
// rejected them.
func TestKeyedRejects(t *testing.T) {
	mem := wasmtesting.Allocator(t)
	s := keyedStage(t, module(t), 4, wasmtesting.Config())
	rows := ordered(600, 12)
	run(t, s, mem, rows, 600)
	// Every country moves two minutes on (closing its windows in every
	// instance), then rows of the closed windows come, late.
	last := rows[len(rows)-1].ts
	var next []order
	var late []int
	for i, c := range []string{"FR", "DE", "US", "JP", "BR", "Île"} {
		next = append(next, order{country: c, ts: last + 2*minute})
		if i%2 == 0 {
			next = append(next, order{country: c, ts: last})
			late = append(late, len(next)-1)
		}
	}
	next = append(next, order{country: "JP", ts: last - minute})
	late = append(late, len(next)-1)
	in := batch(mem, next)
	defer in.Release()
	out, rejects, err := s.Process(context.Background(), in)
	if err != nil {
		t.Fatal(err)
	}
	out.Release()
	var got []int
	for _, r := range rejects {
		got = append(got, r.Row)
	}
	if !slices.Equal(got, late) {
		t.Fatalf("rejected rows %v, want %v (the late ones, in input order)", got, late)
	}
}

// TestKeyedOrder: a stateless stage (the C mask) keyed by a column hands
// on every row once, the rows of each key in their input order, the
// batch's rows grouped by instance; with a dictionary-encoded key the
// rows go where the plain key sends them.
func TestKeyedOrder(t *testing.T) {
	mem := wasmtesting.Allocator(t)
	wasm := wasmtesting.Committed(t, "transforms/c/mask", "transforms/c/mask/mask.wasm")
	sc := arrow.NewSchema([]arrow.Field{
		{Name: "id", Type: arrow.PrimitiveTypes.Int64},
		{Name: "k", Type: arrow.BinaryTypes.String, Nullable: true},
		{Name: "email", Type: arrow.BinaryTypes.String},
	}, nil)
	b := array.NewRecordBuilder(mem, sc)
	defer b.Release()
	const n = 500
	for i := range n {
		b.Field(0).(*array.Int64Builder).Append(int64(i))
		if i%17 == 0 {
			b.Field(1).AppendNull() // nulls are one key
		} else {
			b.Field(1).(*array.StringBuilder).Append(fmt.Sprint("k", i*7%23))
		}
		b.Field(2).(*array.StringBuilder).Append(fmt.Sprintf("user%d@example.com", i))
	}
	rec := b.NewRecordBatch()
	defer rec.Release()
	s := wasmtesting.NewStage(t, wasm, map[string]any{"columns": []string{"email"}}, mem, wasmtesting.Config().WithKey("k"))
	s.Partition(3)
	if _, err := s.Bind(context.Background(), sc); err != nil {
		t.Fatal(err)
	}
	out, rejects, err := s.Process(context.Background(), rec)
	if err != nil || len(rejects) > 0 {
		t.Fatal(err, rejects)
	}
	defer out.Release()
	ids, keys := out.Column(0).(*array.Int64), out.Column(1).(*array.String)
	last := map[string]int64{}
	seen := make([]bool, n)
	inOrder := true
	for i := range int(out.NumRows()) {
		id, k := ids.Value(i), keys.ValueStr(i)
		if p, ok := last[k]; ok && p >= id {
			t.Fatalf("key %s: row %d after row %d", k, id, p)
		}
		last[k] = id
		seen[id] = true
		inOrder = inOrder && id == int64(i)
	}
	if int(out.NumRows()) != n || slices.Contains(seen, false) {
		t.Fatalf("%d rows out of %d, or some missing", out.NumRows(), n)
	}
	if inOrder {
		t.Fatal("the rows came out in input order: they were not split over the 3 instances")
	}
	if got := out.Column(2).(*array.String).Value(0); !strings.HasSuffix(got, "***@example.com") {
		t.Fatalf("email %q not masked", got)
	}
}
