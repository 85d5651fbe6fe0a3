package avro

// Types is the type-support table (also in doc.go), as TestRoundTrip and
// TestRoundTripConverted prove it.
const Types = `| Arrow type | avro (Avro type) | back as |
| --- | --- | --- |
| null | null | same |
| bool | boolean | same |
| int32, int64 | int, long | same |
| int8, int16, uint8, uint16 | int | int32 |
| uint32 | long | int64 |
| uint64 | long (a value above 2^63-1 fails the write, naming row and column) | int64 |
| float32, float64 | float, double (NaN, ±Inf kept) | same |
| utf8, binary | string, bytes | same |
| large_utf8 | string | utf8 |
| fixed_size_binary | fixed | same |
| date32 | int (date) | same |
| time32[ms], time64[us] | int (time-millis), long (time-micros) | same |
| timestamp[ms/us] with a time zone | long (timestamp-millis/micros) | timestamp[ms/us, UTC], same instant |
| timestamp[ms/us] without a time zone | long (local-timestamp-millis/micros) | same |
| timestamp[s] | long (timestamp-millis) | timestamp[ms] |
| timestamp[ns] | long (timestamp-micros; sub-µs values fail the write) | timestamp[us] |
| decimal128(p, s) | bytes (decimal) | same |
| list | array | same |
| large_binary, large_list | bytes, array | binary, list (written by the same code paths, not covered by a test) |
| struct | record | same |
| map<utf8, V> | map | same |
| dense_union | union | same |
| dictionary<K, V> | V (enum when the field carries avro.enum metadata) | V |
| utf8 read from an Avro enum | enum (symbols kept in field metadata "avro.enum") | same |
| float16, date64, time32[s], time64[ns], duration, interval, decimal256, fixed_size_list, sparse_union, map with non-string keys | not supported: NewWriter fails naming the column | |`
