// Package jsonl reads and writes JSON Lines (one JSON object per line) as
// Arrow record batches. It registers itself as format "jsonl" for files
// ending in ".jsonl" or ".ndjson".
//
// # Reading
//
// Every line holding a JSON object is a row. Lines of only whitespace are
// skipped; a UTF-8 byte order mark at the start is dropped; "\r\n" line ends
// are fine and the last line needs none. Keys may come in any order. A key
// missing from an object, and a JSON null, read as null. A key the schema
// does not have is skipped (its value must still be valid JSON): with an
// explicit schema that drops unknown keys, and with an inferred one it drops
// keys first seen after the sample. Strings are unescaped (\uXXXX, surrogate
// pairs; a lone surrogate becomes U+FFFD as in encoding/json); raw control
// characters inside strings are accepted.
//
// # Schema inference
//
// Without ReadOptions.Schema the first InferRows lines (default 1000) are
// sampled; they stay buffered and are decoded like every other line, so
// stdin works. Columns are ordered by first appearance. Every field is
// nullable. Per key, over its non-null values:
//
//   - integers that fit int64: int64
//   - integers, some above MaxInt64, none negative: uint64
//   - integers beyond uint64 (or above MaxInt64 and negative) with at
//     most 38 digits: decimal128(38,0); with more digits: utf8
//   - numbers with a fraction or exponent: float64, unless mixed with an
//     integer a float64 cannot hold exactly (above 2^53, such as
//     9223372036854775807): then utf8 (each number kept as its JSON text),
//     so no digit of an id is lost
//   - true/false: bool
//   - strings that are RFC 3339 timestamps with "T" and a zone:
//     timestamp[us, UTC] (timestamp[ns, UTC] if one has sub-microsecond
//     digits)
//   - other strings: utf8
//   - objects: struct of the union of their keys (first-seen order),
//     each inferred the same way; an object never seen with a key is utf8
//   - arrays: list of the element type merged over every element
//   - any other mix, values seen only as null, or nesting deeper than 16
//     levels: utf8
//
// A utf8 column accepts any JSON value: strings are stored unescaped, and any
// other value (number, boolean, object, array) as its JSON text. So a column
// whose sample mixed types still keeps every value. A row beyond the sample
// whose value does not fit the inferred type (a string in an int64 column,
// say) is rejected; give a schema or raise InferRows when the first lines are
// not typical.
//
// # Types
//
// With an explicit schema a column may be bool (true/false), int8..int64 and
// uint8..uint64 (JSON integers, range checked; 1.0 and 1e3 are not integers),
// float32/float64 (any JSON number), utf8 and large_utf8 (see above), binary
// (a standard base64 string, padding optional), date32 ("2006-01-02"),
// timestamp with any unit and zone (a string: RFC 3339,
// "2006-01-02 15:04:05[.fff]" or "2006-01-02"; a value without a zone is
// UTC), decimal128(p,s) (a string, or a JSON number without exponent), struct
// (an object) and list (an array). A value is never altered to fit: a
// fraction finer than the timestamp unit or decimal scale (other than
// trailing zeros), a number out of range, or a float that overflows float64
// is rejected.
//
// # Malformed rows
//
// A line that is not valid JSON, not an object, has data after the object,
// repeats a key (encoding/json would keep the last value silently; this
// package reports it), holds invalid UTF-8 in a string or a value of the
// wrong type is left out of its batch and returned by Next as a
// format.RowError (wrapping format.ErrMalformed) with the file, the 1-based
// line, the column (a dotted path such as "user.name" inside structs; empty
// when the line as a whole is wrong) and the line's bytes. Only I/O errors are
// fatal.
//
// # Writing
//
// Each row is written as one object with keys in schema order, followed by
// "\n". Nulls are null. Strings are escaped as JSON needs (quote, backslash,
// control characters); other characters are written as UTF-8, and bytes that
// are not valid UTF-8 become \ufffd, so every line is valid JSON. Integers,
// including int64 and uint64 beyond 2^53, are JSON numbers (JavaScript
// readers may lose precision on those). Floats are the shortest text that
// reads back to the same value, in encoding/json's style (an exponent only
// below 1e-6 or from 1e21) but always with a point or an exponent (461.0
// where encoding/json writes 461, -0.0 for -0), so that a float column read
// back without a schema is float64 again, not int64. JSON has no NaN or
// Infinity, so those are written as null and do not survive a round trip. Timestamps are RFC 3339 strings in
// UTC with the shortest exact fraction (time.RFC3339Nano), dates
// "2006-01-02", decimals exact strings (JSON numbers would lose digits in
// most readers), binary base64 strings, structs objects and lists arrays.
// Types without a fast path (dictionaries, maps, durations, ...) go through
// arrow's own JSON value and are not guaranteed to read back. Write buffers
// about 1 MiB before writing to the io.Writer; Flush pushes everything out;
// Close flushes and does not close the io.Writer.
//
// # Performance
//
// Input is read in large blocks and cut into chunks of BatchRows lines by one
// goroutine (a memchr per line). Chunks are decoded on ReadOptions.Workers
// goroutines (default GOMAXPROCS) by a hand-written JSON scanner that
// appends straight into reused per-column Go slices (no token stream, no
// reflection, no per-row allocation; strings are unescaped only when they
// hold a backslash, and keys in the usual order are matched without a map
// lookup), then copied into allocator-owned Arrow buffers; batches come out
// in input order. Each chunk knows its first line number, so reject lines
// are exact. The writer formats into a reused byte slice and, for batches of
// 16384 rows or more, encodes row ranges on GOMAXPROCS goroutines. The
// reading pipeline, the column buffers, the value parsers and formatters
// and the writer's buffering are shared with format/csv, in
// format/internal/rowcodec; the JSON scanner, the object decoder and the
// string escaper are this package's. Measured figures are in BENCH_NOTES.md.
package jsonl
