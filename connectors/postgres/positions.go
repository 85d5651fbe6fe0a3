package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/dataweaver/dataweaver/engine/position"
)

const defaultPositionsTable = "weave_positions"

// store is the position.Store of an exactly_once sink: a table in the
// database the sink writes to. Save commits the sink's prepared
// transaction, so that rows and position are committed together; the
// other methods (and a Save with nothing prepared) use a connection of
// their own, which may run while the sink writes.
//
// The revision check takes the position's row lock (SELECT … FOR UPDATE)
// in the saving transaction, so two runs of one pipeline cannot both save
// over the same revision: the second waits for the first, then sees the
// revision moved and fails with position.ErrStale, its rows rolled back.
//
// Without a sink (PositionStore: the shared positions of coordinated
// workers) every Save is a transaction of its own, fenced the same way.
type store struct {
	sink          *Sink  // nil: a store of its own
	dsn, connName string // where, and the connection's application name
	table, name   string // quoted, and as configured (for messages)

	mu   sync.Mutex // guards conn
	conn *pgx.Conn
}

var _ position.Store = (*store)(nil)

// DSNSecrets returns the password a connection string holds, if any: a
// field holding a DSN outside this package marks it secret with it
// (spec.Field.SecretIn).
func DSNSecrets(dsn string) []string { return dsnPassword(dsn) }

// PositionStore opens positions kept in table (default weave_positions,
// created when missing) of the database at dsn, for a store shared by
// processes that write no rows with them: the workers of a coordinated
// run. A Save names the revision it read and fails with
// position.ErrStale when another process saved since: the row lock and
// the revision column fence it, as for an exactly_once sink.
func PositionStore(ctx context.Context, dsn, table string) (position.Store, error) {
	if table == "" {
		table = defaultPositionsTable
	}
	st := &store{dsn: dsn, connName: "positions", table: tableIdent(table).Sanitize(), name: table}
	if err := st.setup(ctx); err != nil {
		st.Close()
		return nil, err
	}
	return st, nil
}

func (st *store) setup(ctx context.Context) error {
	st.mu.Lock()
	defer st.mu.Unlock()
	conn, err := st.connLocked(ctx)
	if err != nil {
		return err
	}
	// CREATE … IF NOT EXISTS needs the CREATE privilege on the schema
	// even when the table exists (which PUBLIC lacks on public since
	// PostgreSQL 15), so a table an administrator made is looked up first.
	var exists bool
	if err := conn.QueryRow(ctx, "SELECT to_regclass($1) IS NOT NULL", st.table).Scan(&exists); err != nil {
		return st.err("look up", err)
	}
	if exists {
		return nil
	}
	_, err = conn.Exec(ctx, "CREATE TABLE IF NOT EXISTS "+st.table+` (
	pipeline text NOT NULL,
	step     text NOT NULL,
	split    text NOT NULL DEFAULT '',
	revision bigint NOT NULL,
	record   jsonb NOT NULL,
	saved_at timestamptz NOT NULL,
	PRIMARY KEY (pipeline, step, split))`)
	if err != nil {
		return st.err("create", err)
	}
	return nil
}

// connLocked returns the store's connection, opening a new one when the
// last broke.
func (st *store) connLocked(ctx context.Context) (*pgx.Conn, error) {
	if st.conn != nil && !st.conn.IsClosed() {
		return st.conn, nil
	}
	closeConn(st.conn)
	st.conn = nil
	conn, err := connect(ctx, st.dsn, st.connName)
	if err != nil {
		return nil, err
	}
	st.conn = conn
	return conn, nil
}

func (st *store) err(what string, err error) error {
	return fmt.Errorf("postgres: positions table %s: %s: %w", st.name, what, err)
}

// own runs f on the store's connection. The connection sits idle between
// checkpoints, long enough for a server restart or a firewall to end it,
// and nothing retries a failed Save: a ping first finds a dead connection
// and replaces it. (Retrying f itself could save twice: a COMMIT whose
// answer was lost may have committed.)
func (st *store) own(ctx context.Context, f func(*pgx.Conn) error) error {
	st.mu.Lock()
	defer st.mu.Unlock()
	conn, err := st.connLocked(ctx)
	if err != nil {
		return err
	}
	if conn.Ping(ctx) != nil {
		closeConn(conn)
		st.conn = nil
		if conn, err = st.connLocked(ctx); err != nil {
			return err
		}
	}
	return f(conn)
}

func (st *store) Load(ctx context.Context, key position.Key) (position.Record, error) {
	var rec position.Record
	err := st.own(ctx, func(conn *pgx.Conn) error {
		var rev uint64
		var raw []byte
		err := conn.QueryRow(ctx, "SELECT revision, record FROM "+st.table+" WHERE pipeline = $1 AND step = $2 AND split = $3",
			key.Pipeline, key.Step, key.Split).Scan(&rev, &raw)
		if errors.Is(err, pgx.ErrNoRows) {
			return nil
		}
		if err != nil {
			return err
		}
		if err := json.Unmarshal(raw, &rec); err != nil {
			return err
		}
		rec.Revision = rev
		return nil
	})
	if err != nil {
		return position.Record{}, st.err("load "+key.String(), err)
	}
	return rec, nil
}

// Save saves rec in the sink's prepared transaction and commits it, or,
// when nothing is prepared (no rows since the last checkpoint), in a
// transaction of its own. A failure to commit a prepared transaction
// loses its rows, so the sink refuses everything after it (see
// txState.lost): saving a later position without them would skip them.
func (st *store) Save(ctx context.Context, key position.Key, rec position.Record) (uint64, error) {
	s := st.sink
	var tx pgx.Tx
	if s != nil {
		s.mu.Lock()
		if s.lost != nil {
			s.mu.Unlock()
			return 0, s.lost
		}
		tx = s.prepared
	}
	if tx == nil {
		if s != nil {
			s.mu.Unlock()
		}
		var rev uint64
		err := st.own(ctx, func(conn *pgx.Conn) error {
			return pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
				var err error
				rev, err = st.save(ctx, tx, key, rec)
				return err
			})
		})
		if err != nil && !errors.Is(err, position.ErrStale) {
			err = st.err("save "+key.String(), err)
		}
		return rev, err
	}
	defer s.mu.Unlock()
	n := s.prepN
	s.settle()
	rev, err := st.save(ctx, tx, key, rec)
	if err != nil {
		_ = tx.Rollback(ctx)
		if !errors.Is(err, position.ErrStale) {
			err = st.err("save "+key.String(), err)
		}
		// The rows went with the transaction: nothing may be saved after.
		s.lost = fmt.Errorf("postgres: table %s: exactly_once: the %d batches of the checkpoint were rolled back: %w", s.table, n, err)
		return 0, s.lost
	}
	if err := tx.Commit(ctx); err != nil {
		return 0, s.commitFailed(n, err)
	}
	return rev, nil
}

// save checks the revision and writes rec within tx.
func (st *store) save(ctx context.Context, tx pgx.Tx, key position.Key, rec position.Record) (uint64, error) {
	var held uint64
	err := tx.QueryRow(ctx, "SELECT revision FROM "+st.table+" WHERE pipeline = $1 AND step = $2 AND split = $3 FOR UPDATE",
		key.Pipeline, key.Step, key.Split).Scan(&held)
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return 0, err
	}
	if held != rec.Revision {
		return 0, fmt.Errorf("save position %s: %w (revision %d, expected %d)", key, position.ErrStale, held, rec.Revision)
	}
	rec.Revision++
	if rec.Saved.IsZero() {
		rec.Saved = time.Now().UTC()
	}
	raw, err := json.Marshal(rec)
	if err != nil {
		return 0, err
	}
	var n int64
	if held == 0 {
		// No row to lock: a run saving its first position at the same time
		// makes the insert conflict, which is the same staleness.
		var ct pgconn.CommandTag
		ct, err = tx.Exec(ctx, "INSERT INTO "+st.table+" (pipeline, step, split, revision, record, saved_at) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING",
			key.Pipeline, key.Step, key.Split, rec.Revision, raw, rec.Saved)
		n = ct.RowsAffected()
	} else {
		var ct pgconn.CommandTag
		ct, err = tx.Exec(ctx, "UPDATE "+st.table+" SET revision = $4, record = $5, saved_at = $6 WHERE pipeline = $1 AND step = $2 AND split = $3",
			key.Pipeline, key.Step, key.Split, rec.Revision, raw, rec.Saved)
		n = ct.RowsAffected()
	}
	if err != nil {
		return 0, err
	}
	if n != 1 {
		return 0, fmt.Errorf("save position %s: %w (saved by another run since revision %d)", key, position.ErrStale, held)
	}
	return rec.Revision, nil
}

func (st *store) Delete(ctx context.Context, key position.Key) error {
	err := st.own(ctx, func(conn *pgx.Conn) error {
		_, err := conn.Exec(ctx, "DELETE FROM "+st.table+" WHERE pipeline = $1 AND step = $2 AND split = $3", key.Pipeline, key.Step, key.Split)
		return err
	})
	if err != nil {
		return st.err("delete "+key.String(), err)
	}
	return nil
}

func (st *store) List(ctx context.Context, pipeline string) ([]position.Entry, error) {
	var out []position.Entry
	err := st.own(ctx, func(conn *pgx.Conn) error {
		rows, err := conn.Query(ctx, "SELECT step, split, revision, record FROM "+st.table+" WHERE pipeline = $1 ORDER BY step COLLATE \"C\", split COLLATE \"C\"", pipeline)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			e := position.Entry{Key: position.Key{Pipeline: pipeline}}
			var raw []byte
			if err := rows.Scan(&e.Key.Step, &e.Key.Split, &e.Record.Revision, &raw); err != nil {
				return err
			}
			rev := e.Record.Revision
			if err := json.Unmarshal(raw, &e.Record); err != nil {
				return fmt.Errorf("%s: %w", e.Key, err)
			}
			e.Record.Revision = rev
			out = append(out, e)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, st.err("list "+pipeline, err)
	}
	return out, nil
}

// Close closes the store's connection; the sink's is the sink's.
func (st *store) Close() error {
	st.mu.Lock()
	defer st.mu.Unlock()
	closeConn(st.conn)
	st.conn = nil
	return nil
}
