package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/jackc/pgx/v5"

	"github.com/dataweaver/dataweaver/engine"
	"github.com/dataweaver/dataweaver/engine/position"
)

// txSink is the sink with exactly_once: a Committer and PositionKeeper,
// which a plain Sink must not be (the engine would then hand it the
// pipeline's positions), hence a type of its own.
//
// The rows of one checkpoint interval go into one transaction, each batch
// inside a savepoint so that a batch the database refuses is rolled back
// alone and the pipeline's error policy still applies to that batch only.
// At a checkpoint Prepare (on the sink's goroutine) hands the transaction
// over; the engine then calls the store's Save (on whichever goroutine
// takes the checkpoint), which saves the position in the same transaction
// and commits it. Until then Write waits: a connection holds one
// transaction at a time, and the next batch belongs to the next one.
type txSink struct{ *Sink }

var (
	_ engine.Committer      = txSink{}
	_ engine.PositionKeeper = txSink{}
)

// txState is the exactly-once transaction state, guarded by Sink.mu.
type txState struct {
	tx      pgx.Tx // the open interval's transaction; nil until its first batch
	batches int    // batches written into tx

	prepared pgx.Tx        // the transaction Prepare handed to the checkpoint
	prepID   uint64        // its number, in the prepared bytes
	prepN    int           // and its batches
	released chan struct{} // closed when prepared is committed or given up; nil when none
	lastID   uint64

	// lost is set when rows written in the interval's transaction are
	// gone with it (a lost connection, a failed commit): every later call
	// fails with it, so the run stops and the next resumes from the last
	// saved position.
	lost error
}

// preparedTx is what Prepare returns, kept in the position record.
type preparedTx struct {
	Table   string `json:"table"`
	ID      uint64 `json:"id"`
	Batches int    `json:"batches"`
}

// writeInTx adds rec to the interval's transaction.
func (s *Sink) writeInTx(ctx context.Context, rec arrow.RecordBatch) error {
	if err := s.lockUnprepared(ctx); err != nil {
		return err
	}
	defer s.mu.Unlock()
	if s.schema == nil {
		return errNotOpen
	}
	if s.lost != nil {
		return s.lost
	}
	if s.tx == nil {
		// Between checkpoints nothing is at stake: a connection that
		// broke meanwhile is replaced.
		if err := s.reconnect(ctx); err != nil {
			return err
		}
		tx, err := s.conn.Begin(ctx)
		if err != nil {
			s.dropConn()
			return fmt.Errorf("postgres: table %s: begin: %w", s.table, err)
		}
		s.tx, s.batches = tx, 0
	}
	sp, err := s.tx.Begin(ctx) // a savepoint
	if err == nil {
		if err = s.copy(ctx, sp, rec); err == nil {
			err = sp.Commit(ctx) // releases the savepoint
			if err == nil {
				s.batches++
				return nil
			}
		}
		if s.conn.IsClosed() || sp.Rollback(ctx) != nil {
			err = s.txGone(err)
		}
		return err
	}
	return s.txGone(err)
}

// lockUnprepared locks s.mu once no prepared transaction waits for its
// checkpoint to be saved.
func (s *Sink) lockUnprepared(ctx context.Context) error {
	s.mu.Lock()
	for s.released != nil {
		ch := s.released
		s.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
		s.mu.Lock()
	}
	return nil
}

// txGone handles err having cost the interval's transaction. If the
// transaction held no batch yet, nothing is lost: the engine's retry
// writes the batch in a new one. Otherwise the rows of batches already
// written are gone. Keeping every batch of the interval to send them again
// would hold up to checkpoint_every of data in memory, against the
// engine's rule that a sink does not keep a batch after Write; the next
// run reads those rows again from the last saved position instead.
func (s *Sink) txGone(err error) error {
	lostBatches := s.batches
	s.abandonTx()
	s.dropConn()
	if lostBatches == 0 {
		return err
	}
	s.lost = engine.Fatal(fmt.Errorf("postgres: table %s: exactly_once: the transaction holding the %d batches written since the last checkpoint was lost "+
		"(they were never committed); the run must stop, and the next resumes from the last saved position, reading them again: %w", s.table, lostBatches, err))
	return s.lost
}

// abandonTx rolls back the open and the prepared transaction and wakes a
// Write waiting for the latter (Close, or a lost connection).
func (s *Sink) abandonTx() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if s.tx != nil {
		_ = s.tx.Rollback(ctx)
		s.tx, s.batches = nil, 0
	}
	if s.prepared != nil {
		_ = s.prepared.Rollback(ctx)
		// A Save still to come must not save the position without the rows.
		s.lost = fmt.Errorf("postgres: table %s: exactly_once: the sink was closed with the %d batches of a checkpoint not committed", s.table, s.prepN)
	}
	s.settle()
}

// settle forgets the prepared transaction and lets Write go on.
func (s *Sink) settle() {
	s.prepared = nil
	if s.released != nil {
		close(s.released)
		s.released = nil
	}
}

// Prepare hands the interval's transaction, with every batch before the
// checkpoint in it, to the checkpoint. It commits nothing: the store's
// Save does, together with the position. Nil for an interval without
// batches (Save then runs in a transaction of its own).
func (s txSink) Prepare(context.Context) ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.lost != nil {
		return nil, s.lost
	}
	if s.tx == nil {
		return nil, nil
	}
	s.lastID++
	p := preparedTx{Table: s.table, ID: s.lastID, Batches: s.batches}
	s.prepared, s.prepID, s.prepN, s.released = s.tx, s.lastID, s.batches, make(chan struct{})
	s.tx, s.batches = nil, 0
	return json.Marshal(p)
}

// Commit does nothing in the usual case: Save committed the transaction
// with the position, and on a restart the prepared bytes of the last run
// were committed with the position that holds them. Only when the engine
// keeps no positions in this run (it does not call Save) is the
// transaction still prepared, and Commit commits it, rows without a
// position, as a plain checkpoint.
func (s txSink) Commit(ctx context.Context, prepared []byte) error {
	var p preparedTx
	if err := json.Unmarshal(prepared, &p); err != nil {
		return fmt.Errorf("postgres: table %s: prepared checkpoint %q: %w", s.table, prepared, err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.prepared == nil || s.prepID != p.ID {
		return nil
	}
	tx, n := s.prepared, s.prepN
	s.settle()
	if err := tx.Commit(ctx); err != nil {
		return s.commitFailed(n, err)
	}
	return nil
}

// commitFailed: the commit of a prepared transaction failed, and its rows
// are gone (or, when the connection broke during COMMIT, possibly
// committed: the saved position then says so, and the next run resumes
// from it either way).
func (s *Sink) commitFailed(batches int, err error) error {
	s.dropConn()
	s.lost = engine.Fatal(fmt.Errorf("postgres: table %s: exactly_once: commit of the %d batches of a checkpoint: %w", s.table, batches, err))
	return s.lost
}

// Positions returns the store kept in positions_table, creating the table
// when missing.
func (s txSink) Positions(ctx context.Context) (position.Store, error) {
	st := &store{sink: s.Sink, dsn: s.dsn, connName: s.name + " positions", table: tableIdent(s.posTable).Sanitize(), name: s.posTable}
	if err := st.setup(ctx); err != nil {
		st.Close()
		return nil, err
	}
	return st, nil
}
