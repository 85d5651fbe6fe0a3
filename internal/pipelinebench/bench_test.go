package pipelinebench

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/dataweaver/dataweaver/connectors/generate"
	memsrc "github.com/dataweaver/dataweaver/connectors/inmemory"
	"github.com/dataweaver/dataweaver/engine"
)

var benchRows = flag.Int("pipelinebench.rows", 1_000_000, "rows of the orders table the benchmarks read")

// inputs are written once per benchmark process, before any benchmark
// starts (so a -cpuprofile does not include them), and only when
// benchmarks run: a plain go test writes nothing.
var inputs struct {
	dir   string // holds in/ and out/
	sizes map[string]int64
}

func TestMain(m *testing.M) {
	flag.Parse()
	os.Exit(runMain(m))
}

func runMain(m *testing.M) int {
	if !benchmarking() {
		return m.Run()
	}
	dir, err := os.MkdirTemp("", "pipelinebench-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	start := time.Now()
	sizes, err := writeInputs(context.Background(), filepath.Join(dir, "in"), *benchRows)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	fmt.Fprintf(os.Stderr, "pipelinebench: %d rows written in %s:", *benchRows, time.Since(start).Round(time.Millisecond))
	for _, n := range Inputs {
		fmt.Fprintf(os.Stderr, " %s %.1f MB", n, float64(sizes[n])/1e6)
	}
	fmt.Fprintln(os.Stderr)
	inputs.dir, inputs.sizes = dir, sizes
	// Leave the generator's garbage behind before the first measurement.
	runtime.GC()
	return m.Run()
}

// vars names the inputs and the output directory; BENCH_OUT from the
// environment wins (BENCH_OUT=/dev/shm/x measures without the disk).
// benchmarking reports whether -bench selects BenchmarkOrders, so that
// go test -bench ReadOrders ./... does not write inputs here for nothing.
func benchmarking() bool {
	f := flag.Lookup("test.bench")
	if f == nil || f.Value.String() == "" {
		return false
	}
	top, _, _ := strings.Cut(f.Value.String(), "/")
	re, err := regexp.Compile(top)
	return err != nil || re.MatchString("BenchmarkOrders")
}

func vars() map[string]string {
	return map[string]string{
		"BENCH_IN":   filepath.Join(inputs.dir, "in"),
		"BENCH_OUT":  outDir(),
		"BENCH_ROWS": strconv.Itoa(*benchRows),
	}
}

func outDir() string {
	if d := os.Getenv("BENCH_OUT"); d != "" {
		return d
	}
	return filepath.Join(inputs.dir, "out")
}

// BenchmarkOrders runs the three target pipelines and their baselines on
// the orders table, one after another in one process, so each pipeline
// can be compared with baselines measured minutes apart under much the
// same load. (-count N repeats each sub-benchmark N times in a row; to
// spread a changing load evenly, run the whole command N times instead.)
//
// Metrics: rows/s is wall clock; MB/s is the input file's size (the output
// file's for the memory-fed writers); cpu-ns/row is the process's user +
// system CPU per row, the figure to compare under load; gc/op is GC cycles
// per pipeline run.
func BenchmarkOrders(b *testing.B) {
	for _, p := range Pipelines {
		b.Run(p.Name, func(b *testing.B) { benchFile(b, p) })
	}
	b.Run("baseline", func(b *testing.B) {
		for _, p := range Baselines {
			b.Run(p.Name, func(b *testing.B) { benchFile(b, p) })
		}
		// The writers (and the select stage) fed from records already in
		// memory: the sink half of each target pipeline. memory-discard is
		// the runner alone, passing batches that nothing touches.
		for _, p := range []Pipeline{
			pipeline("memory-discard", "", "", ""),
			pipeline("memory-parquet", "", "", "out.parquet"),
			pipeline("memory-jsonl", "", "", "out.jsonl"),
			pipeline("memory-select-parquet", "", selectStage, "out.parquet"),
		} {
			b.Run(p.Name, func(b *testing.B) { benchMemory(b, p) })
		}
	})
}

// benchFile runs a pipeline file as it is.
func benchFile(b *testing.B, p Pipeline) {
	if inputs.dir == "" {
		b.Skip("inputs not written")
	}
	if p.Input != "" {
		b.SetBytes(inputs.sizes[p.Input])
	}
	measure(b, p, nil)
}

// benchMemory runs a pipeline file whose generate source is replaced by a
// memory source serving the orders table, made once beforehand in batches
// of BENCH_BATCH rows.
func benchMemory(b *testing.B, p Pipeline) {
	if inputs.dir == "" {
		b.Skip("inputs not written")
	}
	batch := 65536
	if v, err := strconv.Atoi(os.Getenv("BENCH_BATCH")); err == nil && v > 0 {
		batch = v
	}
	var recs []arrow.RecordBatch
	for start := 0; start < *benchRows; start += batch {
		recs = append(recs, generate.OrdersRange(memory.DefaultAllocator, Seed, start, min(batch, *benchRows-start)))
	}
	defer func() {
		for _, r := range recs {
			r.Release()
		}
	}()
	runtime.GC()
	measure(b, p, func(pl *engine.Pipeline) func() {
		_ = pl.Source.Source.Close()
		src := memsrc.NewSource(generate.OrdersSchema, recs...)
		pl.Source.Source = src
		return src.Release
	})
	if p.Output != "" {
		if st, err := os.Stat(filepath.Join(outDir(), p.Output)); err == nil {
			b.SetBytes(st.Size())
		}
	}
}

// measure runs p b.N times and reports rows/s, cpu-ns/row and gc/op.
// swap, when set, changes the built pipeline before it runs and returns
// what to call after.
func measure(b *testing.B, p Pipeline, swap func(*engine.Pipeline) func()) {
	b.ReportAllocs()
	ctx := context.Background()
	var rows int64
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	gc0, cpu0 := ms.NumGC, cpuTime()
	for b.Loop() {
		pl, err := build(p, vars(), nil)
		if err != nil {
			b.Fatal(err)
		}
		done := func() {}
		if swap != nil {
			done = swap(pl)
		}
		m, err := pl.Run(ctx)
		done()
		if err != nil {
			b.Fatal(err)
		}
		n := rowsOut(m, pl)
		if n != int64(*benchRows) {
			b.Fatalf("%d rows reached the sink, want %d", n, *benchRows)
		}
		rows += n
	}
	cpu := cpuTime() - cpu0
	runtime.ReadMemStats(&ms)
	b.ReportMetric(float64(rows)/b.Elapsed().Seconds(), "rows/s")
	b.ReportMetric(float64(cpu.Nanoseconds())/float64(rows), "cpu-ns/row")
	b.ReportMetric(float64(ms.NumGC-gc0)/float64(b.N), "gc/op")
}
