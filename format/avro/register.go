package avro

import "github.com/dataweaver/dataweaver/format"

func init() {
	format.Register(&format.Format{
		Name:       "avro",
		Extensions: []string{".avro"},
		NewReader:  NewReader,
		NewWriter:  NewWriter,
		Types:      Types,
	})
}
