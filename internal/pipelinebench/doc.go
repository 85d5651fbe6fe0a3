// Package pipelinebench measures whole pipelines on the benchmark "orders"
// table: rows/s, MB/s and CPU per row from Go benchmarks, and peak RSS of
// the weave binary from the rss command (cmd/rss). BENCHMARKS.md at the
// repository root holds the figures and the commands that produced them.
//
// # Pipelines
//
// [Pipelines] are the three the performance targets are stated for
// (CSV→Parquet, JSONL→JSONL, Parquet→Parquet with a select stage);
// [Baselines] split them into parts measured in the same run: the engine
// with a generate source and a discard sink, each reader into a discard
// sink, and (in the benchmarks only) each writer fed from memory. Every
// one is an ordinary pipeline file, built with engine/config and run
// through engine.Pipeline, the same path `weave run` takes.
//
// The files name their directories and tuning knobs with variables, so the
// benchmarks, the rss command and a shell running `weave run` share one
// definition: BENCH_IN and BENCH_OUT (required), BENCH_BATCH (rows per
// batch, default 65536), BENCH_BUFFER (batches between steps, default 4)
// and BENCH_WORKERS (decoding goroutines of text readers, default 0: one
// per CPU). Set them in the environment to try other settings.
//
// # Inputs
//
// [InputsYAML] is the pipeline file that writes the orders table
// (connectors/generate, seed 42) as CSV, JSON Lines and Parquet: a generate
// source fanned out to one file sink per format, so the inputs are what
// weave itself writes. The benchmarks run it once per process before the
// first benchmark starts; cmd/rss runs it with the weave binary.
//
// This package imports only the standard library; what runs pipelines
// in-process lives in its test files (cmd/rss explains why).
//
// # Why no timed tests
//
// Nothing here asserts a speed: the machine is shared, so wall-clock
// figures move by several times between identical runs. Tests only check
// that every pipeline runs and moves every row.
package pipelinebench
