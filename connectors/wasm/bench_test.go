package wasm_test

import (
	"context"
	"fmt"
	"math"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	_ "github.com/dataweaver/dataweaver/connectors/all"
	"github.com/dataweaver/dataweaver/engine"
	"github.com/dataweaver/dataweaver/engine/config"
	"github.com/dataweaver/dataweaver/engine/spec"
)

const benchRows = 1_000_000

// benchInput writes the 1M-row orders table as JSON Lines once per test
// binary (connectors/generate's orders preset through the jsonl format).
var benchInput = sync.OnceValues(func() (string, error) {
	path := filepath.Join(guestDir, "orders.jsonl")
	err := runPipeline(engine.DefaultEnvironment(), fmt.Sprintf(`
source: {generate: {preset: orders, rows: %d, seed: 1}}
sinks: [{file: %q}]
`, benchRows, path))
	return path, err
})

func runPipeline(env *engine.Environment, yaml string) error {
	f, err := config.Parse([]byte(yaml), "bench.yaml", config.Options{Env: env})
	if err != nil {
		return err
	}
	p, err := config.Build(f, config.Options{Env: env})
	if err != nil {
		return err
	}
	defer p.Close()
	_, err = p.Run(context.Background())
	return err
}

// The orders job's three steps, written once as Wasm stages and once as
// native Go stages with the same logic (nativeEnv).
const wasmJob = `
  - wasm: {path: DIR/filter.wasm, config: {column: amount, op: ">=", value: 0}, timeout: TIMEOUT}
    workers: W
  - wasm: {path: DIR/filter.wasm, config: {column: country, op: "!=", value: XX}, timeout: TIMEOUT}
    workers: W
  - wasm: {path: DIR/mask.wasm, config: {columns: [email]}, timeout: TIMEOUT}
    workers: W
  - wasm: {path: DIR/derive.wasm, timeout: TIMEOUT}
    workers: W
`

const nativeJob = `
  - native_filter: {}
    workers: W
  - native_mask: {}
    workers: W
  - native_derive: {}
    workers: W
`

// BenchmarkOrdersJob runs the end-to-end orders job, JSONL in → JSONL out,
// 1M rows per op: rows/s and CPU time per row (user+system, getrusage).
//
//	go test ./connectors/wasm -run '^$' -bench OrdersJob -benchtime 2x
func BenchmarkOrdersJob(b *testing.B) {
	in, err := benchInput()
	if err != nil {
		b.Fatal(err)
	}
	env := nativeEnv(b)
	out := filepath.Join(b.TempDir(), "out.jsonl")
	for _, kind := range []struct{ name, stages, timeout string }{
		{"wasm_timeout=10s", wasmJob, "10s"},
		{"wasm_timeout=0", wasmJob, "0s"},
		{"native", nativeJob, ""},
	} {
		for _, w := range []int{1, 2} {
			b.Run(fmt.Sprintf("%s/workers=%d", kind.name, w), func(b *testing.B) {
				stages := strings.NewReplacer("DIR", guestDir, "TIMEOUT", kind.timeout, "W", fmt.Sprint(w)).Replace(kind.stages)
				yaml := fmt.Sprintf("source: {file: %q}\nstages:%s\nsinks: [{file: %q}]\n", in, stages, out)
				// One untimed run warms the compilation cache and the page cache.
				if err := runPipeline(env, yaml); err != nil {
					b.Fatal(err)
				}
				cpu0 := cpuTime()
				b.ResetTimer()
				for b.Loop() {
					if err := runPipeline(env, yaml); err != nil {
						b.Fatal(err)
					}
				}
				b.StopTimer()
				rows := float64(b.N) * benchRows
				b.ReportMetric(rows/b.Elapsed().Seconds(), "rows/s")
				b.ReportMetric(float64(cpuTime()-cpu0)/rows, "cpu-ns/row")
				b.ReportMetric(0, "ns/op")
			})
		}
	}
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// nativeEnv adds Go versions of the job's steps to a copy of the default
// environment: the comparison the Wasm stages are measured against.
func nativeEnv(tb testing.TB) *engine.Environment {
	env := engine.DefaultEnvironment().Clone()
	for name, fn := range map[string]func(memory.Allocator, arrow.RecordBatch) arrow.RecordBatch{
		"native_filter": nativeFilter,
		"native_mask":   nativeMask,
		"native_derive": nativeDerive,
	} {
		err := env.RegisterStage(spec.New(name).Summary("benchmark baseline"), func(_ *spec.Parsed, bd engine.Build) (engine.Stage, error) {
			return &nativeStage{fn: fn, mem: bd.Mem}, nil
		})
		if err != nil {
			tb.Fatal(err)
		}
	}
	return env
}

type nativeStage struct {
	fn  func(memory.Allocator, arrow.RecordBatch) arrow.RecordBatch
	mem memory.Allocator
	out *arrow.Schema
}

func (s *nativeStage) Bind(_ context.Context, in *arrow.Schema) (*arrow.Schema, error) {
	rec := array.NewRecordBatch(in, emptyColumns(in), 0)
	defer rec.Release()
	o := s.fn(memory.DefaultAllocator, rec)
	defer o.Release()
	s.out = o.Schema()
	return s.out, nil
}

func emptyColumns(sc *arrow.Schema) []arrow.Array {
	cols := make([]arrow.Array, sc.NumFields())
	for i, f := range sc.Fields() {
		cols[i] = array.MakeArrayOfNull(memory.DefaultAllocator, f.Type, 0)
	}
	return cols
}

func (s *nativeStage) Process(_ context.Context, rec arrow.RecordBatch) (arrow.RecordBatch, []engine.RowError, error) {
	mem := s.mem
	if mem == nil {
		mem = memory.DefaultAllocator
	}
	return s.fn(mem, rec), nil, nil
}

func (s *nativeStage) Close() error { return nil }

// nativeFilter keeps rows with amount >= 0 and country != "XX", by slicing
// runs of kept rows and concatenating them.
func nativeFilter(mem memory.Allocator, rec arrow.RecordBatch) arrow.RecordBatch {
	sc := rec.Schema()
	amount := rec.Column(sc.FieldIndices("amount")[0]).(*array.Float64)
	country := rec.Column(sc.FieldIndices("country")[0]).(*array.String)
	keep := func(i int) bool {
		return amount.IsValid(i) && amount.Value(i) >= 0 && country.IsValid(i) && country.Value(i) != "XX"
	}
	n := int(rec.NumRows())
	var runs [][2]int
	for i := 0; i < n; {
		if !keep(i) {
			i++
			continue
		}
		j := i
		for j < n && keep(j) {
			j++
		}
		runs = append(runs, [2]int{i, j})
		i = j
	}
	if len(runs) == 1 && runs[0] == [2]int{0, n} {
		rec.Retain()
		return rec
	}
	cols := make([]arrow.Array, rec.NumCols())
	var kept int64
	for _, r := range runs {
		kept += int64(r[1] - r[0])
	}
	for c := range cols {
		parts := make([]arrow.Array, len(runs))
		for k, r := range runs {
			parts[k] = array.NewSlice(rec.Column(c), int64(r[0]), int64(r[1]))
		}
		if len(parts) == 0 {
			cols[c] = array.MakeArrayOfNull(mem, sc.Field(c).Type, 0)
			continue
		}
		a, err := array.Concatenate(parts, mem)
		for _, p := range parts {
			p.Release()
		}
		if err != nil {
			panic(err)
		}
		cols[c] = a
	}
	out := array.NewRecordBatch(sc, cols, kept)
	for _, c := range cols {
		c.Release()
	}
	return out
}

// nativeMask masks the email's local part to its first character + ***.
func nativeMask(mem memory.Allocator, rec arrow.RecordBatch) arrow.RecordBatch {
	sc := rec.Schema()
	idx := sc.FieldIndices("email")[0]
	in := rec.Column(idx).(*array.String)
	b := array.NewStringBuilder(mem)
	defer b.Release()
	b.Reserve(in.Len())
	b.ReserveData(len(in.ValueBytes()))
	var buf []byte
	for i := range in.Len() {
		if in.IsNull(i) {
			b.AppendNull()
			continue
		}
		v := in.Value(i)
		at := strings.IndexByte(v, '@')
		if at <= 0 {
			b.Append(v)
			continue
		}
		buf = append(append(append(buf[:0], v[0]), "***"...), v[at:]...)
		b.BinaryBuilder.Append(buf)
	}
	return replaceColumn(rec, idx, b.NewArray())
}

// nativeDerive appends amount_cents = round(amount × 100).
func nativeDerive(mem memory.Allocator, rec arrow.RecordBatch) arrow.RecordBatch {
	sc := rec.Schema()
	in := rec.Column(sc.FieldIndices("amount")[0]).(*array.Float64)
	b := array.NewInt64Builder(mem)
	defer b.Release()
	b.Reserve(in.Len())
	for i, x := range in.Float64Values() {
		if in.IsNull(i) {
			b.AppendNull()
			continue
		}
		b.UnsafeAppend(int64(math.Round(x * 100)))
	}
	a := b.NewArray()
	defer a.Release()
	fields := append(sc.Fields(), arrow.Field{Name: "amount_cents", Type: arrow.PrimitiveTypes.Int64, Nullable: true})
	cols := append(rec.Columns()[:len(rec.Columns()):len(rec.Columns())], a)
	return array.NewRecordBatch(arrow.NewSchema(fields, nil), cols, rec.NumRows())
}

func replaceColumn(rec arrow.RecordBatch, idx int, a arrow.Array) arrow.RecordBatch {
	defer a.Release()
	cols := append([]arrow.Array(nil), rec.Columns()...)
	cols[idx] = a
	return array.NewRecordBatch(rec.Schema(), cols, rec.NumRows())
}
