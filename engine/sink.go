package engine

import (
	"context"

	"github.com/apache/arrow-go/v18/arrow"
)

// Sink writes batches: the seed's write().
//
// The engine calls Open once with the schema of the batches it will receive,
// then Write and Flush from a single goroutine, then Close. Close must be
// safe without Open (a pipeline that failed before opening its sinks).
type Sink interface {
	Open(ctx context.Context, schema *arrow.Schema) error
	// Write writes one batch; it must not keep rec after returning. A failed
	// Write is retried with backoff unless the error is marked Permanent.
	Write(ctx context.Context, rec arrow.RecordBatch) error
	// Flush makes every batch written so far durable. Only flushed batches
	// are acknowledged to the source.
	Flush(ctx context.Context) error
	Close() error
}

// SchemaChecker is implemented by sinks that can tell, without opening
// anything, whether they accept a schema (weave validate uses it).
type SchemaChecker interface {
	CheckSchema(schema *arrow.Schema) error
}

// Aborter is implemented by sinks that can throw away what a failed run
// wrote (a file sink removes its temporary file instead of renaming it into
// place). When a run fails or is aborted, the engine calls Abort before
// Close; Close after Abort must not commit anything.
type Aborter interface {
	Abort()
}

// CommitsOnClose is implemented by sinks whose output only becomes durable
// when Close succeeds: a Parquet file is unreadable until its footer is
// written, and a file written atomically appears only when it is renamed
// into place. For such a sink the engine acknowledges the batches it
// received only after its Close returned nil; Flush still bounds buffering.
type CommitsOnClose interface {
	CommitsOnClose() bool
}

func commitsOnClose(s Sink) bool {
	c, ok := s.(CommitsOnClose)
	return ok && c.CommitsOnClose()
}
