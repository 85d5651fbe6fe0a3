// Package discard provides the `discard` sink: it counts what it receives
// and writes nothing. Benchmarks use it to measure a source and its stages
// without a sink's cost; pipelines use it to dry-run a source (are all rows
// readable?) before pointing it at something real.
//
// # From Go
//
// [New] makes the sink in Go ([SinkConfig] is its pipeline-file form); the
// package Example dry-runs a source into it.
package discard
