package csv

import "github.com/dataweaver/dataweaver/format"

// csvFormat is this package's registration; tests hand it to formattest.
var csvFormat = &format.Format{
	Name:       "csv",
	Extensions: []string{".csv"},
	Text:       true,
	NewReader:  NewReader,
	NewWriter:  NewWriter,
	Types: "bool, int8-64, uint8-64, float32/64, utf8, large_utf8, binary (base64), " +
		"date32, timestamp (s/ms/us/ns), decimal128; nulls as empty cells",
}

func init() { format.Register(csvFormat) }
