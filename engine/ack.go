package engine

import (
	"context"
	"sync"
)

// acker acknowledges source checkpoints in read order once every sink has
// flushed a batch. Sinks flush at different times; a batch is done when its
// count of outstanding sinks reaches zero, and the source is told about the
// longest done prefix.
type acker struct {
	mu      sync.Mutex
	src     Source
	sinks   int
	pending map[int64]*ackEntry
	next    int64 // lowest sequence not yet acknowledged
	// beforeAck runs (under mu) before the source is acknowledged, so the
	// dead-letter sink is flushed before rows it holds count as safe.
	beforeAck func(ctx context.Context) error
}

type ackEntry struct {
	left int
	cp   Checkpoint
}

func newAcker(src Source, sinks int) *acker {
	return &acker{src: src, sinks: sinks, pending: map[int64]*ackEntry{}}
}

// add registers a batch read from the source.
func (a *acker) add(seq int64, cp Checkpoint) {
	a.mu.Lock()
	a.pending[seq] = &ackEntry{left: a.sinks, cp: cp}
	a.mu.Unlock()
}

// done records that one sink has flushed the given batches.
func (a *acker) done(ctx context.Context, seqs []int64) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, s := range seqs {
		if e := a.pending[s]; e != nil {
			e.left--
		}
	}
	var last Checkpoint
	advanced := false
	for {
		e := a.pending[a.next]
		if e == nil || e.left > 0 {
			break
		}
		delete(a.pending, a.next)
		a.next++
		if _, cut := e.cp.(uncommitted); !cut {
			last, advanced = e.cp, true
		}
	}
	if !advanced {
		return nil
	}
	if a.beforeAck != nil {
		if err := a.beforeAck(ctx); err != nil {
			return err
		}
	}
	return a.src.Ack(ctx, last)
}
