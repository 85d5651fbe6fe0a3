package postgres

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/jackc/pglogrepl"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/dataweaver/dataweaver/engine"
	"github.com/dataweaver/dataweaver/internal/wait"
)

// markerPrefix is the prefix of stop_at_end's logical decoding message.
const markerPrefix = "dataweaver.end"

// snapCursor is the snapshot transaction's cursor over the table.
const snapCursor = "dw_cdc_snapshot"

// describe resolves the table's name as pgoutput spells it, learns its
// columns and builds the schema: the table's columns, the metadata
// columns, then a before-image column per table column.
func (s *CDC) describe(ctx context.Context) error {
	ident := tableIdent(s.table).Sanitize()
	var replIdent string
	err := s.conn.QueryRow(ctx, `SELECT n.nspname, c.relname, c.relreplident::text FROM pg_class c
		JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = $1::regclass`, ident).Scan(&s.rel.schema, &s.rel.name, &replIdent)
	if err != nil {
		return fmt.Errorf("postgres_cdc: table %s: %w", s.table, err)
	}
	rows, err := s.conn.Query(ctx, "SELECT * FROM "+ident+" LIMIT 0")
	if err != nil {
		return fmt.Errorf("postgres_cdc: table %s: %w", s.rel, err)
	}
	fds := rows.FieldDescriptions()
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("postgres_cdc: table %s: %w", s.rel, err)
	}
	typeName := func(oid uint32) string {
		if t, ok := s.conn.TypeMap().TypeForOID(oid); ok {
			return t.Name
		}
		return "unknown"
	}
	s.cols = s.cols[:0]
	fields := make([]arrow.Field, 0, 2*len(fds)+4)
	for _, fd := range fds {
		c, err := newColumn(fd, typeName)
		if err != nil {
			return fmt.Errorf("postgres_cdc: table %s: %w", s.rel, err)
		}
		s.cols = append(s.cols, c)
		fields = append(fields, c.field)
	}
	fields = append(fields,
		arrow.Field{Name: opCol, Type: arrow.BinaryTypes.String},
		arrow.Field{Name: lsnCol, Type: arrow.PrimitiveTypes.Int64},
		arrow.Field{Name: commitTSCol, Type: tsUTC, Nullable: true},
		arrow.Field{Name: unchangedCol, Type: arrow.BinaryTypes.String, Nullable: true})
	for _, c := range s.cols {
		f := c.field
		f.Name = beforePrefix + f.Name
		fields = append(fields, f)
	}
	s.schema = arrow.NewSchema(fields, nil)
	if replIdent == "n" {
		s.log.Warn("postgres_cdc: the table has REPLICA IDENTITY NOTHING: the server refuses its updates and deletes once it is published; "+
			"set REPLICA IDENTITY DEFAULT (with a primary key) or FULL", "table", s.rel.String())
	}
	return nil
}

// check finds publication and slot, and refuses, before anything is
// created, what the first Read could not do.
func (s *CDC) check(ctx context.Context) error {
	if err := s.conn.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_publication WHERE pubname = $1)", s.pub).Scan(&s.pubOK); err != nil {
		return fmt.Errorf("postgres_cdc: publication %s: %w", s.pub, err)
	}
	switch {
	case !s.pubOK && !s.createPub:
		return fmt.Errorf("%w: postgres_cdc: publication %q does not exist: create it (CREATE PUBLICATION %s FOR TABLE %s) or set create_publication: true",
			engine.ErrInvalidConfig, s.pub, quote(s.pub), s.rel)
	case s.pubOK:
		var in bool
		if err := s.conn.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_publication_tables WHERE pubname = $1 AND schemaname = $2 AND tablename = $3)",
			s.pub, s.rel.schema, s.rel.name).Scan(&in); err != nil {
			return fmt.Errorf("postgres_cdc: publication %s: %w", s.pub, err)
		}
		if !in {
			return fmt.Errorf("%w: postgres_cdc: publication %q does not include table %s: ALTER PUBLICATION %s ADD TABLE %s",
				engine.ErrInvalidConfig, s.pub, s.rel, quote(s.pub), s.rel)
		}
	}
	var plugin, db string
	var at *string
	err := s.conn.QueryRow(ctx, `SELECT coalesce(plugin, ''), coalesce(database::text, ''), confirmed_flush_lsn::text
		FROM pg_replication_slots WHERE slot_name = $1`, s.slot).Scan(&plugin, &db, &at)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		s.slotOK = false
	case err != nil:
		return fmt.Errorf("postgres_cdc: slot %s: %w", s.slot, err)
	default:
		s.slotOK = true
		var cur string
		if err := s.conn.QueryRow(ctx, "SELECT current_database()").Scan(&cur); err != nil {
			return fmt.Errorf("postgres_cdc: slot %s: %w", s.slot, err)
		}
		if plugin != "pgoutput" || db != cur {
			return fmt.Errorf("%w: postgres_cdc: slot %q is not a pgoutput slot of database %s (plugin %q, database %q): choose another slot name",
				engine.ErrInvalidConfig, s.slot, cur, plugin, db)
		}
		s.slotAt = 0
		if at != nil {
			s.slotAt, _ = pglogrepl.ParseLSN(*at)
		}
	}
	from := s.from()
	switch {
	case from != nil && !s.slotOK:
		return fmt.Errorf("postgres_cdc: slot %q does not exist, but the pipeline's position %s is in it: the changes since are lost; "+
			"reset the pipeline's positions (weave positions --reset) to copy the table again from a new slot", s.slot, from)
	case !s.slotOK && !s.createSlot:
		return fmt.Errorf("%w: postgres_cdc: slot %q does not exist: set create_slot: true, or create it (SELECT pg_create_logical_replication_slot('%s', 'pgoutput'))",
			engine.ErrInvalidConfig, s.slot, s.slot)
	case from == nil && s.snapshot && s.slotOK && !s.createSlot:
		return fmt.Errorf("%w: postgres_cdc: slot %q exists, but the pipeline has no position past the table's snapshot, and a snapshot "+
			"consistent with a slot exists only when the slot is created: set create_slot: true (the slot is dropped and created again) "+
			"or snapshot: false (changes from where the slot stands, without the table's rows)", engine.ErrInvalidConfig, s.slot)
	}
	return nil
}

// warnSlots warns about other inactive slots that hold back WAL: each
// keeps every WAL segment since its restart_lsn until it is used or
// dropped, which fills the server's disk.
func (s *CDC) warnSlots(ctx context.Context) {
	rows, err := s.conn.Query(ctx, `SELECT slot_name, pg_wal_lsn_diff(pg_current_wal_lsn(), restart_lsn)::bigint
		FROM pg_replication_slots WHERE NOT active AND slot_name <> $1 AND restart_lsn IS NOT NULL
		AND pg_wal_lsn_diff(pg_current_wal_lsn(), restart_lsn) >= $2`, s.slot, s.warnBytes)
	if err != nil {
		s.log.Debug("postgres_cdc: cannot list replication slots", "err", err)
		return
	}
	defer rows.Close()
	for rows.Next() {
		var name string
		var held int64
		if rows.Scan(&name, &held) == nil {
			s.log.Warn("postgres_cdc: an inactive replication slot holds back WAL; drop it (SELECT pg_drop_replication_slot(...)) if nothing uses it",
				"slot", name, "bytes", held)
		}
	}
}

// start creates what was asked for and begins the snapshot, or the
// stream where the last run left off.
func (s *CDC) start(ctx context.Context) error {
	s.rows = newRowBuilder(s.mem, s.schema, s.cols, s.conn.TypeMap())
	s.rels = map[uint32]*relation{}
	s.inTx = false
	if !s.pubOK && s.createPub {
		_, err := s.conn.Exec(ctx, "CREATE PUBLICATION "+quote(s.pub)+" FOR TABLE "+pgx.Identifier{s.rel.schema, s.rel.name}.Sanitize())
		var pe *pgconn.PgError
		if err != nil && !(errors.As(err, &pe) && pe.Code == "42710") { // duplicate_object: created meanwhile
			return fmt.Errorf("postgres_cdc: create publication %s: %w", s.pub, err)
		}
		s.log.Info("postgres_cdc: created publication", "publication", s.pub, "table", s.rel.String())
	}
	repl, err := s.replicationConn(ctx)
	if err != nil {
		return err
	}
	if from := s.from(); from != nil {
		lsn, _ := pglogrepl.ParseLSN(from.LSN)
		return s.startStream(ctx, repl, max(lsn, s.slotAt))
	}
	if !s.snapshot {
		if !s.slotOK {
			res, err := pglogrepl.CreateReplicationSlot(ctx, repl, s.slot, "pgoutput",
				pglogrepl.CreateReplicationSlotOptions{Mode: pglogrepl.LogicalReplication, SnapshotAction: "NOEXPORT_SNAPSHOT"})
			if err != nil {
				repl.Close(context.Background())
				return fmt.Errorf("postgres_cdc: create slot %s: %w", s.slot, err)
			}
			s.slotAt, _ = pglogrepl.ParseLSN(res.ConsistentPoint)
			s.log.Info("postgres_cdc: created replication slot", "slot", s.slot, "lsn", res.ConsistentPoint)
		}
		return s.startStream(ctx, repl, s.slotAt)
	}
	return s.beginSnapshot(ctx, repl)
}

// beginSnapshot creates the slot, exporting its snapshot, and opens a
// cursor over the table in a transaction of that snapshot on the query
// connection. The exported snapshot lives until the replication
// connection's next command, so the import comes first.
func (s *CDC) beginSnapshot(ctx context.Context, repl *pgconn.PgConn) error {
	fail := func(err error) error {
		repl.Close(context.Background())
		return err
	}
	if s.slotOK {
		s.log.Warn("postgres_cdc: the slot exists but the pipeline has no record of a finished snapshot: dropping it to take a new one",
			"slot", s.slot)
		if err := pglogrepl.DropReplicationSlot(ctx, repl, s.slot, pglogrepl.DropReplicationSlotOptions{Wait: true}); err != nil {
			return fail(fmt.Errorf("postgres_cdc: drop slot %s: %w", s.slot, err))
		}
		s.slotOK = false
	}
	res, err := pglogrepl.CreateReplicationSlot(ctx, repl, s.slot, "pgoutput",
		pglogrepl.CreateReplicationSlotOptions{Mode: pglogrepl.LogicalReplication, SnapshotAction: "EXPORT_SNAPSHOT"})
	if err != nil {
		return fail(fmt.Errorf("postgres_cdc: create slot %s: %w", s.slot, err))
	}
	s.slotOK = true
	if s.snapLSN, err = pglogrepl.ParseLSN(res.ConsistentPoint); err != nil {
		return fail(fmt.Errorf("postgres_cdc: slot %s: consistent point: %w", s.slot, err))
	}
	s.log.Info("postgres_cdc: created replication slot; copying the table", "slot", s.slot, "lsn", res.ConsistentPoint)
	for _, sql := range []string{
		"BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY",
		"SET TRANSACTION SNAPSHOT " + literal(res.SnapshotName),
		"DECLARE " + snapCursor + " NO SCROLL CURSOR FOR SELECT * FROM " + pgx.Identifier{s.rel.schema, s.rel.name}.Sanitize(),
	} {
		if _, err := s.conn.Exec(ctx, sql); err != nil {
			return fail(fmt.Errorf("postgres_cdc: snapshot of %s: %w", s.rel, err))
		}
	}
	s.snapping = true
	s.pendingRepl = repl
	return nil
}

// snapshotPage reads the next page of the snapshot; nil at its end.
func (s *CDC) snapshotPage(ctx context.Context) (*engine.Batch, error) {
	rows, err := s.conn.Query(ctx, fmt.Sprintf("FETCH %d FROM %s", s.batch, snapCursor))
	if err != nil {
		return nil, fmt.Errorf("postgres_cdc: snapshot of %s: %w", s.rel, err)
	}
	defer rows.Close()
	fds := rows.FieldDescriptions()
	if len(fds) != len(s.cols) {
		return nil, fmt.Errorf("postgres_cdc: snapshot of %s: %d columns, want %d", s.rel, len(fds), len(s.cols))
	}
	decs := make([]decoder, len(s.cols))
	for i, c := range s.cols {
		decs[i] = c.decoder(s.conn.TypeMap(), fds[i].Format)
	}
	for rows.Next() {
		if err := s.rows.appendSnapshot(decs, rows.RawValues(), s.snapLSN); err != nil {
			return nil, fmt.Errorf("postgres_cdc: snapshot of %s: %w", s.rel, err)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("postgres_cdc: snapshot of %s: %w", s.rel, err)
	}
	n := s.rows.n
	if n == 0 {
		return nil, nil
	}
	// A short page is the last: its position says the copy is complete,
	// and the snapshot's transaction ends now, not at the next Read: it
	// holds a lock that an ALTER TABLE would wait for.
	last := n < s.batch
	rows.Close()
	if last {
		if err := s.endSnapshot(ctx); err != nil {
			return nil, err
		}
	}
	cp := CDCCheckpoint{Slot: s.slot, LSN: s.snapLSN.String(), Snapshot: !last}
	return &engine.Batch{Record: s.rows.finish(), Checkpoint: cp}, nil
}

// endSnapshot ends the snapshot's transaction and starts the stream at
// the slot's consistent point, where the snapshot stands.
func (s *CDC) endSnapshot(ctx context.Context) error {
	s.snapping = false
	if _, err := s.conn.Exec(ctx, "COMMIT"); err != nil {
		return fmt.Errorf("postgres_cdc: snapshot of %s: %w", s.rel, err)
	}
	repl := s.pendingRepl
	s.pendingRepl = nil
	return s.startStream(ctx, repl, s.snapLSN)
}

// startStream starts replication at lsn (the server starts at the slot's
// confirmed position when that is later) and the goroutine that owns the
// connection from now on.
func (s *CDC) startStream(ctx context.Context, repl *pgconn.PgConn, lsn pglogrepl.LSN) error {
	args := []string{"proto_version '1'", "publication_names " + literal(quote(s.pub))}
	if s.stopAtEnd {
		// Every transaction committed before a non-transactional message
		// is decoded before it: the message marks the end.
		s.marker = fmt.Sprintf("%s %d", s.slot, time.Now().UnixNano())
		if _, err := s.conn.Exec(ctx, "SELECT pg_logical_emit_message(false, $1, $2)", markerPrefix, s.marker); err != nil {
			repl.Close(context.Background())
			return fmt.Errorf("postgres_cdc: stop_at_end: %w", err)
		}
		args = append(args, "messages 'true'")
	}
	opts := pglogrepl.StartReplicationOptions{Mode: pglogrepl.LogicalReplication, PluginArgs: args}
	err := pglogrepl.StartReplication(ctx, repl, s.slot, lsn, opts)
	// The server may not yet have ended the session of a run that just
	// closed or died (its walsender still holds the slot): wait for it.
	for d := 50 * time.Millisecond; slotInUse(err) && d < 10*time.Second; d *= 2 {
		s.log.Info("postgres_cdc: the slot is still in use by another session; waiting", "slot", s.slot, "wait", d)
		if werr := wait.For(ctx, d); werr != nil {
			err = werr
			break
		}
		err = pglogrepl.StartReplication(ctx, repl, s.slot, lsn, opts)
	}
	if err != nil {
		repl.Close(context.Background())
		return fmt.Errorf("postgres_cdc: start replication from slot %s at %s: %w", s.slot, lsn, err)
	}
	s.done = lsn
	s.confirm(lsn)
	s.consumed = 0
	s.prog.idleAt.Store(-1)
	s.stream = startPump(repl, &s.prog, s.status)
	return nil
}

// literal quotes s as an SQL string literal.
func literal(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// slotInUse reports the server's refusal of a slot another session holds
// (SQLSTATE 55006, object_in_use).
func slotInUse(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == "55006"
}
