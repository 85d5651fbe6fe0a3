// Package spec declares connector and stage configuration once: the same
// declaration parses and validates a YAML node (reporting every problem with
// its file and line), fills in defaults, and renders the reference docs that
// `weave connectors describe` prints.
//
//	var fileSpec = spec.New("file").
//		Summary("Reads files in CSV, JSON Lines, Parquet, Arrow or Avro.").
//		Field(spec.String("path").Desc("File path or glob; - for stdin.").Example("data/*.csv")).
//		Field(spec.String("format").Enum("csv", "jsonl").Optional())
package spec
