package assemblyscript_test

import (
	"context"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/dataweaver/dataweaver/internal/benchrec/paired"
	"github.com/dataweaver/dataweaver/internal/wasmtesting"
	"github.com/dataweaver/dataweaver/internal/windowtest"
	"github.com/dataweaver/dataweaver/wasmabi"
)

// BenchmarkWindowAgg: 64 batches of 1,024 ordered orders and the end of
// input (one "batch" of the report is the whole pass) through the C and
// the AssemblyScript window_agg, alternated, under the default
// instrumentation (a timeout); "as/c" is the AssemblyScript module's time
// over C's:
//
//	go test ./transforms/assemblyscript -run '^$' -bench WindowAgg -benchtime 20x
func BenchmarkWindowAgg(b *testing.B) {
	mem := memory.NewGoAllocator()
	rows := windowtest.Orders(64*1024, 5, false)
	var recs []arrow.RecordBatch
	for lo := 0; lo < len(rows); lo += 1024 {
		recs = append(recs, windowtest.Batch(mem, rows[lo:lo+1024]))
	}
	defer func() {
		for _, r := range recs {
			r.Release()
		}
	}()
	ctx := context.Background()
	pass := func(wasm []byte) paired.Variant {
		s := wasmtesting.NewStage(b, wasm, nil, mem, wasmtesting.Config().WithCacheDir(cacheDir))
		if _, err := s.Bind(ctx, waSchema); err != nil {
			b.Fatal(err)
		}
		// Every pass starts from the empty state: the same rows again
		// would otherwise be late for the windows the last pass emitted.
		empty, err := s.Snapshot(ctx)
		if err != nil {
			b.Fatal(err)
		}
		return paired.Variant{Run: func() { windowAggPass(b, s, empty, recs) }}
	}
	c, as := pass(cWindowAgg(b)), pass(asWindowAgg(b))
	c.Name, as.Name = "c", "as"
	paired.Run(b, 1, c, as)
}

func windowAggPass(b *testing.B, s *wasmabi.Stage, empty []byte, recs []arrow.RecordBatch) {
	ctx := context.Background()
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
