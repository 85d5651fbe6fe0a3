package conformance_test

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/dataweaver/dataweaver/internal/wasmtesting"
	"github.com/dataweaver/dataweaver/internal/windowtest"
	"github.com/dataweaver/dataweaver/wasmabi"
)

// v2Impls are the languages of the ABI v2 example window_agg, C first:
// the one the others are compared with. Go's module is not committed:
// TestMain builds it (goGuests).
var v2Impls = []struct{ lang, dir string }{
	{"c", "transforms/c/window_agg"},
	{"rust", "transforms/rust/window_agg"},
	{"assemblyscript", "transforms/assemblyscript/window_agg"},
	{"go", "transforms/window_agg"},
}

// TestWindowAggV2: ABI v2 conformance across languages. window_agg in C,
// Rust, AssemblyScript and Go, on a shared table of inputs (in event-time
// order with null keys and times; another width; rows arriving late;
// watermarks with and without room for them; a window's last instant;
// empty batches), gives the same output call for call, byte for byte
// (rows, floats by their bits, rejects, the end of input), and the same
// state bytes at the midpoint; each language restores every language's
// midpoint state and goes on to the same output. The rows are Go's
// aggregates where none is late.
func TestWindowAggV2(t *testing.T) {
	edge := func() []windowtest.Order {
		var rows []windowtest.Order
		t0 := int64(29_666_667) * windowtest.Minute
		for i, d := range []int64{0, windowtest.Minute - 2, windowtest.Minute - 1, windowtest.Minute, 2*windowtest.Minute - 1, 3 * windowtest.Minute} {
			c, ts := []string{"FR", "DE"}[i%2], t0+d
			rows = append(rows, windowtest.Order{Country: &c, TS: &ts})
		}
		return rows
	}
	ordered := windowtest.Orders(2000, 31, true)
	shuffled := windowtest.Arrive(windowtest.Orders(2000, 32, false), 20_000_000, 32)
	inputs := []struct {
		name  string
		rows  []windowtest.Order
		size  int
		conf  map[string]any
		late  time.Duration // the watermark's lateness; < 0: no event time
		exact bool          // no row is late: the rows must be Go's aggregates
	}{
		{name: "ordered", rows: ordered, size: 64, late: -1, exact: true},
		{name: "ordered, 30 s", rows: ordered, size: 100, late: -1, conf: map[string]any{"seconds": 30}},
		{name: "late rows", rows: shuffled, size: 64, late: -1},
		{name: "watermark", rows: shuffled, size: 64, late: 20 * time.Second, exact: true},
		{name: "watermark, late rows", rows: shuffled, size: 64, late: 5 * time.Second},
		{name: "last instant", rows: edge(), size: 1, late: 0},
		{name: "one row per batch", rows: ordered[:300], size: 1, late: -1, exact: true},
	}
	mods := make([][]byte, len(v2Impls))
	for i, im := range v2Impls {
		if im.lang != "go" {
			mods[i] = wasmtesting.Committed(t, im.dir, im.dir+"/window_agg.wasm")
			continue
		}
		if err := buildErrs["go/window_agg"]; err != nil {
			t.Fatalf("go: %v", err)
		}
		mods[i] = modules["go/window_agg"]
	}
	ctx := context.Background()
	for _, in := range inputs {
		t.Run(in.name, func(t *testing.T) {
			mem := wasmtesting.Allocator(t)
			cfg := wasmtesting.Config()
			if in.late >= 0 {
				cfg = cfg.WithEventTime("ts", in.late)
			}
			bound := func(wasm []byte) *wasmabi.Stage {
				s := wasmtesting.NewStage(t, wasm, in.conf, mem, cfg.WithCacheDir(cacheDir))
				if _, err := s.Bind(ctx, windowtest.Schema); err != nil {
					t.Fatal(err)
				}
				return s
			}
			mid := len(in.rows) / 2 / in.size * in.size // on a batch boundary
			type result struct {
				first, rest []string
				state       []byte
			}
			res := make([]result, len(v2Impls))
			for i, im := range v2Impls {
				s := bound(mods[i])
				r := &res[i]
				r.first = windowtest.Feed(t, s, mem, in.rows[:mid], in.size, false)
				var err error
				if r.state, err = s.Snapshot(ctx); err != nil {
					t.Fatalf("%s: %v", im.lang, err)
				}
				r.rest = windowtest.Feed(t, s, mem, in.rows[mid:], in.size, true)
				if i == 0 {
					continue
				}
				what := in.name + ", " + im.lang + " and c"
				windowtest.SameCalls(t, what+", before the snapshot", im.lang, r.first, "c", res[0].first)
				windowtest.SameCalls(t, what+", after it", im.lang, r.rest, "c", res[0].rest)
				if !bytes.Equal(r.state, res[0].state) {
					t.Fatalf("%s: %s's state (%d bytes) differs from c's (%d bytes)", in.name, im.lang, len(r.state), len(res[0].state))
				}
			}
			for i, im := range v2Impls {
				for j, from := range v2Impls {
					s := bound(mods[i])
					if err := s.Restore(ctx, res[j].state); err != nil {
						t.Fatalf("%s restoring %s's state: %v", im.lang, from.lang, err)
					}
					got := windowtest.Feed(t, s, mem, in.rows[mid:], in.size, true)
					windowtest.SameCalls(t, fmt.Sprintf("%s: %s restored from %s", in.name, im.lang, from.lang), im.lang, got, "c", res[0].rest)
				}
			}
			all := slices.Concat(res[0].first, res[0].rest)
			if len(windowtest.DataRows(all)) == 0 {
				t.Fatal("no aggregate emitted: the input tests nothing")
			}
			if in.exact {
				width := int64(windowtest.Minute)
				if ref := windowtest.Reference(in.rows, width); !slices.Equal(windowtest.DataRows(all), ref) {
					t.Fatalf("%d rows, Go %d", len(windowtest.DataRows(all)), len(ref))
				}
				if strings.Contains(strings.Join(all, ""), "too late") {
					t.Fatal("a row came too late in an input meant to have none")
				}
			}
		})
	}
}
