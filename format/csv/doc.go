// Package csv reads and writes RFC 4180 CSV as Arrow record batches. It
// registers itself as format "csv" for files ending in ".csv".
//
// # Reading
//
// The first line is the header unless ReadOptions.NoHeader is set, in which
// case columns are named f0, f1, ... An empty header name becomes f<index>.
// A UTF-8 byte order mark at the start is dropped; lines may end in "\n" or
// "\r\n"; the last line needs no line end. ReadOptions.Delimiter is any one
// ASCII character but a quote or a line end (default ',').
//
// Quoting follows RFC 4180: a field that starts with '"' runs to the next
// lone '"' and may hold delimiters, doubled quotes ("" for ") and line
// breaks. A quote inside an unquoted field is kept as a literal character
// (lenient, as most readers are). Line numbers count physical lines, so a
// row after a field that spans three lines is reported three lines further
// on. Blank lines are skipped, except in a one-column table, where a blank
// line is a null (so that a written null reads back). Cells are not
// trimmed: " 12" is not an integer.
//
// With a header and ReadOptions.Schema, schema columns are matched to
// header columns by name; header columns the schema does not name are
// skipped, and a schema column missing from the header is an error from
// NewReader. Without a header the schema applies by position.
//
// # Schema inference
//
// Without ReadOptions.Schema the first InferRows rows (default 1000) after the
// header are sampled; they stay buffered and are decoded like every other
// row, so stdin works. Every inferred column is nullable. Per column, over
// its non-null cells:
//
//   - all integers that fit int64: int64
//   - integers, some above MaxInt64, none negative: uint64
//     (aggregate_test_100.csv's c10 is such a column)
//   - integers beyond uint64 (or above MaxInt64 and negative) with at
//     most 38 digits: decimal128(38,0); with more digits: utf8
//   - integers and decimals: float64, unless an integer is one a float64
//     cannot hold exactly (above 2^53, such as 9223372036854775807): then
//     utf8, so no digit of an id is lost; declare the schema to get a
//     number column
//   - "true"/"false" in any case: bool
//   - RFC 3339 timestamps with "T" and a zone ("2024-03-01T10:00:00Z",
//     "...+02:00"): timestamp[us, UTC], or timestamp[ns, UTC] when a sampled
//     value has sub-microsecond digits
//   - anything else, any other mix, or only nulls: utf8
//
// Dates ("2024-03-01") and other timestamp layouts are not inferred; they
// read as utf8 unless the schema says date32 or timestamp. A row beyond the
// sample that does not fit the inferred type is rejected (see below): give a
// schema, or raise InferRows, for columns whose first rows are not typical.
//
// # Types
//
// With an explicit schema a column may be bool (true/false, t/f, 1/0, any
// case strconv.ParseBool takes), int8..int64 and uint8..uint64 (range
// checked), float32/float64 (decimal or exponent notation, NaN, Inf),
// utf8 and large_utf8 (must be valid UTF-8), binary (standard base64, padding
// optional), date32 ("2006-01-02"), timestamp with any unit and zone
// ("2006-01-02T15:04:05.999999999Z07:00", "2006-01-02 15:04:05[.fff]", or
// "2006-01-02"; a value without a zone is UTC), and decimal128(p,s) from
// plain decimal text. A value is never altered to fit: a fraction finer than
// the timestamp unit or the decimal scale (other than trailing zeros), a
// number out of range, or a decimal with more than p digits is rejected.
// Nested types are not supported in CSV (NewReader and NewWriter say so).
//
// # Nulls
//
// ReadOptions.NullValues lists cell texts read as null; nil means {""}. An
// empty cell is null for every non-string column whatever NullValues says.
// For utf8, large_utf8 and binary columns an unquoted empty cell is null when
// "" is in NullValues (the default) and an empty string otherwise, and a
// quoted cell is never null: "" is the empty string. The writer uses the same
// rule, so nulls and empty strings survive a round trip: null is written as
// an empty cell, the empty string as "".
//
// # Malformed rows
//
// A row with the wrong number of fields, a cell that does not parse as its
// column's type, invalid UTF-8 in a string column, or text after a closing
// quote is left out of its batch and returned by Next as a format.RowError
// (wrapping format.ErrMalformed) with the file, the row's first physical
// line, the column (empty when the row as a whole is wrong) and the row's
// bytes. Only I/O errors, and a header that cannot be parsed, are fatal.
//
// # Stray quotes
//
// A quote at the start of a field that was never meant to open one (a
// value typed as "Smith, or a cut-off line) would make the rest of the
// input one quoted field, up to the next quote or to the end: one stray
// quote in line 11 of a 500,000-row file used to cost 499,990 rows as one
// rejected row. So a quoted field that holds a line break must close in
// time. It is a stray quote when, whichever comes first, it holds more than
// 10,000 line breaks, it is still open at the record limit
// (ReadOptions.MaxRecordBytes), it closes and is followed by anything but a
// delimiter or a line end (it closed the opening quote of some later
// field), or the input ends inside it. Its row is then rejected only to the
// end of the line the quote opened on, with an error wrapping
// format.ErrMalformed that names that line and how many lines the quote
// would have swallowed, and reading resumes on the next line, so every line
// is either read or rejected: rows plus rejects account for every data
// line. The lines of a real multi-line field over one of these bounds are
// then read as rows of their own, and mostly rejected for their field count.
//
// A record whose text passes MaxRecordBytes otherwise (a long line, or a
// long quoted field without a line break before the limit) is rejected as
// too long (format.ErrRecordTooLarge) and ends at the first newline at or
// after the limit, inside quotes or not.
//
// # Writing
//
// The writer emits a header line (unless WriteOptions.NoHeader), "\n" line
// ends, and quotes a field only when it holds the delimiter, a quote, "\r" or
// "\n" (or is an empty string). Floats are the shortest text that parses back
// to the same value (strconv 'g', -1; float32 columns at 32-bit precision)
// with a point or an exponent (461.0, -0.0, 1e+21), so that a float column
// read back without a schema is float64 again, not int64; NaN, +Inf and -Inf
// are spelled so; timestamps are RFC 3339 in UTC with the
// shortest exact fraction (time.RFC3339Nano); dates are 2006-01-02; decimals
// are exact plain text; binary is standard base64. Other Arrow types without
// a fast path (time-of-day, durations, dictionaries...) are written with the
// array's ValueStr and are not guaranteed to read back. Write buffers about
// 1 MiB before writing to the io.Writer; Flush pushes everything out; Close
// flushes and does not close the io.Writer.
//
// # Performance
//
// Input is read in large blocks and cut into chunks of BatchRows whole rows
// by one goroutine (a memchr for the newline and one for a quote per row;
// rows with quotes take a quote-aware walk so that a newline inside quotes
// never splits a row, and a stray quote's row is cut out of its chunk with
// its reject). Chunks are decoded on ReadOptions.Workers goroutines
// (default GOMAXPROCS) straight into reused per-column Go slices, then copied
// into allocator-owned Arrow buffers; batches come out in input order. Each
// chunk knows its first line number, so reject lines are exact. The writer
// formats into a reused byte slice with strconv.Append* and, for batches of
// 16384 rows or more, encodes row ranges on GOMAXPROCS goroutines. The
// reading pipeline, the column buffers, the value parsers and formatters
// and the writer's buffering are shared with format/jsonl, in
// format/internal/rowcodec; the row splitter, the field decoder and the
// quoting are this package's. Measured figures are in BENCH_NOTES.md.
package csv
