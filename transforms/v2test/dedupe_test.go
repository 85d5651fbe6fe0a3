package v2test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/dataweaver/dataweaver/internal/wasmtesting"
	"github.com/dataweaver/dataweaver/wasmabi"
)

// dedupeModule builds transforms/dedupe (Go SDK, ABI v2) once per test binary.
func dedupeModule(t *testing.T) []byte {
	t.Helper()
	return goModule(t, "transforms/dedupe")
}

// firstPerWindow is the reference: the indexes of the rows that are the
// first of their country in their minute.
func firstPerWindow(rows []order) []int {
	seen := map[[2]any]bool{}
	var keep []int
	for i, o := range rows {
		k := [2]any{o.ts - o.ts%minute, o.country}
		if !seen[k] {
			seen[k] = true
			keep = append(keep, i)
		}
	}
	return keep
}

// keptRows renders the rows of recs as country@ts.
func keptRows(recs []arrow.RecordBatch) []string {
	var out []string
	for _, r := range recs {
		c := r.Column(0).(*array.String)
		ts := r.Column(2).(*array.Timestamp)
		for i := range int(r.NumRows()) {
			out = append(out, c.Value(i)+"@"+ts.Value(i).ToTime(arrow.Microsecond).String())
		}
	}
	return out
}

// TestDedupe: the Go dedupe (Go SDK, ABI v2) hands on whole rows, the
// first of each key per minute, their columns taken from their origin;
// across a snapshot restored into a fresh instance it drops the repeats
// of keys the first instance saw, and it refuses a state of another
// window width.
func TestDedupe(t *testing.T) {
	mem := wasmtesting.Allocator(t)
	rows := ordered(1500, 4)
	wasm := dedupeModule(t)
	bound := func(conf any) *wasmabi.Stage {
		s := wasmtesting.NewStage(t, wasm, conf, mem, wasmtesting.Config())
		if _, err := s.Bind(context.Background(), schema); err != nil {
			t.Fatal(err)
		}
		return s
	}
	conf := map[string]any{"key": "country", "time": "ts", "seconds": 60}
	a := bound(conf)
	if !a.KeepsState() {
		t.Fatal("dedupe does not keep state")
	}
	outs := run(t, a, mem, rows[:701], 50)
	state, err := a.Snapshot(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	b := bound(conf)
	if err := b.Restore(context.Background(), state); err != nil {
		t.Fatal(err)
	}
	outs = append(outs, run(t, b, mem, rows[701:], 50)...)
	outs = append(outs, finish(t, b)...)
	var want []string
	for _, i := range firstPerWindow(rows) {
		want = append(want, keptRows([]arrow.RecordBatch{wasmtesting.Release(t, batch(mem, rows[i:i+1]))})...)
	}
	if got := keptRows(outs); !slices.Equal(got, want) {
		t.Fatalf("dedupe kept %d rows, want %d; first %q vs %q", len(got), len(want), got[:min(3, len(got))], want[:min(3, len(want))])
	}
	other := bound(map[string]any{"key": "country", "time": "ts", "seconds": 30})
	if err := other.Restore(context.Background(), state); !errors.Is(err, wasmabi.ErrStateRefused) || !strings.Contains(err.Error(), "another width") {
		t.Fatalf("restoring into 30 s windows: %v; want the module's refusal", err)
	}
}

var _ memory.Allocator = (*memory.CheckedAllocator)(nil)
