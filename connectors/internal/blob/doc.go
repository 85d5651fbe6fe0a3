// Package blob is what the file and s3 connectors share: tables stored as
// named byte objects — local files, stdin, objects in a bucket — in any
// registered format.
//
// # Reading
//
// [Source] reads what a [Store] lists, in name order, as one table: the
// first object's schema (or the declared one) applies to all, text
// formats may be gzip- or zstd-compressed, and rows that do not decode
// come back as row errors. Its checkpoint is a [Position] (object, size,
// modification time, ETag, row); Resume continues after one, skipping
// objects read whole and refusing an object that changed. A Store has two
// methods, List and Open; Open hands the format a stream and, when the
// store has it, random access, so Parquet and Arrow files are read by
// ranges.
//
// # Writing
//
// [Stream] is the stack one output is written through (format writer,
// compressor, buffer); [PartName], [PartExt], [WriteCompression] and
// [Probe] are the part naming and option checks the file sink's directory
// mode and the s3 sink share.
package blob
