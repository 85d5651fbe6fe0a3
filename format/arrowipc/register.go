package arrowipc

import "github.com/dataweaver/dataweaver/format"

// Types is the type-support table; doc.go has the same table with notes.
const Types = `| Arrow type | arrow |
| --- | --- |
| every Arrow type arrow-go's IPC implements (null, bool, ints, floats, float16, decimal128/256, (large) binary/utf8, fixed-size binary, date, time, timestamp, duration, interval, (large/fixed-size) list, struct, map, dense/sparse union, dictionary, extension types) | read and write, values and schema/field metadata preserved exactly |`

func init() {
	format.Register(&format.Format{
		Name:       "arrow",
		Extensions: []string{".arrow", ".arrows", ".ipc", ".feather", ".arrow_file", ".stream"},
		NewReader:  NewReader,
		NewWriter:  NewWriter,
		Types:      Types,
	})
}
