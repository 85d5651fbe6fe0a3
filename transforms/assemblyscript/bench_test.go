package assemblyscript_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/dataweaver/dataweaver/wasmabi"
)

// benchBatch is 64K rows like the orders job's: amounts with two
// decimals, mostly non-negative, 2-letter countries, ~22-byte emails, no
// nulls.
func benchBatch(mem memory.Allocator) arrow.RecordBatch {
	const n = 1 << 16
	r := rand.New(rand.NewPCG(1, 2))
	b := array.NewRecordBuilder(mem, schema)
	defer b.Release()
	cs := []string{"FR", "DE", "US", "XX", "GB", "ES"}
	for i := range n {
		b.Field(0).(*array.Int64Builder).Append(int64(i))
		b.Field(1).(*array.Float64Builder).Append(float64(int64(r.NormFloat64()*5000+2000)) / 100)
		b.Field(2).(*array.StringBuilder).Append(cs[r.IntN(len(cs))])
		b.Field(3).(*array.StringBuilder).Append(fmt.Sprintf("user%06d@example.com", r.IntN(1000000)))
		b.Field(4).(*array.BooleanBuilder).Append(i%2 == 0)
	}
	return b.NewRecordBatch()
}

var benchStages = []struct {
	name, transform string
	conf            any
}{
	{"filter_amount", "filter", map[string]any{"column": "amount", "op": ">=", "value": 0}},
	{"filter_country", "filter", map[string]any{"column": "country", "op": "!=", "value": "XX"}},
	{"mask_email", "mask", map[string]any{"columns": []string{"email"}}},
	{"derive_cents", "derive", map[string]any{}},
}

// BenchmarkStages runs each stage in Go and AssemblyScript on the same
// 64K-row batch, with the default timeout (instrumented loops) and
// without, and reports rows/s:
//
//	go test ./transforms/assemblyscript -run '^$' -bench Stages -benchtime 20x
func BenchmarkStages(b *testing.B) {
	mem := memory.NewGoAllocator()
	rec := benchBatch(mem)
	defer rec.Release()
	for _, st := range benchStages {
		for _, timeout := range []time.Duration{wasmabi.DefaultTimeout, 0} {
			for _, lang := range []string{"go", "as"} {
				b.Run(fmt.Sprintf("%s/timeout=%v/%s", st.name, timeout, lang), func(b *testing.B) {
					cfg := wasmabi.NewConfig().WithCacheDir(cacheDir).WithTimeout(timeout)
					s, err := newStage(b, modules[lang+"/"+st.transform], st.conf, mem, cfg)
					if err != nil {
						b.Fatal(err)
					}
					defer s.Close()
					b.ResetTimer()
					for range b.N {
						out, _, err := s.Process(context.Background(), rec)
						if err != nil {
							b.Fatal(err)
						}
						out.Release()
					}
					b.ReportMetric(float64(rec.NumRows())*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
				})
			}
		}
	}
}

// BenchmarkStart measures a stage's start: compile (cold: empty cache;
// warm: compiled module cached on disk), instantiate, _initialize and bind.
func BenchmarkStart(b *testing.B) {
	for _, name := range names {
		for _, lang := range []string{"go", "as"} {
			wasm := modules[lang+"/"+name]
			conf := benchStages[0].conf
			switch name {
			case "mask":
				conf = benchStages[2].conf
			case "derive":
				conf = benchStages[3].conf
			}
			for _, cold := range []bool{true, false} {
				kind := "warm"
				if cold {
					kind = "cold"
				}
				b.Run(fmt.Sprintf("%s/%s/%s", name, kind, lang), func(b *testing.B) {
					dir := b.TempDir()
					if !cold {
						s, err := newStage(b, wasm, conf, nil, wasmabi.NewConfig().WithCacheDir(dir))
						if err != nil {
							b.Fatal(err)
						}
						s.Close()
					}
					b.ReportMetric(float64(len(wasm)), "module-bytes")
					b.ResetTimer()
					for i := range b.N {
						cache := dir
						if cold {
							cache = filepath.Join(dir, fmt.Sprint(i))
						}
						s, err := newStage(b, wasm, conf, nil, wasmabi.NewConfig().WithCacheDir(cache))
						if err != nil {
							b.Fatal(err)
						}
						s.Close()
					}
				})
			}
		}
	}
}
