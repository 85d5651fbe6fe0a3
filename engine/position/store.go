package position

import (
	"context"
	"encoding/json"
	"errors"
	"time"
)

// Store keeps the last checkpoint of every source of a pipeline between
// runs. Implementations must make Save atomic and durable before it
// returns: the engine acknowledges a source only after the position is
// saved, and a killed process resumes from what Load returns.
type Store interface {
	// Load returns the record saved under key, or a zero Record (Revision
	// 0) when there is none.
	Load(ctx context.Context, key Key) (Record, error)
	// Save stores rec under key if rec.Revision equals the revision held
	// now (0 for none) and returns the new revision. Otherwise another
	// writer saved in between, and Save fails with ErrStale.
	Save(ctx context.Context, key Key, rec Record) (uint64, error)
	// Delete forgets key; deleting a missing key is not an error.
	Delete(ctx context.Context, key Key) error
	// List returns every record of the pipeline, sorted by step and split.
	List(ctx context.Context, pipeline string) ([]Entry, error)
	Close() error
}

// Key names one position: a pipeline, its source step and, for a source
// read in parallel splits (partitions, files), the split ("" for one).
type Key struct {
	Pipeline string `json:"pipeline"`
	Step     string `json:"step"`
	Split    string `json:"split,omitempty"`
}

func (k Key) String() string {
	s := k.Pipeline + "/" + k.Step
	if k.Split != "" {
		s += "/" + k.Split
	}
	return s
}

// Record is one saved position.
type Record struct {
	// Revision is the store's count of saves under this key; set by Load,
	// checked and advanced by Save.
	Revision uint64 `json:"revision"`
	// Source is the source's checkpoint, JSON-encoded: what it gets back
	// through Resume on the next run.
	Source json.RawMessage `json:"source,omitempty"`
	// Text says where Source points in words ("orders.csv line 120,001").
	Text string `json:"text,omitempty"`
	// Prepared holds, by sink step, what a sink prepared at this checkpoint
	// and still has to publish (part files to rename): a run that died
	// between saving and publishing publishes them when it restarts.
	Prepared map[string][]byte `json:"prepared,omitempty"`
	// Rows is how many source rows the pipeline has acknowledged under
	// this key since the position was last reset.
	Rows int64 `json:"rows"`
	// Saved is when the record was written.
	Saved time.Time `json:"saved"`
	// Finished is set when the run that saved it read its source to the end.
	Finished bool `json:"finished,omitempty"`
	// Stages holds, by stage step, the state a stateful stage (a Wasm
	// stage's window) had when the source was at Source: a resumed run
	// restores it, so the state and the position always match.
	Stages map[string][]byte `json:"stages,omitempty"`
}

// Describe says where the record points: its Text, or the raw
// checkpoint when the source gave no words for it.
func (r Record) Describe() string {
	if r.Text != "" {
		return r.Text
	}
	return string(r.Source)
}

// Entry is one key and its record, as List returns them.
type Entry struct {
	Key    Key
	Record Record
}

// Errors a Store reports.
var (
	// ErrStale is a Save whose record is older than the stored one:
	// another process saved a position of the same pipeline meanwhile.
	ErrStale = errors.New("position was saved by another run meanwhile")
	// ErrLocked is a store another process holds open.
	ErrLocked = errors.New("state is in use by another process")
)
