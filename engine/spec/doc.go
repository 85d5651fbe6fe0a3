// Package spec declares connector and stage configuration once: the same
// declaration parses and validates a YAML node (reporting every problem with
// its file and line), fills in defaults, and renders the reference docs that
// `weave connectors describe` prints.
//
//	var fileSpec = spec.New("file").
//		Summary("Reads files in CSV, JSON Lines, Parquet, Arrow or Avro.").
//		Field(spec.String("path").Desc("File path or glob; - for stdin.").Example("data/*.csv")).
//		Field(spec.String("format").OneOf("csv", "jsonl").Optional())
//
// # Typed configurations
//
// The built-in connectors also offer each spec as a Go struct, generated
// from it, with a `weave:"key"` tag per field (file.SourceConfig). Encode
// turns such a value into the YAML node a pipeline file would give, so the
// one Parse validates both, and Parsed.Values compares two results.
package spec
