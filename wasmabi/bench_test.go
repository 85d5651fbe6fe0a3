package wasmabi

import (
	"context"
	"math"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/dataweaver/dataweaver/internal/benchrec/paired"
	"github.com/dataweaver/dataweaver/internal/wasmtest"
)

const (
	benchBatch   = 64 << 10
	benchBatches = 16 // 1M rows per op
)

type nativeFn func(mem memory.Allocator, rec arrow.RecordBatch) arrow.RecordBatch

// The native stages do what the transforms do, in plain Go on Arrow arrays.
var natives = map[string]nativeFn{
	// identity passes the batch through: what a stage costs when it
	// does nothing.
	"identity": func(_ memory.Allocator, rec arrow.RecordBatch) arrow.RecordBatch {
		rec.Retain()
		return rec
	},
	"filter": func(mem memory.Allocator, rec arrow.RecordBatch) arrow.RecordBatch {
		a := rec.Column(3).(*array.Float64)
		keep, kept := make([]bool, a.Len()), 0
		for i, v := range a.Float64Values() {
			if v >= 0 {
				keep[i] = true
				kept++
			}
		}
		return filterRecord(mem, rec, keep, kept)
	},
	"filter_country": func(mem memory.Allocator, rec arrow.RecordBatch) arrow.RecordBatch {
		a := rec.Column(2).(*array.String)
		keep, kept := make([]bool, a.Len()), 0
		for i := range a.Len() {
			if a.IsValid(i) && a.Value(i) != "XX" {
				keep[i] = true
				kept++
			}
		}
		return filterRecord(mem, rec, keep, kept)
	},
	"mask": func(mem memory.Allocator, rec arrow.RecordBatch) arrow.RecordBatch {
		a := rec.Column(1).(*array.String)
		b := array.NewStringBuilder(mem)
		defer b.Release()
		b.ReserveData(a.Len() * 16)
		for i := range a.Len() {
			s := a.Value(i)
			if at := strings.LastIndexByte(s, '@'); at > 0 {
				b.Append(s[:1] + "***" + s[at:])
			} else {
				b.Append(s[:min(1, len(s))] + "***")
			}
		}
		m := b.NewArray()
		defer m.Release()
		cols := []arrow.Array{rec.Column(0), m, rec.Column(2), rec.Column(3)}
		return array.NewRecordBatch(rec.Schema(), cols, rec.NumRows())
	},
	"derive": func(mem memory.Allocator, rec arrow.RecordBatch) arrow.RecordBatch {
		a := rec.Column(3).(*array.Float64)
		b := array.NewInt64Builder(mem)
		defer b.Release()
		b.Reserve(a.Len())
		for _, v := range a.Float64Values() {
			b.UnsafeAppend(int64(math.Round(v * 100)))
		}
		c := b.NewArray()
		defer c.Release()
		s := arrow.NewSchema(append(rec.Schema().Fields(), arrow.Field{Name: "amount_cents", Type: arrow.PrimitiveTypes.Int64, Nullable: true}), nil)
		return array.NewRecordBatch(s, append(rec.Columns(), c), rec.NumRows())
	},
}

var benchConf = map[string]any{
	"identity": map[string]any{"floats": []string{"amount"}, "strings": []string{"email"}},
	"filter":   map[string]any{"column": "amount", "op": ">=", "value": 0},
	// filter_country is the orders job's second filter (a string column).
	"filter_country": map[string]any{"column": "country", "op": "!=", "value": "XX"},
	"mask":           map[string]any{"columns": []string{"email"}},
	"derive":         nil,
}

func filterRecord(mem memory.Allocator, rec arrow.RecordBatch, keep []bool, kept int) arrow.RecordBatch {
	cols := make([]arrow.Array, rec.NumCols())
	for c := range cols {
		cols[c], _ = filterArray(mem, rec.Column(c), keep, kept)
	}
	out := array.NewRecordBatch(rec.Schema(), cols, int64(kept))
	for _, c := range cols {
		c.Release()
	}
	return out
}

// BenchmarkStages: 1M rows (16 × 64K) per op through each transform as a
// Wasm stage and as the same logic in native Go.
func BenchmarkStages(b *testing.B) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(b, 0)
	rec := wasmtest.Orders(mem, benchBatch)
	defer rec.Release()
	ctx := context.Background()
	for _, name := range []string{"identity", "filter", "filter_country", "mask", "derive"} {
		for _, v := range []struct {
			name string
			cfg  Config
		}{{"wasm", NewConfig()}, {"wasm-no-timeout", NewConfig().WithTimeout(0)}} {
			b.Run(name+"/"+v.name, func(b *testing.B) {
				s := newStage(b, strings.TrimSuffix(name, "_country"), benchConf[name], mem, v.cfg)
				if _, err := s.Bind(ctx, wasmtest.OrdersSchema); err != nil {
					b.Fatal(err)
				}
				b.ResetTimer()
				for range b.N {
					for range benchBatches {
						out, _, err := s.Process(ctx, rec)
						if err != nil {
							b.Fatal(err)
						}
						out.Release()
					}
				}
				b.ReportMetric(float64(b.N*benchBatch*benchBatches)/b.Elapsed().Seconds(), "rows/s")
				_ = s.Close()
			})
		}
		b.Run(name+"/native", func(b *testing.B) {
			fn := natives[name]
			for range b.N {
				for range benchBatches {
					fn(mem, rec).Release()
				}
			}
			b.ReportMetric(float64(b.N*benchBatch*benchBatches)/b.Elapsed().Seconds(), "rows/s")
		})
	}
}

// BenchmarkStagesPaired: each transform as a Wasm stage with the default
// timeout, with timeout 0, and in native Go, one 64K-row batch per call,
// alternating in blocks of 4 batches (internal/benchrec/paired), so the
// ratios to native hold on a loaded machine. -benchtime 4x = 1M rows per
// variant.
//
//	go test ./wasmabi -run '^$' -bench StagesPaired -benchtime 4x
func BenchmarkStagesPaired(b *testing.B) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(b, 0)
	rec := wasmtest.Orders(mem, benchBatch)
	defer rec.Release()
	ctx := context.Background()
	for _, name := range []string{"identity", "filter", "filter_country", "mask", "derive"} {
		b.Run(name, func(b *testing.B) {
			fn := natives[name]
			vs := []paired.Variant{{Name: "native", Run: func() { fn(mem, rec).Release() }}}
			for _, v := range []struct {
				name string
				cfg  Config
			}{{"wasm", NewConfig()}, {"wasm-no-timeout", NewConfig().WithTimeout(0)}} {
				s := newStage(b, strings.TrimSuffix(name, "_country"), benchConf[name], mem, v.cfg)
				vs = append(vs, stageVariant(b, ctx, v.name, s, rec))
			}
			paired.Run(b, 4, vs...)
		})
	}
}

// BenchmarkFixedCostPaired: the fixed cost per call (1-row derive batch,
// the production allocator) without and with the default timeout, in
// alternating blocks of 256 calls, with CPU time beside wall time: the
// figures BENCHMARKS.md quotes for the < 2 µs target.
//
//	go test ./wasmabi -run '^$' -bench FixedCostPaired -benchtime 200x
func BenchmarkFixedCostPaired(b *testing.B) {
	mem := memory.NewGoAllocator()
	rec := wasmtest.Orders(mem, 1)
	defer rec.Release()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var vs []paired.Variant
	for _, v := range []struct {
		name string
		cfg  Config
	}{{"no-timeout", NewConfig().WithTimeout(0)}, {"timeout", NewConfig()}} {
		vs = append(vs, stageVariant(b, ctx, v.name, newStage(b, "derive", nil, mem, v.cfg), rec))
	}
	paired.Run(b, 256, vs...)
}

// stageVariant binds s to the orders schema and returns it as a paired
// variant processing rec; newStage closes s when the benchmark ends.
func stageVariant(b *testing.B, ctx context.Context, name string, s *Stage, rec arrow.RecordBatch) paired.Variant {
	b.Helper()
	if _, err := s.Bind(ctx, wasmtest.OrdersSchema); err != nil {
		b.Fatal(err)
	}
	return paired.Variant{Name: name, Run: func() {
		out, _, err := s.Process(ctx, rec)
		if err != nil {
			b.Fatal(err)
		}
		out.Release()
	}}
}

// BenchmarkFixedCost: one call on a 1-row batch. The variants separate the
// cost of wazero's close-on-context-done instrumentation from the cost of
// the per-call stop plumbing:
//
//   - no-timeout: compiled without the checks, context.Background.
//   - checks/background: compiled with them (wazero then starts a watcher
//     goroutine per call), no timeout, context.Background.
//   - checks/cancellable: the same under a cancellable caller context.
//   - timeout: the default 10 s timeout (the instance's stopper), under a
//     cancellable caller context as in the engine.
//
// alloc=go is the allocator pipelines use (memory.DefaultAllocator);
// alloc=checked adds arrow's leak-checking allocator, which records a
// stack trace per allocation.
func BenchmarkFixedCost(b *testing.B) {
	for _, alloc := range []string{"go", "checked"} {
		var mem memory.Allocator = memory.NewGoAllocator()
		checked := memory.NewCheckedAllocator(memory.NewGoAllocator())
		if alloc == "checked" {
			mem = checked
		}
		rec := wasmtest.Orders(mem, 1)
		for _, tc := range []struct {
			name        string
			timeout     bool
			instrument  bool
			cancellable bool
		}{
			{"no-timeout", false, false, false},
			{"checks/background", false, true, false},
			{"checks/cancellable", false, true, true},
			{"timeout", true, false, true},
		} {
			b.Run("alloc="+alloc+"/"+tc.name, func(b *testing.B) {
				cfg := NewConfig()
				if !tc.timeout {
					cfg = cfg.WithTimeout(0)
				}
				cfg = cfg.WithInterruptible(tc.instrument)
				ctx := context.Background()
				if tc.cancellable {
					var cancel context.CancelFunc
					ctx, cancel = context.WithCancel(ctx)
					defer cancel()
				}
				s := newStage(b, "derive", nil, mem, cfg)
				if _, err := s.Bind(ctx, wasmtest.OrdersSchema); err != nil {
					b.Fatal(err)
				}
				b.ReportAllocs()
				b.ResetTimer()
				for range b.N {
					out, _, err := s.Process(ctx, rec)
					if err != nil {
						b.Fatal(err)
					}
					out.Release()
				}
				b.StopTimer()
				_ = s.Close()
			})
		}
		rec.Release()
		checked.AssertSize(b, 0)
	}
}

// BenchmarkBoundary: laying a batch's touched columns out in guest memory
// (writeBatch) against a plain copy of the same bytes.
func BenchmarkBoundary(b *testing.B) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(b, 0)
	rec := wasmtest.Orders(mem, benchBatch)
	defer rec.Release()
	cols := []inCol{{index: 1, code: codeUTF8, arr: rec.Column(1)}, {index: 3, code: codeFloat64, arr: rec.Column(3)}}
	size := layoutSize(cols)
	view := make([]byte, size)
	var srcs [][]byte
	for _, c := range cols {
		for _, buf := range c.arr.Data().Buffers() {
			if buf != nil {
				srcs = append(srcs, buf.Bytes())
			}
		}
	}
	b.Run("writeBatch", func(b *testing.B) {
		b.SetBytes(int64(size))
		for range b.N {
			writeBatch(view, 64, benchBatch, cols)
		}
	})
	b.Run("memcpy", func(b *testing.B) {
		b.SetBytes(int64(size))
		for range b.N {
			pos := 0
			for _, s := range srcs {
				pos += copy(view[pos:], s)
			}
		}
	})
}
