package c_test

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/bitutil"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/dataweaver/dataweaver/internal/benchrec/paired"
	"github.com/dataweaver/dataweaver/internal/wasmtest"
	"github.com/dataweaver/dataweaver/internal/wasmtesting"
	"github.com/dataweaver/dataweaver/wasmabi"
)

var gcdSchema = arrow.NewSchema([]arrow.Field{
	{Name: "a", Type: arrow.PrimitiveTypes.Int32, Nullable: true},
	{Name: "b", Type: arrow.PrimitiveTypes.Int32, Nullable: true},
}, nil)

// gcdBatch is arrow-udf's benchmark input (arrow-udf-wasm/benches/wasm.rs):
// a = 0..1023, b = 0, 2, …, 2046; or, with random set, 31-bit random
// pairs (Euclid then takes ~18 steps instead of 2).
func gcdBatch(mem memory.Allocator, random bool) arrow.RecordBatch {
	b := array.NewRecordBuilder(mem, gcdSchema)
	defer b.Release()
	r := rand.New(rand.NewPCG(1, 1))
	for i := range int32(1024) {
		x, y := i, 2*i
		if random {
			x, y = int32(r.Uint32()>>1), int32(r.Uint32()>>1)
		}
		b.Field(0).(*array.Int32Builder).Append(x)
		b.Field(1).(*array.Int32Builder).Append(y)
	}
	return b.NewRecordBatch()
}

// gcd is arrow-udf's function, Euclid's algorithm.
func gcd(a, b int32) int32 {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}

// gcdOut is the output schema, computed once as a stage does at bind.
var gcdOut = arrow.NewSchema(append(gcdSchema.Fields(), arrow.Field{Name: "gcd", Type: arrow.PrimitiveTypes.Int32, Nullable: true}), nil)

// nativeGCD is the same stage in Go: it appends gcd(a, b) as a new int32
// column, null where an input is, allocating like a Wasm stage's output.
func nativeGCD(mem memory.Allocator, rec arrow.RecordBatch) arrow.RecordBatch {
	a, b := rec.Column(0).(*array.Int32), rec.Column(1).(*array.Int32)
	n := a.Len()
	vals := memory.NewResizableBuffer(mem)
	vals.Resize(n * 4)
	out := arrow.Int32Traits.CastFromBytes(vals.Bytes())
	av, bv := a.Int32Values(), b.Int32Values()
	for i := range out {
		out[i] = gcd(av[i], bv[i])
	}
	var valid *memory.Buffer
	nulls := 0
	if a.NullN() > 0 || b.NullN() > 0 {
		valid = memory.NewResizableBuffer(mem)
		valid.Resize(int(bitutil.BytesForBits(int64(n))))
		bm := valid.Bytes()
		for i := range n {
			bitutil.SetBitTo(bm, i, a.IsValid(i) && b.IsValid(i))
		}
		nulls = n - bitutil.CountSetBits(bm, 0, n)
	}
	data := array.NewData(arrow.PrimitiveTypes.Int32, n, []*memory.Buffer{valid, vals}, nil, nulls, 0)
	col := array.NewInt32Data(data)
	data.Release()
	vals.Release()
	if valid != nil {
		valid.Release()
	}
	defer col.Release()
	return array.NewRecordBatch(gcdOut, []arrow.Array{rec.Column(0), rec.Column(1), col}, rec.NumRows())
}

// BenchmarkGCD: arrow-udf's gcd benchmark, one 1,024-row batch per op,
// through the C module in the wasmabi host (default 10 s timeout and
// timeout 0) and as a native Go stage. arrow-udf publishes 1.52 µs native
// and 15.5 µs Wasm per batch on its machine; compare ratios, not times.
//
//	go test ./transforms/c -run '^$' -bench GCD -count 5
func BenchmarkGCD(b *testing.B) {
	mem := memory.NewGoAllocator()
	for _, data := range []string{"arrow-udf", "random"} {
		rec := gcdBatch(mem, data == "random")
		b.Run(data+"/native", func(b *testing.B) {
			cpu := startCPU()
			for range b.N {
				nativeGCD(mem, rec).Release()
			}
			cpu.report(b, 1)
		})
		for _, to := range []time.Duration{wasmabi.DefaultTimeout, 0} {
			b.Run(fmt.Sprintf("%s/wasm-c/timeout=%v", data, to), func(b *testing.B) {
				s := gcdStage(b, "gcd.wasm", cWasm["gcd"], mem, to)
				b.ResetTimer()
				cpu := startCPU()
				for range b.N {
					processOnce(b, s, rec)
				}
				cpu.report(b, 1)
			})
		}
		rec.Release()
	}
}

// BenchmarkGCDPaired compares native Go, C and Rust on arrow-udf's gcd
// batch (a = i, b = 2i) with the default timeout and with timeout 0, in
// alternating blocks of 64 batches in one loop (internal/benchrec/paired),
// and reports each one's wall and CPU ns per batch and its ratios to
// native: the figures BENCHMARKS.md quotes for the ≤ 1.5x target. Rounds
// are separate runs:
//
//	for r in 1 2 3 4 5; do go test ./transforms/c -run '^$' -bench GCDPaired -benchtime 200x; done
func BenchmarkGCDPaired(b *testing.B) {
	mem := memory.NewGoAllocator()
	rec := gcdBatch(mem, false)
	defer rec.Release()
	rustWasm, err := os.ReadFile(filepath.Join(root, "transforms", "rust", "gcd", "gcd.wasm"))
	if err != nil {
		b.Fatal(err)
	}
	vs := []paired.Variant{{Name: "native", Run: func() { nativeGCD(mem, rec).Release() }}}
	for _, m := range []struct {
		lang string
		wasm []byte
	}{{"c", cWasm["gcd"]}, {"rust", rustWasm}} {
		for _, to := range []time.Duration{wasmabi.DefaultTimeout, 0} {
			s := gcdStage(b, m.lang+"-gcd.wasm", m.wasm, mem, to)
			vs = append(vs, paired.Variant{Name: fmt.Sprintf("%s-%v", m.lang, to), Run: func() { processOnce(b, s, rec) }})
		}
	}
	paired.Run(b, 64, vs...)
}

// gcdStage is a gcd module as a stage bound to gcdSchema, closed when the
// benchmark run ends.
func gcdStage(b *testing.B, module string, wasm []byte, mem memory.Allocator, timeout time.Duration) *wasmabi.Stage {
	b.Helper()
	ctx := context.Background()
	s, err := wasmabi.NewStage(ctx, wasm, wasmabi.NewConfig().WithCacheDir(cacheDir).WithTimeout(timeout).WithName("stages[0].wasm", module).WithAllocator(mem))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = s.Close() })
	if _, err := s.Bind(ctx, gcdSchema); err != nil {
		b.Fatal(err)
	}
	return s
}

// processOnce runs s on rec and drops the result.
func processOnce(b *testing.B, s *wasmabi.Stage, rec arrow.RecordBatch) {
	out, _, err := s.Process(context.Background(), rec)
	if err != nil {
		b.Fatal(err)
	}
	out.Release()
}

// cpuClock measures the process's CPU time (all threads: the guest call,
// the host, the garbage collector), steadier than wall time on a machine
// shared with other builds.
type cpuClock struct{ start time.Duration }

func startCPU() cpuClock { return cpuClock{paired.CPU()} }

// report adds ns/batch (wall) and cpu-ns/batch, and rows/s when rows > 1.
func (c cpuClock) report(b *testing.B, rows int) {
	cpu := paired.CPU() - c.start
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N), "ns/batch")
	b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N), "cpu-ns/batch")
	if rows > 1 {
		b.ReportMetric(float64(b.N)*float64(rows)/b.Elapsed().Seconds(), "rows/s")
	}
}

// TestGCDMatchesNative checks the benchmark compares like with like: the
// C module's column is the native stage's, nulls included.
func TestGCDMatchesNative(t *testing.T) {
	mem := wasmtesting.Allocator(t)
	ctx := context.Background()
	s := wasmtesting.NewStage(t, cWasm["gcd"], nil, mem, wasmtesting.Config().WithCacheDir(cacheDir))
	if _, err := s.Bind(ctx, gcdSchema); err != nil {
		t.Fatal(err)
	}
	edges := []int32{0, 1, -1, 2, -2, 6, 35, math.MaxInt32, math.MinInt32, math.MaxInt32 - 1, 1 << 30, -(1 << 30), 1836311903, 1134903170}
	for _, random := range []bool{false, true} {
		b := array.NewRecordBuilder(mem, gcdSchema)
		src := gcdBatch(mem, random)
		for i := range int(src.NumRows()) + len(edges)*len(edges) {
			var x, y int32
			if i < int(src.NumRows()) {
				x, y = src.Column(0).(*array.Int32).Value(i), src.Column(1).(*array.Int32).Value(i)
			} else {
				k := i - int(src.NumRows())
				x, y = edges[k/len(edges)], edges[k%len(edges)]
			}
			for c, v := range []int32{x, y} {
				if i%(7+4*c) == 3 {
					b.Field(c).AppendNull()
				} else {
					b.Field(c).(*array.Int32Builder).Append(v)
				}
			}
		}
		src.Release()
		rec := wasmtesting.Release(t, b.NewRecordBatch())
		b.Release()
		got, _, err := wasmtesting.Process(t, s, rec)
		if err != nil {
			t.Fatal(err)
		}
		want := wasmtesting.Release(t, nativeGCD(mem, rec))
		if !array.RecordEqual(got, want) {
			t.Errorf("random=%v: C gcd differs from native:\nC:      %v\nnative: %v", random, got.Column(2), want.Column(2))
		}
	}
}

// BenchmarkGuests runs the C and Go guests of filter, mask and derive on
// one 64K-row orders batch per op (with and without the stage timeout).
//
//	go test ./transforms/c -run '^$' -bench Guests -count 5
func BenchmarkGuests(b *testing.B) {
	mem := memory.NewGoAllocator()
	ctx := context.Background()
	rec := wasmtest.Orders(mem, 1<<16)
	defer rec.Release()
	confs := []struct {
		name, module string
		conf         conf
	}{
		{"filter_amount", "filter", conf{"column": "amount", "op": ">=", "value": 0}},
		{"filter_country", "filter", conf{"column": "country", "op": "!=", "value": "XX"}},
		{"mask", "mask", conf{"columns": []any{"email"}}},
		{"derive", "derive", conf{}},
	}
	for _, c := range confs {
		for _, lang := range []string{"go", "c"} {
			for _, to := range []time.Duration{wasmabi.DefaultTimeout, 0} {
				b.Run(fmt.Sprintf("%s/%s/timeout=%v", c.name, lang, to), func(b *testing.B) {
					wasm := goWasm[c.module]
					if lang == "c" {
						wasm = cWasm[c.module]
					}
					s, err := wasmabi.NewStage(ctx, wasm, wasmabi.NewConfig().WithCacheDir(cacheDir).WithTimeout(to).WithName("stages[0].wasm", c.module+".wasm").WithGuestConfig(c.conf).WithAllocator(mem))
					if err != nil {
						b.Fatal(err)
					}
					defer s.Close()
					if _, err := s.Bind(ctx, wasmtest.OrdersSchema); err != nil {
						b.Fatal(err)
					}
					b.ResetTimer()
					cpu := startCPU()
					for range b.N {
						out, _, err := s.Process(ctx, rec)
						if err != nil {
							b.Fatal(err)
						}
						out.Release()
					}
					cpu.report(b, int(rec.NumRows()))
				})
			}
		}
	}
}

// BenchmarkStart: compile (empty cache) + instantiate + bind, and the
// same from a warm on-disk cache, per module; the size is a metric.
func BenchmarkStart(b *testing.B) {
	mem := memory.NewGoAllocator()
	ctx := context.Background()
	for _, name := range []string{"filter", "mask", "derive", "gcd"} {
		for _, lang := range []string{"c", "go"} {
			wasm, sc, c := cWasm[name], schema, conf{"column": "amount", "value": 0}
			if lang == "go" {
				wasm = goWasm[name]
			}
			switch name {
			case "mask":
				c = conf{"columns": []any{"email"}}
			case "derive":
				c = nil
			case "gcd":
				sc, c = gcdSchema, nil
			}
			if wasm == nil {
				continue
			}
			start := func(b *testing.B, dir string) {
				s, err := wasmabi.NewStage(ctx, wasm, wasmabi.NewConfig().WithCacheDir(dir).WithName("stages[0].wasm", name+".wasm").WithGuestConfig(c).WithAllocator(mem))
				if err != nil {
					b.Fatal(err)
				}
				if _, err := s.Bind(ctx, sc); err != nil {
					b.Fatal(err)
				}
				_ = s.Close()
			}
			b.Run(name+"/"+lang+"/cold", func(b *testing.B) {
				for range b.N {
					start(b, "")
				}
				b.ReportMetric(float64(len(wasm)), "module-bytes")
			})
			b.Run(name+"/"+lang+"/warm", func(b *testing.B) {
				dir := b.TempDir()
				start(b, dir)
				b.ResetTimer()
				for range b.N {
					start(b, dir)
				}
			})
		}
	}
}
