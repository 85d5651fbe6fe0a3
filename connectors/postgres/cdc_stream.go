package postgres

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pglogrepl"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgproto3"

	"github.com/dataweaver/dataweaver/engine"
)

// stream owns the replication connection once replication has started:
// one goroutine receives the server's messages, hands the decoded ones to
// Read through msgs, and reports the acknowledged position to the server
// (StandbyStatusUpdate) as soon as it moves and every interval, so the
// server neither drops a slow pipeline (wal_sender_timeout) nor recycles
// WAL a sink has not flushed. A connection is not safe for concurrent
// use, which is why Ack only stores the position for this goroutine.
type stream struct {
	conn   *pgconn.PgConn
	msgs   chan pglogrepl.Message
	errc   chan error // the goroutine's failure, at most one
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// progress is what Read and Ack tell the stream's goroutine.
//
// acked is the position to confirm. A quiet table would leave it behind
// while other tables' writes fill the WAL, which the slot then keeps: so
// when Read has applied every message delivered (idleAt, the count of
// them, equals the goroutine's) with nothing pending, and everything it
// returned is acknowledged (acked ≥ emitted), the goroutine confirms the
// server's position from its keepalives. Every commit before that
// position has been delivered and applied, so confirming it skips nothing.
type progress struct {
	acked   atomic.Uint64
	emitted atomic.Uint64 // the position of the last batch Read returned
	idleAt  atomic.Int64  // messages Read had applied when it last waited idle; -1 when busy
}

// raise sets acked to lsn when that is higher.
func (p *progress) raise(lsn uint64) {
	for {
		old := p.acked.Load()
		if lsn <= old || p.acked.CompareAndSwap(old, lsn) {
			return
		}
	}
}

// receiveWait bounds a receive, so that a newly acknowledged position is
// reported soon even while the server sends nothing.
const receiveWait = 100 * time.Millisecond

func startPump(conn *pgconn.PgConn, prog *progress, every time.Duration) *stream {
	ctx, cancel := context.WithCancel(context.Background())
	st := &stream{conn: conn, msgs: make(chan pglogrepl.Message, 1024), errc: make(chan error, 1), cancel: cancel}
	st.wg.Add(1)
	go func() {
		defer st.wg.Done()
		if err := st.pump(ctx, prog, every); err != nil && ctx.Err() == nil {
			st.errc <- err
		}
	}()
	return st
}

// stop ends the goroutine and closes the connection.
func (st *stream) stop() {
	st.cancel()
	st.wg.Wait()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = st.conn.Close(ctx)
}

func (st *stream) pump(ctx context.Context, prog *progress, every time.Duration) error {
	var sent uint64
	var delivered int64
	next := time.Now().Add(every)
	report := func(force bool) error {
		a := prog.acked.Load()
		if !force && a == sent && time.Now().Before(next) {
			return nil
		}
		err := pglogrepl.SendStandbyStatusUpdate(ctx, st.conn, pglogrepl.StandbyStatusUpdate{WALWritePosition: pglogrepl.LSN(a)})
		if err != nil {
			return fmt.Errorf("postgres_cdc: report position %s: %w", pglogrepl.LSN(a), err)
		}
		sent, next = a, time.Now().Add(every)
		return nil
	}
	for {
		if err := report(false); err != nil {
			return err
		}
		rctx, cancel := context.WithTimeout(ctx, receiveWait)
		raw, err := st.conn.ReceiveMessage(rctx)
		cancel()
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			if pgconn.Timeout(err) {
				continue
			}
			return fmt.Errorf("postgres_cdc: replication: %w", err)
		}
		switch m := raw.(type) {
		case *pgproto3.ErrorResponse:
			return fmt.Errorf("postgres_cdc: replication: %w", pgconn.ErrorResponseToPgError(m))
		case *pgproto3.CopyData:
			if len(m.Data) == 0 {
				continue
			}
			switch m.Data[0] {
			case pglogrepl.PrimaryKeepaliveMessageByteID:
				ka, err := pglogrepl.ParsePrimaryKeepaliveMessage(m.Data[1:])
				if err != nil {
					return fmt.Errorf("postgres_cdc: keepalive: %w", err)
				}
				if prog.idleAt.Load() == delivered && prog.acked.Load() >= prog.emitted.Load() {
					prog.raise(uint64(ka.ServerWALEnd))
				}
				if ka.ReplyRequested {
					if err := report(true); err != nil {
						return err
					}
				}
			case pglogrepl.XLogDataByteID:
				// The connection reuses its read buffer: the message,
				// which points into it, needs bytes of its own.
				xld, err := pglogrepl.ParseXLogData(append([]byte(nil), m.Data[1:]...))
				if err != nil {
					return fmt.Errorf("postgres_cdc: WAL data: %w", err)
				}
				msg, err := pglogrepl.Parse(xld.WALData)
				if err != nil {
					return fmt.Errorf("postgres_cdc: pgoutput message at %s: %w", xld.WALStart, err)
				}
				if err := st.deliver(ctx, msg, report); err != nil {
					return err
				}
				delivered++
			}
		}
	}
}

// deliver hands msg to Read, reporting the position while Read is busy.
func (st *stream) deliver(ctx context.Context, msg pglogrepl.Message, report func(bool) error) error {
	tick := time.NewTicker(receiveWait)
	defer tick.Stop()
	for {
		select {
		case st.msgs <- msg:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
			if err := report(false); err != nil {
				return err
			}
		}
	}
}

// readChanges builds a batch of changes: up to the pipeline's batch rows,
// returned early at a transaction's end when nothing more is waiting.
func (s *CDC) readChanges(ctx context.Context) (*engine.Batch, error) {
	for {
		if s.atEnd && s.rows.n == 0 {
			return nil, engine.ErrEndOfInput
		}
		if s.rows.n >= s.batch && s.inTx {
			// A full batch inside a transaction: when its commit comes
			// next, as it does when the batch ends with the transaction,
			// take it in, so that the position covers the batch's rows.
			msg, err := s.next(ctx)
			if err != nil {
				return nil, err
			}
			if _, ok := msg.(*pglogrepl.CommitMessage); !ok {
				s.held = msg
			} else if err := s.apply(msg); err != nil {
				return nil, err
			}
		}
		if s.rows.n >= s.batch || s.rows.n > 0 && !s.inTx && (len(s.stream.msgs) == 0 || s.atEnd) {
			s.prog.emitted.Store(uint64(s.done))
			return &engine.Batch{Record: s.rows.finish(), Checkpoint: CDCCheckpoint{Slot: s.slot, LSN: s.done.String()}}, nil
		}
		msg, err := s.next(ctx)
		if err != nil {
			return nil, err
		}
		if err := s.apply(msg); err != nil {
			return nil, err
		}
	}
}

// next is the message readChanges held back, else the stream's next.
func (s *CDC) next(ctx context.Context) (pglogrepl.Message, error) {
	if m := s.held; m != nil {
		s.held = nil
		return m, nil
	}
	idle := int64(-1)
	if s.rows.n == 0 && !s.inTx {
		idle = s.consumed
	}
	s.prog.idleAt.Store(idle)
	select {
	case m := <-s.stream.msgs:
		s.consumed++
		return m, nil
	case err := <-s.stream.errc:
		return nil, err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// apply adds one pgoutput message to the batch being built.
func (s *CDC) apply(msg pglogrepl.Message) error {
	switch m := msg.(type) {
	case *pglogrepl.RelationMessage:
		return s.relation(m)
	case *pglogrepl.BeginMessage:
		s.inTx, s.txLSN, s.txTime = true, m.FinalLSN, m.CommitTime
	case *pglogrepl.CommitMessage:
		s.inTx, s.done = false, m.TransactionEndLSN
	case *pglogrepl.InsertMessage:
		return s.change(opInsert, m.RelationID, m.Tuple, nil)
	case *pglogrepl.UpdateMessage:
		return s.change(opUpdate, m.RelationID, m.NewTuple, m.OldTuple)
	case *pglogrepl.DeleteMessage:
		return s.change(opDelete, m.RelationID, nil, m.OldTuple)
	case *pglogrepl.LogicalDecodingMessage:
		if m.Prefix == markerPrefix && string(m.Content) == s.marker && s.marker != "" {
			s.atEnd = true
		}
	case *pglogrepl.TruncateMessage:
		for _, id := range m.RelationIDs {
			if s.rels[id] != nil {
				return engine.Permanent(fmt.Errorf("postgres_cdc: table %s was truncated (transaction committed at %s): a truncate has no rows to "+
					"send, so the run stops rather than leave sinks with rows the table no longer has; copy the table again "+
					"(reset the pipeline's positions), or publish without truncates (CREATE PUBLICATION … WITH (publish = 'insert, update, delete'))",
					s.rel, s.txLSN))
			}
		}
	}
	return nil
}

// relation learns how a relation's columns map to the table's. A column
// the schema lacks stops the run: the batches' schema is fixed at Open,
// and dropping the column's values silently is what must not happen.
func (s *CDC) relation(m *pglogrepl.RelationMessage) error {
	if m.Namespace != s.rel.schema || m.RelationName != s.rel.name {
		delete(s.rels, m.RelationID)
		return nil
	}
	rel := &relation{col: make([]int, len(m.Columns))}
	for j, c := range m.Columns {
		i := -1
		for k, col := range s.cols {
			if col.field.Name == c.Name {
				i = k
				break
			}
		}
		if i < 0 {
			return engine.Permanent(fmt.Errorf("postgres_cdc: table %s has a new column %q (added after this run read the table's schema; "+
				"first change with it committed at %s): the run stops so that its values are not dropped; run the pipeline again, and it "+
				"reads the new schema, whose batches carry the column", s.rel, c.Name, s.txLSN))
		}
		if s.cols[i].oid != c.DataType {
			return engine.Permanent(fmt.Errorf("postgres_cdc: column %q of table %s changed type (OID %d, was %d; change committed at %s): "+
				"the run stops; run the pipeline again to read the new type", c.Name, s.rel, c.DataType, s.cols[i].oid, s.txLSN))
		}
		rel.col[j] = i
	}
	s.rels[m.RelationID] = rel
	return nil
}

// change appends an insert, update or delete of the table.
func (s *CDC) change(op string, relID uint32, newT, oldT *pglogrepl.TupleData) error {
	rel := s.rels[relID]
	if rel == nil {
		return nil // another table of the publication
	}
	if err := s.rows.appendChange(op, s.txLSN, s.txTime, rel, newT, oldT); err != nil {
		return fmt.Errorf("postgres_cdc: table %s: %s committed at %s: %w", s.rel, op, s.txLSN, err)
	}
	return nil
}
