package wasmabi

import (
	"context"
	"os"
	"path/filepath"
	"runtime/pprof"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/dataweaver/dataweaver/connectors/generate"
	"github.com/dataweaver/dataweaver/internal/benchrec/paired"
	"github.com/dataweaver/dataweaver/internal/gather"
)

// chainBatch is the batch the Parquet source hands W2's stages (16K rows).
const chainBatch = 16 << 10

// chainStep is one of W2's four stages, as the peers benchmark configures it.
var chainSteps = []struct {
	name, guest string
	conf        any
}{
	{"filter_amount", "filter", map[string]any{"column": "amount", "op": ">=", "value": 0}},
	{"filter_country", "filter", map[string]any{"column": "country", "op": "!=", "value": "XX"}},
	{"mask", "mask", map[string]any{"columns": []string{"email"}}},
	{"derive", "derive", nil},
}

// BenchmarkChain: W2's four Wasm stages on the 7-column orders table
// (connectors/generate, seed 42) in 16K-row batches, chained as the engine
// chains them: each stage's ProcessSelected gets the previous one's
// selection, and the rows still selected after the last stage are gathered
// once, as the engine does before a sink. C and Go guests, default
// timeout. Reports each stage's CPU and wall time per batch (the process's
// CPU, so a guest's helper goroutines and the GC count) and the final
// gather's, and the chain's total per 1M rows.
//
//	go test ./wasmabi -run '^$' -bench Chain -benchtime 60x
func BenchmarkChain(b *testing.B) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(b, 0)
	const batches = 8
	var recs []arrow.RecordBatch
	for i := range batches {
		recs = append(recs, generate.OrdersRange(mem, 42, i*chainBatch, chainBatch))
	}
	defer func() {
		for _, r := range recs {
			r.Release()
		}
	}()
	ctx := context.Background()
	for _, lang := range []string{"c", "go"} {
		b.Run(lang, func(b *testing.B) {
			var stages []*Stage
			schema := generate.OrdersSchema
			for _, st := range chainSteps {
				var s *Stage
				if lang == "c" {
					wasm, err := os.ReadFile(filepath.Join("..", "transforms", "c", st.guest, st.guest+".wasm"))
					if err != nil {
						b.Fatal(err)
					}
					s = newStageOf(b, st.guest+".wasm", wasm, st.conf, mem, NewConfig())
				} else {
					s = newStage(b, st.guest, st.conf, mem, NewConfig())
				}
				out, err := s.Bind(ctx, schema)
				if err != nil {
					b.Fatal(err)
				}
				schema = out
				stages = append(stages, s)
			}
			labels := make([]pprof.LabelSet, len(chainSteps))
			for k, st := range chainSteps {
				labels[k] = pprof.Labels("stage", st.name)
			}
			wall := make([]time.Duration, len(stages)+1)
			cpu := make([]time.Duration, len(stages)+1)
			run := func(rec arrow.RecordBatch, timed bool) {
				rec.Retain()
				var sel []int
				for k, s := range stages {
					w, c := time.Now(), paired.CPU()
					var out arrow.RecordBatch
					var outSel []int
					var err error
					// Labelled, so a -cpuprofile splits by stage (-tagfocus stage=mask).
					pprof.Do(ctx, labels[k], func(ctx context.Context) {
						out, outSel, _, err = s.ProcessSelected(ctx, rec, sel)
					})
					if timed {
						cpu[k] += paired.CPU() - c
						wall[k] += time.Since(w)
					}
					rec.Release()
					if err != nil {
						b.Fatal(err)
					}
					rec, sel = out, outSel
				}
				if sel != nil {
					w, c := time.Now(), paired.CPU()
					g, err := gather.Record(mem, rec, sel)
					if timed {
						cpu[len(stages)] += paired.CPU() - c
						wall[len(stages)] += time.Since(w)
					}
					if err != nil {
						b.Fatal(err)
					}
					rec.Release()
					rec = g
				}
				rec.Release()
			}
			for _, r := range recs {
				run(r, false) // instantiate, warm
			}
			b.ResetTimer()
			for i := range b.N {
				run(recs[i%batches], true)
			}
			b.StopTimer()
			var total time.Duration
			for k := range cpu {
				name := "gather"
				if k < len(stages) {
					name = chainSteps[k].name
				}
				total += cpu[k]
				b.ReportMetric(float64(cpu[k].Nanoseconds())/float64(b.N)/1e3, name+"-cpu-µs/batch")
				b.ReportMetric(float64(wall[k].Nanoseconds())/float64(b.N)/1e3, name+"-µs/batch")
			}
			b.ReportMetric(total.Seconds()/float64(b.N*chainBatch)*1e6, "cpu-s/1M-rows")
		})
	}
}
