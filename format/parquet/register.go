package parquet

import "github.com/dataweaver/dataweaver/format"

func init() {
	format.Register(&format.Format{
		Name:       "parquet",
		Extensions: []string{".parquet"},
		NewReader:  NewReader,
		NewWriter:  NewWriter,
		Types:      Types,
	})
}
