package pipelinebench

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// Seed is the generator seed of every input, the one the format packages'
// own benchmarks use for their "generate" data.
const Seed = 42

// Input files InputsYAML can write, named by format.
const (
	CSV     = "orders.csv"
	JSONL   = "orders.jsonl"
	Parquet = "orders.parquet"
)

// Inputs lists every input file, in the order InputsYAML writes them.
var Inputs = []string{CSV, JSONL, Parquet}

// Pipeline is one measured pipeline file. Its text refers to BENCH_IN,
// BENCH_OUT and the tuning variables described in the package comment.
type Pipeline struct {
	Name string
	// Input is the file the source reads, in BENCH_IN; empty when the
	// source generates its rows.
	Input string
	// Output is the file the sink writes, in BENCH_OUT; empty for discard.
	Output string
	YAML   string
}

// Step texts shared by the pipelines. Variables sit in block mappings:
// in a {flow} mapping YAML would read the braces of ${VAR} as its own.
const (
	batchKeys = `batch:
  rows: ${BENCH_BATCH:-65536}
buffer: ${BENCH_BUFFER:-4}
`
	fileSource = `source:
  file:
    path: ${BENCH_IN}/%s
    workers: ${BENCH_WORKERS:-0}
`
	genSource = `source:
  generate:
    preset: orders
    rows: ${BENCH_ROWS}
    seed: %d
`
	fileSink = `sinks:
  - file:
      path: ${BENCH_OUT}/%s
`
	discardSink = `sinks:
  - discard:
`
	selectStage = `stages:
  - select: {columns: [id, email, amount]}
`
)

func pipeline(name, input, stages, output string) Pipeline {
	var b strings.Builder
	fmt.Fprintf(&b, "name: %s\n", name)
	if input == "" {
		fmt.Fprintf(&b, genSource, Seed)
	} else {
		fmt.Fprintf(&b, fileSource, input)
	}
	b.WriteString(stages)
	if output == "" {
		b.WriteString(discardSink)
	} else {
		fmt.Fprintf(&b, fileSink, output)
	}
	b.WriteString(batchKeys)
	return Pipeline{Name: name, Input: input, Output: output, YAML: b.String()}
}

// Pipelines are the three pipelines the targets are stated for.
var Pipelines = []Pipeline{
	pipeline("csv-parquet", CSV, "", "out.parquet"),
	pipeline("jsonl-jsonl", JSONL, "", "out.jsonl"),
	pipeline("parquet-select-parquet", Parquet, selectStage, "out.parquet"),
}

// Baselines are the pipelines' parts, run alone: the engine moving
// generated batches to a sink that drops them (generate-discard, which
// needs BENCH_ROWS), and each reader into that sink.
var Baselines = []Pipeline{
	pipeline("generate-discard", "", "", ""),
	pipeline("csv-discard", CSV, "", ""),
	pipeline("jsonl-discard", JSONL, "", ""),
	pipeline("parquet-discard", Parquet, "", ""),
	pipeline("parquet-select-discard", Parquet, selectStage, ""),
}

// W1 is issue 16's job W1 as testdata/pipelines/wasm_orders.yaml has it:
// the JSON Lines input through four Wasm stages (drop amount < 0, drop
// country XX, mask the email, add amount_cents) into JSON Lines, at the
// default batch size (it sets no batch keys: the default is what the
// memory target is stated for). Its modules are the Go guests of `make
// wasm-go`, in BENCH_WASM. It is in neither list, since the other
// pipelines need no modules; cmd/rss runs it with -pipelines w1.
var W1 = Pipeline{Name: "w1", Input: JSONL, Output: "out.jsonl", YAML: `name: w1
source:
  file:
    path: ${BENCH_IN}/` + JSONL + `
stages:
  - wasm:
      path: ${BENCH_WASM}/filter.wasm
      config: {column: amount, op: ">=", value: 0}
  - wasm:
      path: ${BENCH_WASM}/filter.wasm
      config: {column: country, op: "!=", value: XX}
  - wasm:
      path: ${BENCH_WASM}/mask.wasm
      config: {columns: [email]}
  - wasm:
      path: ${BENCH_WASM}/derive.wasm
sinks:
  - file:
      path: ${BENCH_OUT}/out.jsonl
`}

// InputsYAML is the pipeline file that writes rows rows of the orders
// table into dir under the given names (CSV, JSONL, Parquet; all of Inputs
// when none are given): a generate source fanned out to one file sink per
// input, so the inputs are what weave itself writes.
func InputsYAML(dir string, rows int, names ...string) string {
	if len(names) == 0 {
		names = Inputs
	}
	var b strings.Builder
	fmt.Fprintf(&b, "name: orders-inputs\nsource:\n  generate: {preset: orders, rows: %d, seed: %d}\nsinks:\n", rows, Seed)
	for _, n := range names {
		fmt.Fprintf(&b, "  - file: {path: %q}\n", filepath.Join(dir, n))
	}
	b.WriteString("batch: {rows: 65536}\n")
	return b.String()
}

// Settle flushes the named files in dir to disk. Inputs written just
// before a measurement would otherwise be written back by the kernel
// during the first one, which then runs at a fraction of its speed.
func Settle(dir string, names ...string) error {
	for _, n := range names {
		f, err := os.Open(filepath.Join(dir, n))
		if err != nil {
			return err
		}
		err = f.Sync()
		f.Close()
		if err != nil {
			return err
		}
	}
	return nil
}

// Sizes returns the sizes of the named files in dir.
func Sizes(dir string, names ...string) (map[string]int64, error) {
	sizes := map[string]int64{}
	for _, n := range names {
		st, err := os.Stat(filepath.Join(dir, n))
		if err != nil {
			return nil, err
		}
		sizes[n] = st.Size()
	}
	return sizes, nil
}
