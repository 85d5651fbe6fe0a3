// Package inmemory provides the `memory` source and sink: record batches that
// live in the process, for tests and for Go programs that embed DataWeaver.
//
// # Source
//
// From Go, [NewSource] serves the records you give it, in order, one batch
// per record, until [Source.Release] (Close only rewinds: the engine opens a
// source once to validate and again to run). From
// a pipeline file, the source takes a `schema:` and inline `rows:` — handy
// for a test pipeline that needs five known rows:
//
//	source:
//	  memory:
//	    schema: {id: int64, name: utf8}
//	    rows:
//	      - {id: 1, name: ada}
//	      - {id: 2, name: grace}
//
// A row that does not fit the schema (a string in an int64 column, an
// unknown column, a missing non-nullable value) becomes a reject with the
// row's YAML line, like a malformed line in a file.
//
// # Sink
//
// [NewSink] keeps every record written to it; [Sink.Records] and
// [Sink.Table] read them after the run and [Sink.Release] frees them. Close
// does not free them, because the engine closes the sink before the caller
// gets to look. In a pipeline file the sink is only useful with a `name`,
// under which a Go caller finds it with [Lookup] after building the
// pipeline; from the CLI it just holds the rows until the process exits.
package inmemory
