// Package file provides the `file` source and sink: files (or stdin and
// stdout) in any registered format — CSV, JSON Lines, Parquet, Arrow IPC,
// Avro — optionally gzip- or zstd-compressed.
//
// # Reading
//
// The source takes a path, a glob (data/*.csv, and data/**/*.jsonl where **
// spans directories) or - for stdin. Matching files are read one after
// another in sorted path order and form one table: the first file's schema
// (inferred, read from the file, or declared with `schema:`) is the schema
// of every batch. Later text files are decoded into that schema, so a value
// that does not fit is a row error naming its file and line; later binary
// files (Parquet, Arrow, Avro) must carry the same columns and types, or
// the run stops with an error naming the file. Nothing is opened before
// Open: `weave validate` builds the source without touching the disk.
//
// Rows a format cannot decode come back as engine.RowErrors with file,
// line, column and the raw bytes; they never end the run by themselves.
// Reading stdin blocks until data arrives: a cancelled context takes
// effect at the next batch, not in the middle of a read.
//
// # Compression
//
// Text formats may be compressed; `compression: auto` (the default) goes by
// a .gz/.zst suffix and, failing that, by the stream's magic bytes, so
// stdin works too. Binary formats compress inside the file and are refused
// with an outer compression rather than misread.
//
// # Writing
//
// The sink writes one file, appends to one, or fills a directory with part
// files:
//
//   - One file is written under a temporary name beside the target and
//     renamed into place on Close, so readers never see a half-written file
//     and a failed or interrupted run leaves the previous file as it was
//     (see the sink's atomic field for when not to). Because each run
//     replaces it, the sink is an engine.OutputReplacer and a pipeline
//     writing one file starts from the start every run.
//   - append: true adds to one CSV or JSON Lines file and fsyncs at every
//     flush (at-least-once: rows flushed since the last checkpoint come
//     again after a crash); dead-letter files append by default, so a later
//     run never replaces an earlier run's rejects.
//   - A path ending in "/" writes part-000001.<format>, … each published
//     (renamed from a hidden temporary name) at a checkpoint together with
//     the source position (engine.Committer), so a resumed run adds parts
//     and the directory holds every row once.
//
// # From Go
//
// [SourceConfig] and [SinkConfig] hold the settings of a pipeline file's file
// step, one field per key; their Build methods make the step through the same
// spec ([ExampleSourceConfig]).
package file
