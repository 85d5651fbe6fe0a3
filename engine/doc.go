// Package engine runs DataWeaver pipelines: a [Source] reads Apache Arrow
// record batches, a chain of [Stage]s transforms them, and one or more
// [Sink]s write them.
//
// # Flow
//
// Steps are joined by bounded queues, so a slow sink slows the source and
// memory stays flat whatever the input size. A stage may run several workers;
// batches leave it in the order they entered.
//
// # Acknowledgement
//
// A source learns that a batch is safe ([Source.Ack]) only after every sink
// has flushed it, and acks arrive in the order the source produced batches.
// Sources that can resume (message buses, databases) commit their position
// there; that is also where a later checkpoint store hooks in.
//
// # Errors
//
// Rows that cannot be read or processed come back as [RowError]s and go
// through the step's [Policy]: fail the run, skip them (counted), or send them
// to the dead-letter sink with the error and the step's name.
//
// # Observing
//
// [Metrics] counts rows, batches and time per step with atomics a
// monitoring endpoint reads when scraped. A [Tracer] set on the pipeline
// is told about each batch and each step it goes through, once per batch
// per step; the engine imports no tracing library (internal/tracing
// exports the spans over OpenTelemetry).
//
// # Assembling a pipeline in Go
//
// A [Pipeline] is a plain struct: name its steps, put built-in steps (made
// from the connectors' typed configs, file.SourceConfig{…}.Build) and your
// own beside each other, and call [Pipeline.Run]. The package Example has
// a source, a stage and a sink written in Go; the Example of package
// connectors/all tells the whole story: a source of your own, a Wasm stage
// from a file, the Kafka sink and a dead-letter file. [Pipeline.Validate]
// and Run check what a pipeline file is checked for (step names, the
// dead-letter sink, the Wasm stages' memory against
// [Pipeline.MemoryBudget]), with the same messages.
//
// # Runners
//
// A [Runner] runs a pipeline on some framework; [Local] is this engine. A
// runner that runs steps elsewhere (the scale-out coordinator, the Beam
// adapter) makes them again from the steps' [Recipe] with [Pipeline.Remake];
// ExampleRunner is one written outside the engine.
package engine
