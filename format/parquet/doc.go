// Package parquet is DataWeaver's Parquet format ("parquet", *.parquet),
// built on arrow-go's pqarrow.
//
// # Reading
//
// Parquet keeps its metadata in a footer, so the reader needs random access:
// it uses format.Input.RA when the input is a file and reads a pipe whole
// into memory otherwise. Batches hold ReadOptions.BatchRows rows (65536 by
// default). Files of flat columns with PLAIN or dictionary pages, Snappy or
// uncompressed (what weave writes), are decoded by the package itself, a
// batch's columns on GOMAXPROCS goroutines, into the arrays pqarrow would
// give (direct.go). Other files go through pqarrow, columns one after
// another (see the limits below); there, string and binary columns whose
// pages are all dictionary-encoded are decoded as dictionaries and
// expanded in one sized copy (dictread.go).
// Spark's INT96 timestamps read as timestamp[ns]. Corrupt files give an
// error wrapping format.ErrMalformed with the file name: the footer, the
// stored Arrow schema and every page header are checked before pqarrow
// reads them, and panics inside the library are recovered.
//
// # Writing
//
// Rows are gathered into row groups of 262,144 rows (Flush does not cut them) and written as
// V2 data pages (arrow-go v15 writes V1 pages in quadratic time, see
// BENCH_NOTES.md) with statistics. Dictionary encoding is chosen per
// top-level column from the first batch: on where at least half of the
// sampled values repeat. When every field is a primitive leaf (no lists,
// structs, maps or dictionaries), a row group's columns are encoded on
// GOMAXPROCS goroutines while the next row group gathers (rowgroups.go)
// and written in column order; the file is byte for
// byte the one the serial path writes (colwriter.go). The Arrow schema is stored in the file so every
// type below reads back as written. Compression is "snappy" (default;
// s2's fast encoder, registered for the whole process, see snappy.go;
// a column without a dictionary whose first batch Snappy shrinks by less
// than 1/8 is stored uncompressed, see codecpick.go), "zstd", "gzip" or
// "none". Flush does nothing: a Parquet file is readable only once Close has written its footer, so a
// sink must acknowledge Parquet output after Close, not after Flush (see
// writer.Flush).
//
// # Types
//
// | Arrow type | parquet |
// | --- | --- |
// | bool, int8/16/32/64, uint8/16/32/64, float32, float64 | round-trips (NaN, ±Inf, extremes) |
// | utf8, large_utf8, binary, fixed_size_binary | round-trips |
// | date32, date64 | round-trips (date64 via the stored Arrow schema) |
// | time32[ms], time64[us], time64[ns] | round-trips |
// | timestamp[s/ms/us/ns], with or without time zone | round-trips (seconds are stored as ms and restored) |
// | decimal128 | round-trips |
// | list, struct, map, nested combinations | round-trips |
// | dictionary<int32, utf8> | round-trips (written dictionary-encoded) |
// | duration, interval, union | not supported by arrow-go's Parquet writer: NewWriter fails naming the type |
// | float16 | not covered by the round-trip test (arrow-go v15 could not write it; v18 maps it to Parquet FLOAT16) |
// | INT96 (read only, e.g. Spark) | reads as timestamp[ns, UTC]; a file holding an instant outside 1677..2262 is rejected as malformed (arrow-go v18; v15 wrapped such values silently) |
//
// # Known limits of arrow-go worked around here
//
// Found on arrow-go v15; the project moved to v18 (RATIONALE.md) and kept
// every workaround below without re-checking which v18 fixed.
//
//   - DELTA_* encoded columns: the decoder fails when a batch ends inside a
//     page and never frees a scratch buffer, so such files are read a row
//     group at a time from a garbage-collected allocator, then copied into
//     ReadOptions.Mem and sliced to BatchRows.
//   - Corrupt page headers can make pqarrow end a column early without an
//     error; the reader compares the rows it read with the footer's count.
//   - pqarrow's Parallel column decoding runs in goroutines where a panic
//     on corrupt data cannot be recovered, so columns are decoded serially.
//   - Struct and map children are decoded by pqarrow in goroutines it
//     starts even with Parallel off; files with such columns are decoded
//     once more beforehand in the reader's goroutine (predecode.go) so
//     corrupt pages give an error rather than an unrecoverable panic.
//     This doubles decoding work for nested files only.
//   - V2 data page buffers are never released by the reader: pages are
//     decompressed with a garbage-collected allocator.
//   - nation.dict-malformed.parquet (PARQUET-816, parquet-mr <= 1.2.8 left
//     the dictionary page header out of the chunk size) is read correctly,
//     as Arrow C++ does, rather than rejected.
package parquet
