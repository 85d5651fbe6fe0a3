package jsonl

import "github.com/dataweaver/dataweaver/format"

// jsonlFormat is this package's registration; tests hand it to formattest.
var jsonlFormat = &format.Format{
	Name:       "jsonl",
	Extensions: []string{".jsonl", ".ndjson"},
	Text:       true,
	NewReader:  NewReader,
	NewWriter:  NewWriter,
	Types: "bool, int8-64, uint8-64, float32/64 (NaN/Inf written as null), utf8, large_utf8, " +
		"binary (base64), date32, timestamp (s/ms/us/ns), decimal128 (as strings), struct, list",
}

func init() { format.Register(jsonlFormat) }
