package engine

import (
	"context"

	"github.com/apache/arrow-go/v18/arrow"
)

// Source produces record batches: the seed's read().
//
// The engine calls Open, then Read from a single goroutine until it
// returns ErrEndOfInput (or the pipeline stops), then Close. Ack may be
// called from another goroutine while Read is running. Validate opens and
// closes a source before Run opens it again, so Open after Close must work,
// and Close must be safe without Open.
type Source interface {
	// Open prepares the source and returns the schema of every batch it will
	// produce, so that stages and sinks can be checked before data flows.
	Open(ctx context.Context) (*arrow.Schema, error)
	// Read returns the next batch. It returns ErrEndOfInput when exhausted.
	// A batch may carry rows that failed to decode in Rejects; its Record may
	// then hold fewer rows, or none.
	Read(ctx context.Context) (*Batch, error)
	// Ack reports that every batch up to and including the one carrying cp
	// has been flushed by every sink. Acks come in Read order.
	Ack(ctx context.Context, cp Checkpoint) error
	Close() error
}

// Checkpoint is a source-defined position (a file offset, a message sequence,
// a Kafka offset map). The engine only hands it back through Ack; a
// checkpoint store for resume will persist it, so keep it small and
// serialisable.
type Checkpoint any

// Batch is one unit of work leaving a source.
type Batch struct {
	Record     arrow.RecordBatch
	Rejects    []RowError
	Checkpoint Checkpoint
	// Bytes is how many input bytes the batch came from, for progress (0 if unknown).
	Bytes int64
	// TraceParent is the W3C traceparent its rows arrived with (an HTTP
	// request's header, say), "" for none: the batch's span continues
	// that trace when the pipeline is traced.
	TraceParent string
}

// Sized is implemented by sources that know how much input they have, so
// the CLI can draw a progress bar.
type Sized interface {
	// Progress returns input bytes consumed so far and the total (total <= 0 if unknown).
	Progress() (done, total int64)
}

// NoAck can be embedded by sources with nothing to acknowledge (files).
type NoAck struct{}

// Ack does nothing.
func (NoAck) Ack(context.Context, Checkpoint) error { return nil }
