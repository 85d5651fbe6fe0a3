package v2test

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/dataweaver/dataweaver/engine"
	"github.com/dataweaver/dataweaver/internal/wasmtesting"
	"github.com/dataweaver/dataweaver/wasmabi"
)

func topkModule(t testing.TB) []byte {
	t.Helper()
	return wasmtesting.Committed(t, "transforms/c/top_k", "transforms/c/top_k/top_k.wasm")
}

// topkRef is top_k by its definition: per window of width µs starting at
// every multiple of slide that holds a row, the k keys with the largest
// sum (equal sums by key), one line per key "start rank key sum count",
// sorted. Sums add in row order, as the stage does.
func topkRef(rows []order, width, slide int64, k int) []string {
	type acc struct {
		sum   float64
		count int64
	}
	wins := map[int64]map[string]*acc{}
	for _, o := range rows {
		for st := o.ts - ((o.ts%slide)+slide)%slide; st > o.ts-width; st -= slide {
			if wins[st] == nil {
				wins[st] = map[string]*acc{}
			}
			a := wins[st][o.country]
			if a == nil {
				a = &acc{}
				wins[st][o.country] = a
			}
			a.count++
			if o.amount != nil {
				a.sum += *o.amount
			}
		}
	}
	var out []string
	for st, keys := range wins {
		names := make([]string, 0, len(keys))
		for n := range keys {
			names = append(names, n)
		}
		slices.SortFunc(names, func(a, b string) int {
			if c := cmp.Compare(keys[b].sum, keys[a].sum); c != 0 {
				return c
			}
			return strings.Compare(a, b)
		})
		for r, n := range names[:min(k, len(names))] {
			out = append(out, fmt.Sprintf("%d %d %s %v %d", st, r+1, n, keys[n].sum, keys[n].count))
		}
	}
	slices.Sort(out)
	return out
}

// topkLines renders top_k's output like topkRef.
func topkLines(recs []arrow.RecordBatch) []string {
	var out []string
	for _, r := range recs {
		st, rank, key := r.Column(0).(*array.Timestamp), r.Column(1).(*array.Int32), r.Column(2).(*array.String)
		sum, count := r.Column(3).(*array.Float64), r.Column(4).(*array.Int64)
		for i := range int(r.NumRows()) {
			out = append(out, fmt.Sprintf("%d %d %s %v %d", st.Value(i), rank.Value(i), key.Value(i), sum.Value(i), count.Value(i)))
		}
	}
	slices.Sort(out)
	return out
}

// TestTopK: the C top_k ranks, per tumbling or sliding window, the k
// countries with the largest sum of amount as Go does by definition: in
// event-time order and with rows up to 20 s out of order under
// watermarks, across a snapshot restored into a fresh stage mid-window;
// most windows close before end of input; a row of a window emitted is
// rejected; a configuration it cannot run fails at bind.
func TestTopK(t *testing.T) {
	mem := wasmtesting.Allocator(t)
	wasm := topkModule(t)
	rows := ordered(3000, 21)
	shuffled := arrival(rows, 20_000_000, 21)
	bound := func(t *testing.T, conf map[string]any, cfg wasmabi.Config) *wasmabi.Stage {
		s := wasmtesting.NewStage(t, wasm, conf, mem, cfg)
		if _, err := s.Bind(context.Background(), schema); err != nil {
			t.Fatal(err)
		}
		if !s.KeepsState() {
			t.Fatal("top_k keeps no state")
		}
		return s
	}
	for _, c := range []struct {
		name         string
		seconds, hop int64
		k            int
		rows         []order
		cfg          wasmabi.Config
	}{
		{"tumbling", 60, 60, 3, rows, wasmtesting.Config()},
		{"sliding", 60, 20, 2, rows, wasmtesting.Config()},
		{"sliding/watermark", 90, 30, 4, shuffled, wasmtesting.Config().WithEventTime("ts", 20*time.Second)},
		{"all keys", 60, 60, 100, rows, wasmtesting.Config()},
	} {
		t.Run(c.name, func(t *testing.T) {
			conf := map[string]any{"seconds": c.seconds, "slide": c.hop, "k": c.k}
			a := bound(t, conf, c.cfg)
			outs := run(t, a, mem, c.rows[:1311], 50)
			if len(topkLines(outs)) == 0 {
				t.Fatal("no window closed before end of input")
			}
			state, err := a.Snapshot(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			b := bound(t, conf, c.cfg)
			if err := b.Restore(context.Background(), state); err != nil {
				t.Fatal(err)
			}
			outs = append(outs, run(t, b, mem, c.rows[1311:], 50)...)
			got := topkLines(append(outs, finish(t, b)...))
			want := topkRef(c.rows, c.seconds*1e6, c.hop*1e6, c.k)
			if !slices.Equal(got, want) {
				t.Fatalf("%d rows, want %d; first %q vs %q", len(got), len(want), got[:min(4, len(got))], want[:min(4, len(want))])
			}
			other := bound(t, map[string]any{"seconds": c.seconds, "slide": c.hop, "k": c.k + 1}, c.cfg)
			if err := other.Restore(context.Background(), state); err == nil || !strings.Contains(err.Error(), "another k") {
				t.Fatalf("restoring into another k: %v", err)
			}
		})
	}

	s := bound(t, map[string]any{"seconds": 60, "k": 1}, wasmtesting.Config())
	run(t, s, mem, rows[:500], 500)
	last := rows[499].ts
	in := batch(mem, []order{{country: "FR", ts: last - 2*minute}, {country: "FR", ts: last}})
	defer in.Release()
	out, rejects, err := s.Process(context.Background(), in)
	if err != nil {
		t.Fatal(err)
	}
	out.Release()
	if len(rejects) != 1 || rejects[0].Row != 0 || !strings.Contains(rejects[0].Err.Error(), "too late") {
		t.Fatalf("rejects %v; want row 0, of a window emitted, as too late", rejects)
	}

	// Sliding: a row whose earliest window was emitted is late, though
	// its latest is open.
	sl := bound(t, map[string]any{"seconds": 60, "slide": 20, "k": 1}, wasmtesting.Config())
	run(t, sl, mem, rows[:500], 500)
	in2 := batch(mem, []order{{country: "FR", ts: last - 40_000_000}})
	defer in2.Release()
	out, rejects, err = sl.Process(context.Background(), in2)
	if err != nil {
		t.Fatal(err)
	}
	out.Release()
	if len(rejects) != 1 {
		t.Fatalf("rejects %v; want the row 40 s behind, whose earliest window was emitted, as too late", rejects)
	}

	// Under a watermark with no lateness, a window closes once the
	// watermark reaches its last instant, not an instant before.
	wm := bound(t, map[string]any{"seconds": 60, "k": 5}, wasmtesting.Config().WithEventTime("ts", 0))
	var closed []string
	for _, ts := range []int64{0, minute - 2, minute - 1, minute} {
		in := batch(mem, []order{{country: "FR", ts: ts}})
		out, rejects, err := wm.Process(context.Background(), in)
		in.Release()
		if err != nil || len(rejects) > 0 {
			t.Fatalf("row at %d µs: %v %v", ts, err, rejects)
		}
		closed = append(closed, fmt.Sprint(topkLines([]arrow.RecordBatch{out})))
		out.Release()
	}
	if want := []string{"[]", "[]", "[0 1 FR 0 3]", "[]"}; !slices.Equal(closed, want) {
		t.Fatalf("closed after each row: %q, want %q", closed, want)
	}

	for conf, msg := range map[string]string{
		`{"seconds": 60, "slide": 0.5}`: "whole numbers of seconds",
		`{"seconds": 3600, "slide": 1}`: "in 3600 windows (seconds / slide); at most 64",
		`{"k": 0}`:                      "k must be a whole number",
		`{"time": "country"}`:           "want a timestamp",
	} {
		var c map[string]any
		if err := json.Unmarshal([]byte(conf), &c); err != nil {
			t.Fatal(err)
		}
		s := wasmtesting.NewStage(t, wasm, c, mem, wasmtesting.Config())
		if _, err := s.Bind(context.Background(), schema); err == nil || !strings.Contains(err.Error(), msg) || !errors.Is(err, engine.ErrSchema) {
			t.Errorf("config %s: Bind: %v; want %q", conf, err, msg)
		}
	}
}
