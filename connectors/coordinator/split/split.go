// Package split is what a bounded source and a sink implement to run as
// one of N workers coordinated by package coordinator: a source cuts its
// input into splits (a file, a Parquet row group, a byte range of a text
// file) and reads one of them;
// a sink writes the rows of one split as a part of its own, so a split
// done twice (its worker died before acknowledging it) replaces its part
// instead of adding a second copy.
//
// The package has no dependencies, so connectors implement it without
// importing the NATS client.
package split

import "context"

// Split is one unit of work. ID names it uniquely within the pipeline and
// is stable across plannings of the same input: it is the message ID
// that lets JetStream drop a split published twice, the key of its
// position, and the name of the parts written for it. Data is what the
// source needs to read it (JSON), Text says what it is in words.
type Split struct {
	ID   string `json:"id"`
	Text string `json:"text,omitempty"`
	Data []byte `json:"data,omitempty"`
	// Rows is how many rows the split holds when known (Parquet row
	// groups), else 0: shown by weave, not relied on.
	Rows int64 `json:"rows,omitempty"`
}

// Source is a source that can be read in splits.
type Source interface {
	// Splits lists the splits of the whole input, in a stable order. It
	// is called on a source that was never opened.
	Splits(ctx context.Context) ([]Split, error)
	// ReadSplit makes the next Open read s only. Called before Open.
	ReadSplit(s Split) error
}

// Sink is a sink that can write one split's rows as parts of their own.
type Sink interface {
	// WritePart makes the sink name what it writes after id (before Open)
	// and publish it only when the run ends well, replacing what an
	// earlier run wrote for the same id.
	WritePart(id string) error
}

// Redoer is a Sink that cleans up after earlier attempts at a split. The
// coordinator calls WritePartAgain instead of WritePart for a split that
// was handed out before (its worker died or gave it back): once this
// attempt's parts are published, the sink removes what earlier attempts
// left unpublished (temporary files, unfinished multipart uploads), and
// an earlier attempt still running finds the split's parts published.
type Redoer interface {
	WritePartAgain(id string) error
}

// Checker is a sink that says whether the workers of a coordinated run
// may write to it at all: CheckWorkers returns nil when they may, or why
// not and what to write to instead (one file appended to by N processes,
// say).
type Checker interface {
	CheckWorkers() error
}

// Idempotent is a sink whose writes leave one copy of rows written
// twice (an upsert by key): a split redone after its worker died
// rewrites its rows in place rather than adding them again.
type Idempotent interface {
	IdempotentWrites() bool
}

// Continuer is a Source whose input grows at one end (a table read by a
// growing cursor): its next plan covers what the finished splits of
// earlier plans do not, rather than listing the same splits again. The
// coordinator calls SplitsAfter instead of Splits.
type Continuer interface {
	// SplitsAfter lists the splits not covered by finished, the splits
	// (ID and Data) that earlier runs of the job finished.
	SplitsAfter(ctx context.Context, finished []Split) ([]Split, error)
}
