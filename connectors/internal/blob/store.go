package blob

import (
	"context"
	"io"
)

// Object is one input a Source reads: a local file, standard input, or an
// object in a bucket.
type Object struct {
	// Name is how errors, row errors and positions name the object: a
	// path, "-" for stdin, s3://bucket/key.
	Name string
	// Size is its length in bytes, -1 when unknown (stdin).
	Size int64
	// MtimeNs is its modification time (Unix ns), ETag its entity tag
	// when the store has one: with Size, what a resume checks to refuse an
	// object that changed since its position was saved.
	MtimeNs int64
	ETag    string
}

// Opened is an object opened for reading.
type Opened struct {
	// R reads the object from its start. A format given RA too may never
	// read R (Parquet reads its footer and row groups through RA), so a
	// store whose reads cost a request should start one only at R's first
	// Read.
	R io.Reader
	// RA reads it at any offset, nil when the store cannot (stdin). Only
	// used when the object is not compressed as a whole.
	RA io.ReaderAt
	// Section, when the store has it, reads n bytes from off as one
	// stream (S3: one ranged GET), for a byte-range split; without it the
	// source reads through RA. Each is closed before Close.
	Section func(off, n int64) (io.ReadCloser, error)
	// Close releases the object; called after the format reader stopped.
	Close func() error
}

// Store lists and opens what a Source reads.
type Store interface {
	// List returns the objects the source's path or pattern matches,
	// sorted by Name. An error (nothing matches, the bucket is gone) goes
	// to the resume check, which words it for the position it has.
	List(ctx context.Context) ([]Object, error)
	// Open opens one object listed before. ctx bounds the open only; the
	// reads that follow are not bound to it.
	Open(ctx context.Context, obj Object) (Opened, error)
}

// readingNotifier is implemented by stores that must know when the source
// starts handing out batches (stdin stops keeping a copy of what it read).
type readingNotifier interface{ Reading() }
