// Package arrowipc is DataWeaver's Arrow IPC format ("arrow"; *.arrow,
// *.arrows, *.ipc, *.feather, *.arrow_file, *.stream), built on arrow-go's
// ipc package.
//
// # Reading
//
// NewReader reads both IPC forms and tells them apart by the leading
// "ARROW1" magic. The file form is a stream between its magic and its
// footer, so it is read through that message region with the same code
// as the stream form; it needs the whole file (format.Input.RA, or a pipe
// read into memory), the stream form reads as it goes. Batches come back
// as stored: ReadOptions.BatchRows does not re-slice them.
// Dictionary-encoded columns and custom metadata are decoded by arrow-go
// (checked against the arrow-testing integration files).
//
// arrow-go v15 trusts IPC metadata, and some corrupt inputs make it
// allocate without bound (a fatal error recover cannot catch) or recurse
// forever. The reader therefore frames messages itself and checks each
// message's flatbuffer (format/internal/ipccheck) before arrow-go decodes
// it, reads bodies only as their bytes arrive, and caps any single buffer
// arrow-go asks for at 1 GiB, and checks the offsets, dictionary indices
// and union codes of every decoded batch (format/internal/arrowcheck) so
// that a corrupt batch cannot make a consumer panic later; remaining
// panics are recovered and reported
// as format.ErrMalformed naming the input (FuzzReadArrow). On such a
// failure arrow-go may leave buffers it had allocated from
// ReadOptions.Mem unreleased; Go's allocator reclaims them.
//
// # Writing
//
// NewWriter always writes the stream form: it needs no seeking, so it
// works on stdout, pipes and HTTP bodies, and pyarrow (open_stream),
// DuckDB and NewReader read it. There is deliberately no switch to the
// file form: one predictable output. Compression is "none" (default),
// "zstd" or "lz4" (IPC buffer compression). ipc.Writer hands every batch
// to the io.Writer as it is written, so Flush has nothing to do; Close
// writes the end-of-stream marker (and the schema if no batch came).
//
// # Types
//
// | Arrow type | arrow |
// | --- | --- |
// | null, bool, int8-64, uint8-64, float32, float64 | round-trips (NaN, ±Inf, extremes) |
// | utf8, large_utf8, binary, fixed_size_binary | round-trips |
// | date32, date64, time32, time64, timestamp (every unit, with and without time zone), duration | round-trips |
// | decimal128 | round-trips |
// | list, fixed_size_list, struct, map | round-trips |
// | dictionary (int8/16/32 indices, utf8 or int64 values) | round-trips |
// | schema and field metadata, unregistered extension types | kept |
// | float16, interval, decimal256, unions, run-end encoded, views | passed through to arrow-go's IPC code, not covered by tests |
package arrowipc
