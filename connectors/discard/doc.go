// Package discard provides the `discard` sink: it counts what it receives
// and writes nothing. Benchmarks use it to measure a source and its stages
// without a sink's cost; pipelines use it to dry-run a source (are all rows
// readable?) before pointing it at something real.
package discard
