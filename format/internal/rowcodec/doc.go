// Package rowcodec is the machinery format/csv and format/jsonl share: both
// read line-oriented text into Arrow record batches the same way and differ
// only in how one row is cut and parsed.
//
// # What it holds
//
//   - Column: one Arrow column accumulated in plain Go slices that a
//     rejected row can be truncated back out of (arrow builders cannot undo
//     an append), copied into allocator-owned buffers by Finish.
//   - Batch: the rows and rejects a decoder collects from one chunk.
//   - Value parsers (ParseInt, ParseFloat, ParseTimestamp, ParseDecimal...)
//     that work on the bytes in place and never allocate, and the matching
//     text writers (AppendTimestamp, AppendDecimal, AppendCents...).
//   - Pipeline: reads the input in large blocks, cuts it into chunks of
//     whole rows with a format's SplitFunc, decodes the chunks on several
//     workers with a format's ChunkDecoder and hands the records back in
//     input order with exact line numbers (NewReader). A record over
//     MaxRecordBytes is skipped to the first newline past the limit without
//     being held; one the SplitFunc calls Broken (CSV's stray quote) stays
//     in its chunk as a Cut, which the decoder turns into its reject.
//   - Output: the writers' buffering, and parallel encoding of large
//     batches with a format's own row encoder.
//   - View: one array's typed buffers for the writers' encode loops (the
//     writer-side Column).
//   - Guess: the type a column's inference sample implies, so that both
//     formats widen numbers and fall back to utf8 by the same rules.
//   - ZeroBytes and its constants, the word-at-a-time byte search both
//     formats' scanners are built on.
//
// What stays in each format: cutting rows (CSV quoting, one JSON object per
// line), parsing a row into the columns, classifying sampled values for
// inference (and JSONL's structs and lists), and encoding rows.
//
// # Why the fields are exported
//
// The per-cell loops of the decoders append to Column's slices directly and
// switch on its Kind. Accessor methods would put a call on every value or
// depend on the inliner's budget; plain fields cost nothing across the
// package boundary. The parsers are small leaf functions that the compiler
// inlines or calls exactly as it did when each format had its own copy.
//
// The package was made from two byte-identical copies, one in each format
// package, kept equal by a test. It is internal to format/ because its API
// follows what the two decoders need, not what a general user would.
package rowcodec
