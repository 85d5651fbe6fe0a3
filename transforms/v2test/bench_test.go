package v2test

import (
	"context"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/dataweaver/dataweaver/internal/benchrec/paired"
	"github.com/dataweaver/dataweaver/internal/wasmtesting"
)

// nativeWindowAgg is window_agg's computation in Go over the same Arrow
// batches (count and sum per country per minute, emitted as closed),
// without building output records: the floor a Wasm stage is compared to.
func nativeWindowAgg(recs []arrow.RecordBatch) int {
	type acc struct {
		count, values int64
		sum           float64
	}
	open, start, emitted := false, int64(0), 0
	groups := map[string]*acc{}
	for _, r := range recs {
		k := r.Column(0).(*array.String)
		v := r.Column(1).(*array.Float64)
		t := r.Column(2).(*array.Timestamp)
		for i := range int(r.NumRows()) {
			w := int64(t.Value(i)) - int64(t.Value(i))%minute
			if open && w > start {
				emitted += len(groups)
				clear(groups)
			}
			open, start = true, w
			a := groups[k.Value(i)]
			if a == nil {
				a = &acc{}
				groups[k.Value(i)] = a
			}
			a.count++
			if v.IsValid(i) {
				a.values++
				a.sum += v.Value(i)
			}
		}
	}
	return emitted + len(groups)
}

// BenchmarkWindowAgg: 64 batches of 1,024 ordered orders (one "batch" of
// the report is the whole pass, 65,536 rows, and the end of input) through
// the C window_agg under the default instrumentation (a timeout), paired
// with the same aggregation in native Go:
//
//	go test ./transforms/v2test -run '^$' -bench WindowAgg -benchtime 20x
func BenchmarkWindowAgg(b *testing.B) {
	mem := memory.NewGoAllocator()
	recs := benchBatches(b, mem)
	paired.Run(b, 1,
		paired.Variant{Name: "native", Run: func() { nativeWindowAgg(recs) }},
		paired.Variant{Name: "wasm", Run: windowPass(b, module(b), mem, recs)},
	)
}

// benchBatches are the benchmarks' input: 64 Ki ordered orders in
// batches of 1,024, released when b ends.
func benchBatches(b *testing.B, mem memory.Allocator) []arrow.RecordBatch {
	rows := ordered(64*1024, 5)
	var recs []arrow.RecordBatch
	for lo := 0; lo < len(rows); lo += 1024 {
		recs = append(recs, batch(mem, rows[lo:lo+1024]))
	}
	b.Cleanup(func() {
		for _, r := range recs {
			r.Release()
		}
	})
	return recs
}

// windowPass binds a stage of wasm and returns one pass of it over recs,
// ending with Finish. Every pass starts from the empty state: the same
// rows again would otherwise be late for the windows the last pass
// emitted.
func windowPass(b *testing.B, wasm []byte, mem memory.Allocator, recs []arrow.RecordBatch) func() {
	ctx := context.Background()
	s := wasmtesting.NewStage(b, wasm, nil, mem, wasmtesting.Config())
	if _, err := s.Bind(ctx, schema); err != nil {
		b.Fatal(err)
	}
	empty, err := s.Snapshot(ctx)
	if err != nil {
		b.Fatal(err)
	}
	return func() {
		if err := s.Restore(ctx, empty); err != nil {
			b.Fatal(err)
		}
		for _, r := range recs {
			out, _, err := s.Process(ctx, r)
			if err != nil {
				b.Fatal(err)
			}
			out.Release()
		}
		outs, err := s.Finish(ctx)
		if err != nil {
			b.Fatal(err)
		}
		for _, o := range outs {
			o.Release()
		}
	}
}
