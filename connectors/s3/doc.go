// Package s3 provides the `s3` source and sink: tables stored as objects in
// Amazon S3 or an S3-compatible store (MinIO, Ceph, versitygw, R2, …), in
// every format the file connector reads and writes.
//
// # Reading
//
// The source is the file source's reading core (connectors/internal/blob)
// over a bucket: a key, a prefix or a glob is listed with ListObjectsV2
// and read in key order as one table, with the same positions (the object,
// its size, ETag and modification time, and the row) and the same resume
// rules. Random-access formats read through an io.ReaderAt that makes one
// ranged GET per call, so a Parquet reader fetches the footer and the row
// groups it needs and never the whole object; text formats, compressed or
// not, stream with one GET. Every request carries If-Match with the listed
// ETag.
//
// # Writing
//
// The sink is the file sink's directory mode over a prefix: parts named
// part-000001.<ext>, each written through the same format stream into a
// multipart upload and completed at a checkpoint (engine.Committer), so an
// object is visible only when whole and batches are acknowledged only
// after it is. A failed run aborts its uploads; the next Open aborts the
// unprepared ones a killed run left.
//
// # Credentials
//
// The client is aws-sdk-go-v2 with the standard credential chain (env,
// shared config and profiles, web identity, SSO, container and instance
// roles), or the keys given in the configuration. It is built when the
// connector first talks to the store, so weave validate does no I/O.
//
// # From Go
//
// [SourceConfig] and [SinkConfig] hold the settings of a pipeline file's s3
// step, one field per key; their Build methods make the step through the same
// spec. The package Example (compiled, not run: it needs a bucket) reads CSV
// objects into a Parquet file.
package s3
