package conformance_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/dataweaver/dataweaver/internal/benchrec/paired"
	"github.com/dataweaver/dataweaver/wasmabi"
)

// benchCases: one representative configuration per transform, and the
// batch size it runs on. gcd runs on arrow-udf's 1,024-row batches so its
// per-batch time compares with their published figures.
var benchCases = []struct {
	name string
	conf conf
	rows int
}{
	{"filter", conf{"column": "amount", "op": ">=", "value": 0}, 65536},
	{"mask", conf{"columns": []any{"email"}}, 65536},
	{"derive", conf{}, 65536},
	{"gcd", conf{}, 1024},
}

// BenchmarkTransforms runs each implementation on the same batch: the
// native Go version (the baseline), then every guest language under the
// default 10 s timeout and with timeout 0 (no loop instrumentation).
//
//	go test -run '^$' -bench Transforms -count 6 ./transforms/conformance | tee t.txt; benchstat t.txt
func BenchmarkTransforms(b *testing.B) {
	for _, bc := range benchCases {
		mem := memory.NewGoAllocator()
		rec := benchBatch(mem, bc.rows)
		if bc.name == "gcd" {
			rec.Release()
			rec = udfBatch(mem)
		}
		impls := append([]string{"native"}, transforms[bc.name]...)
		for _, impl := range impls {
			timeouts := []time.Duration{wasmabi.DefaultTimeout, 0}
			if impl == "native" {
				timeouts = timeouts[:1]
			}
			for _, to := range timeouts {
				name := fmt.Sprintf("%s/%s", bc.name, impl)
				if impl != "native" {
					name += fmt.Sprintf("/timeout=%v", to)
				}
				b.Run(name, func(b *testing.B) {
					proc := benchProcessor(b, impl, bc.name, bc.conf, rec.Schema(), mem, to)
					defer proc.close()
					b.SetBytes(0)
					b.ResetTimer()
					for range b.N {
						out, _, err := proc.process(mem, rec)
						if err != nil {
							b.Fatal(err)
						}
						out.Release()
					}
					b.ReportMetric(float64(bc.rows)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
					b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N), "ns/batch")
				})
			}
		}
		rec.Release()
	}
}

// BenchmarkTransformsPaired is BenchmarkTransforms with every
// implementation of a transform alternating in one loop, one batch per turn
// (internal/benchrec/paired), so the ratios to native that BENCHMARKS.md
// quotes hold on a shared machine. Rounds are separate runs:
//
//	for r in 1 2 3; do go test ./transforms/conformance -run '^$' -bench TransformsPaired -benchtime 20x; done
func BenchmarkTransformsPaired(b *testing.B) {
	for _, bc := range benchCases {
		b.Run(bc.name, func(b *testing.B) {
			mem := memory.NewGoAllocator()
			rec := benchBatch(mem, bc.rows)
			if bc.name == "gcd" {
				rec.Release()
				rec = udfBatch(mem)
			}
			defer rec.Release()
			var vs []paired.Variant
			for _, impl := range append([]string{"native"}, transforms[bc.name]...) {
				timeouts := []time.Duration{wasmabi.DefaultTimeout, 0}
				if impl == "native" {
					timeouts = timeouts[:1]
				}
				for _, to := range timeouts {
					proc := benchProcessor(b, impl, bc.name, bc.conf, rec.Schema(), mem, to)
					defer proc.close()
					name := impl
					if impl != "native" {
						name += fmt.Sprintf("-%v", to)
					}
					vs = append(vs, paired.Variant{Name: name, Run: func() {
						out, _, err := proc.process(mem, rec)
						if err != nil {
							b.Fatal(err)
						}
						out.Release()
					}})
				}
			}
			block := 1
			if bc.name == "gcd" {
				block = 64 // 1,024-row batches: a turn of one would time the clock
			}
			paired.Run(b, block, vs...)
		})
	}
}

// benchBatch is the table's batch without its 100 KB notes and binary
// column: an orders-like batch of id, amount, qty, country, email, a, b.
func benchBatch(mem memory.Allocator, rows int) arrow.RecordBatch {
	whole := batch(mem, rows, 7, false)
	defer whole.Release()
	var fields []arrow.Field
	var cols []arrow.Array
	for i, f := range whole.Schema().Fields() {
		if f.Name != "note" && f.Name != "data" {
			fields, cols = append(fields, f), append(cols, whole.Column(i))
		}
	}
	return array.NewRecordBatch(arrow.NewSchema(fields, nil), cols, whole.NumRows())
}

// udfBatch is arrow-udf's gcd input (arrow-udf-wasm/benches/wasm.rs):
// a = 0..1024, b = 0, 2, 4 .. 2046, both nullable int32 with no nulls.
func udfBatch(mem memory.Allocator) arrow.RecordBatch {
	a, b := array.NewInt32Builder(mem), array.NewInt32Builder(mem)
	defer a.Release()
	defer b.Release()
	for i := range int32(1024) {
		a.Append(i)
		b.Append(2 * i)
	}
	aa, ba := a.NewArray(), b.NewArray()
	defer aa.Release()
	defer ba.Release()
	sc := arrow.NewSchema([]arrow.Field{
		{Name: "a", Type: arrow.PrimitiveTypes.Int32, Nullable: true},
		{Name: "b", Type: arrow.PrimitiveTypes.Int32, Nullable: true},
	}, nil)
	return array.NewRecordBatch(sc, []arrow.Array{aa, ba}, 1024)
}

func benchProcessor(b *testing.B, impl, name string, c conf, sc *arrow.Schema, mem memory.Allocator, timeout time.Duration) processor {
	b.Helper()
	if impl == "native" {
		p, err := natives[name](c, sc)
		if err != nil {
			b.Fatal(err)
		}
		return p
	}
	if err := buildErrs[impl+"/"+name]; err != nil {
		b.Fatal(err)
	}
	s, err := wasmabi.NewStage(context.Background(), modules[impl+"/"+name], wasmabi.NewConfig().WithCacheDir(cacheDir).WithTimeout(timeout).WithName("stages[0].wasm", impl+"/"+name+".wasm").WithGuestConfig(c).WithAllocator(mem))
	if err != nil {
		b.Fatal(err)
	}
	if _, err := s.Bind(context.Background(), sc); err != nil {
		b.Fatal(err)
	}
	return wasmStage{s}
}

// BenchmarkStart measures a stage's start per language and module: cold
// (compile with an empty cache, instantiate, bind) and warm (the compiled
// module from the on-disk cache, as in a second `weave run`). The module's
// size is reported as a metric.
func BenchmarkStart(b *testing.B) {
	keys := make([]string, 0, len(modules))
	for k := range modules {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	mem := memory.NewGoAllocator()
	for _, key := range keys {
		wasm := modules[key]
		var c conf
		for _, bc := range benchCases {
			if filepath.Base(key) == bc.name {
				c = bc.conf
			}
		}
		start := func(b *testing.B, dir string) {
			s, err := wasmabi.NewStage(context.Background(), wasm, wasmabi.NewConfig().WithCacheDir(dir).WithName("stages[0].wasm", key+".wasm").WithGuestConfig(c).WithAllocator(mem))
			if err != nil {
				b.Fatal(err)
			}
			if _, err := s.Bind(context.Background(), schema); err != nil {
				b.Fatal(err)
			}
			s.Close()
		}
		b.Run(key+"/cold", func(b *testing.B) {
			for range b.N {
				b.StopTimer()
				dir, err := os.MkdirTemp(tmpDir, "cold-")
				if err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
				start(b, dir)
				b.StopTimer()
				os.RemoveAll(dir)
				b.StartTimer()
			}
			b.ReportMetric(float64(len(wasm)), "module-bytes")
		})
		b.Run(key+"/warm", func(b *testing.B) {
			dir := filepath.Join(tmpDir, "warm-"+filepath.Base(filepath.Dir(key+"/x"))+filepath.Base(key))
			start(b, dir)
			b.ResetTimer()
			for range b.N {
				start(b, dir)
			}
			b.ReportMetric(float64(len(wasm)), "module-bytes")
		})
	}
}
