package arrowipc

import "github.com/dataweaver/dataweaver/format"

// Types is the type-support table (also in doc.go), as TestRoundTrip and
// TestIntegrationFiles prove it.
const Types = `| Arrow type | arrow |
| --- | --- |
| null, bool, int8-64, uint8-64, float32, float64 | round-trips (NaN, ±Inf, extremes) |
| utf8, large_utf8, binary, fixed_size_binary | round-trips |
| date32, date64, time32, time64, timestamp (every unit, with and without time zone), duration | round-trips |
| decimal128 | round-trips |
| list, fixed_size_list, struct, map | round-trips |
| dictionary (int8/16/32 indices, utf8 or int64 values) | round-trips |
| schema and field metadata, unregistered extension types | kept |
| float16, interval, decimal256, unions, run-end encoded, views | passed through to arrow-go's IPC code, not covered by tests |`

func init() {
	format.Register(&format.Format{
		Name:       "arrow",
		Extensions: []string{".arrow", ".arrows", ".ipc", ".feather", ".arrow_file", ".stream"},
		NewReader:  NewReader,
		NewWriter:  NewWriter,
		Types:      Types,
	})
}
