package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/jackc/pglogrepl"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/dataweaver/dataweaver/engine"
	"github.com/dataweaver/dataweaver/engine/spec"
)

// The columns the CDC source adds after the table's own.
const (
	opCol        = "_op"
	lsnCol       = "_lsn"
	commitTSCol  = "_commit_ts"
	unchangedCol = "_unchanged"
	beforePrefix = "_before_"
)

// The values of the _op column.
const (
	opSnapshot = "snapshot"
	opInsert   = "insert"
	opUpdate   = "update"
	opDelete   = "delete"
)

var cdcSpec = spec.New("postgres_cdc").
	Summary("Streams a PostgreSQL table's changes by logical replication (pgoutput): a consistent snapshot, then every insert, update and delete.").
	Description("The source reads one table through a publication and a logical replication slot. With snapshot (the default) "+
		"it first creates the slot, exporting its snapshot, and copies the table's rows as of that snapshot in a second "+
		"connection (SET TRANSACTION SNAPSHOT): no change is missed or seen twice between the copy and the stream, which "+
		"starts at the slot's consistent point. Every row carries the table's columns and "+opCol+" (snapshot, insert, update, "+
		"delete), "+lsnCol+" (the commit's LSN as an integer; the slot's consistent point for snapshot rows), "+commitTSCol+
		" (null for snapshot rows), "+unchangedCol+" and a "+beforePrefix+"<column> for each column, the row's before-image.\n\n"+
		"What the before-image holds depends on the table's REPLICA IDENTITY: FULL gives the whole old row for updates and "+
		"deletes; DEFAULT gives the old primary key, for deletes always and for updates only when the key changed; NOTHING "+
		"gives none, and the server refuses updates and deletes of a published table without one. A delete's table columns "+
		"hold the before-image too (the key alone, under DEFAULT). An update that leaves a TOASTed value (a large text or "+
		"bytea) unchanged does not carry it: the column is null and its name is listed in "+unchangedCol+" (comma-separated; "+
		"null when none), unless REPLICA IDENTITY FULL supplied it from the old row. The postgres sink keeps such columns "+
		"as they are when it applies the row.\n\n"+
		"The slot's position is confirmed to the server only once every sink flushed the batches before it (the engine's "+
		"acknowledgement), and the position is kept in the pipeline's position store too: after a crash the next run "+
		"resumes from the slot and gets again what was not confirmed (at-least-once, in whole transactions; use an upsert "+
		"sink to apply them idempotently). A run killed during the snapshot copies it again from a new slot, which needs "+
		"create_slot. A column added to the table stops the run with an error naming table and column; the next run "+
		"reads the new schema and carries the column (null in changes made before it was added). At start the source warns "+
		"about other inactive slots that hold back more than slot_warning_bytes of WAL.").
	Field(
		dsnField(),
		spec.String("table").Desc("Table (optionally schema-qualified) whose changes to read.").Example("public.orders"),
		spec.String("publication").Desc("Publication the slot decodes; it must include the table, and exist before the slot is created "+
			"(decoding from a slot made before its publication can fail with \"publication does not exist\"; create_publication and create_slot do it in that order).").Example("weave_orders"),
		spec.String("slot").Desc("Logical replication slot (pgoutput plugin); one per pipeline.").Example("weave_orders"),
		spec.Bool("create_publication").Default(false).Desc("Create the publication FOR TABLE table when it does not exist."),
		spec.Bool("create_slot").Default(false).
			Desc("Create the slot when it does not exist, and with snapshot drop and recreate one whose snapshot the pipeline has no record of having finished (a run killed during the copy)."),
		spec.Bool("snapshot").Default(true).
			Desc("Copy the table's rows first, from the snapshot the slot exports when created. Off: only stream changes from where the slot stands."),
		spec.Bool("stop_at_end").Default(false).
			Desc("End the input once the changes committed before the stream started are read (a catch-up run, a test), instead of streaming on. "+
				"The source marks where with a logical decoding message (pg_logical_emit_message)."),
		spec.ByteSize("slot_warning_bytes").Default(int64(1<<30)).
			Desc("Warn at start about each other inactive replication slot that holds back at least this much WAL (it keeps growing until the slot is dropped or used)."),
		spec.Duration("status_interval").Default(10*time.Second).Advance().
			Desc("How often the source reports its confirmed position to the server even when nothing was acknowledged (the server drops a silent client after wal_sender_timeout)."),
	).
	WithExample("Orders, snapshot then changes", `source:
  postgres_cdc:
    dsn: postgres://weave@db/shop
    table: public.orders
    publication: weave_orders
    slot: weave_orders
    create_publication: true
    create_slot: true`)

func init() {
	engine.RegisterSource(cdcSpec, newCDC)
}

// CDCCheckpoint is a CDC batch's position: LSN is the end of the last
// transaction whose changes are all in the batches up to this one, which
// the server is told once they are acknowledged. Snapshot marks a batch of
// the initial copy; a copy cannot be resumed (its snapshot dies with the
// run), so such a position makes the next run copy again.
type CDCCheckpoint struct {
	Slot     string `json:"slot"`
	LSN      string `json:"lsn"`
	Snapshot bool   `json:"snapshot,omitempty"`
}

// String is the position as weave positions shows it.
func (c CDCCheckpoint) String() string {
	if c.Snapshot {
		return "slot " + c.Slot + ": snapshot not finished"
	}
	return "slot " + c.Slot + " at " + c.LSN
}

var _ engine.Resumer = (*CDC)(nil)

// CDC is the postgres_cdc source.
type CDC struct {
	name, dsn, table, pub, slot string
	createPub, createSlot       bool
	snapshot, stopAtEnd         bool
	warnBytes                   int64
	status                      time.Duration
	batch                       int
	mem                         memory.Allocator
	log                         *slog.Logger

	resumed *CDCCheckpoint // the position Resume was given

	// Set by Open.
	conn     *pgx.Conn // queries, and the snapshot's transaction
	rel      relName   // the table's schema and name as pgoutput sends them
	cols     []*column
	schema   *arrow.Schema
	rows     *rowBuilder
	started  bool
	snapping bool          // in the snapshot copy
	snapLSN  pglogrepl.LSN // the slot's consistent point, while copying
	stream   *stream       // nil until streaming
	// pendingRepl is the replication connection while the snapshot is
	// copied, before the stream starts on it.
	pendingRepl *pgconn.PgConn
	done        pglogrepl.LSN // end of the last transaction read whole
	inTx        bool          // between a Begin and its Commit
	txLSN       pglogrepl.LSN // the open transaction's commit LSN
	txTime      time.Time     // and its commit time
	rels        map[uint32]*relation
	held        pglogrepl.Message // read ahead by readChanges, applied next
	slotAt      pglogrepl.LSN     // the slot's confirmed position, when it exists at Open
	slotOK      bool              // the slot exists
	pubOK       bool              // the publication exists
	prog        progress          // shared with the stream's goroutine
	consumed    int64             // messages Read took from the stream
	marker      string            // with stop_at_end, the content of the message that marks the end
	atEnd       bool              // the marker arrived

	mu   sync.Mutex
	keep *CDCCheckpoint // where a reopened source resumes: the last acknowledged checkpoint
}

type relName struct{ schema, name string }

func (r relName) String() string { return r.schema + "." + r.name }

func newCDC(conf *spec.Parsed, b engine.Build) (engine.Source, error) {
	s := &CDC{
		name: b.Name, dsn: conf.String("dsn"), table: conf.String("table"), pub: conf.String("publication"), slot: conf.String("slot"),
		createPub: conf.Bool("create_publication"), createSlot: conf.Bool("create_slot"), snapshot: conf.Bool("snapshot"), stopAtEnd: conf.Bool("stop_at_end"),
		warnBytes: conf.ByteSize("slot_warning_bytes"), status: conf.Duration("status_interval"),
		batch: b.BatchRows, mem: b.Mem, log: b.Logger,
	}
	if s.batch <= 0 {
		s.batch = 1000
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.status <= 0 {
		return nil, configErr(conf, "status_interval", "status_interval must be positive")
	}
	// Slot names are identifiers the replication protocol takes unquoted.
	if !validSlotName(s.slot) {
		return nil, configErr(conf, "slot", "slot %q: a slot name has only lower-case letters, digits and underscores (at most 63)", s.slot)
	}
	return s, nil
}

func validSlotName(n string) bool {
	if n == "" || len(n) > 63 {
		return false
	}
	for _, c := range n {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}

// Open connects, learns the table's columns and checks publication and
// slot; nothing is created until the first Read, so that weave validate
// changes nothing in the database.
func (s *CDC) Open(ctx context.Context) (*arrow.Schema, error) {
	s.Close()
	conn, err := connect(ctx, s.dsn, s.name)
	if err != nil {
		return nil, err
	}
	s.conn = conn
	if err := s.describe(ctx); err != nil {
		s.Close()
		return nil, err
	}
	if err := s.check(ctx); err != nil {
		s.Close()
		return nil, err
	}
	s.warnSlots(ctx)
	return s.schema, nil
}

// Read returns the next batch: pages of the snapshot, then changes.
func (s *CDC) Read(ctx context.Context) (*engine.Batch, error) {
	if s.conn == nil {
		return nil, errors.New("postgres_cdc: source is not open")
	}
	if !s.started {
		if err := s.start(ctx); err != nil {
			return nil, err
		}
		s.started = true
	}
	if s.snapping {
		b, err := s.snapshotPage(ctx)
		if err != nil || b != nil {
			return b, err
		}
		if s.snapping {
			// The last page was full, and its position said the copy
			// goes on: an empty batch says it is complete, so that a
			// run that stops now does not copy the table again.
			if err := s.endSnapshot(ctx); err != nil {
				return nil, err
			}
			return &engine.Batch{Record: s.rows.finish(), Checkpoint: CDCCheckpoint{Slot: s.slot, LSN: s.snapLSN.String()}}, nil
		}
	}
	return s.readChanges(ctx)
}

// Resume starts the next Open from pos, a CDCCheckpoint an earlier run
// saved. A position of another slot is refused: the slot is where the
// changes are, and another one's LSN means nothing to it.
func (s *CDC) Resume(pos []byte) error {
	var c CDCCheckpoint
	if err := json.Unmarshal(pos, &c); err != nil {
		return fmt.Errorf("postgres_cdc: saved position %s is not a CDC position: %w", pos, err)
	}
	if c.Slot != s.slot {
		return fmt.Errorf("postgres_cdc: the saved position %s is for slot %q, but the source reads slot %q: reset the pipeline's positions to start over", c, c.Slot, s.slot)
	}
	if !c.Snapshot {
		if _, err := pglogrepl.ParseLSN(c.LSN); err != nil {
			return fmt.Errorf("postgres_cdc: saved position %s: %w", c, err)
		}
	}
	s.resumed = &c
	return nil
}

// Ack records that every batch up to cp is flushed by every sink: the
// stream confirms its LSN to the server (StandbyStatusUpdate), which may
// then recycle the WAL before it. Positions of the snapshot confirm
// nothing: the slot stands at its consistent point until the stream
// begins.
func (s *CDC) Ack(_ context.Context, cp engine.Checkpoint) error {
	c, ok := cp.(CDCCheckpoint)
	if !ok {
		return fmt.Errorf("postgres_cdc: Ack with a checkpoint of type %T", cp)
	}
	s.mu.Lock()
	s.keep = &c
	s.mu.Unlock()
	if c.Snapshot {
		return nil
	}
	lsn, err := pglogrepl.ParseLSN(c.LSN)
	if err != nil {
		return fmt.Errorf("postgres_cdc: Ack: %w", err)
	}
	s.confirm(lsn)
	return nil
}

// confirm raises the LSN the stream confirms to the server to lsn.
func (s *CDC) confirm(lsn pglogrepl.LSN) { s.prog.raise(uint64(lsn)) }

// Close stops the stream and disconnects. A later Open resumes after the
// last acknowledged batch.
func (s *CDC) Close() error {
	if s.stream != nil {
		s.stream.stop()
		s.stream = nil
	}
	if s.pendingRepl != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		_ = s.pendingRepl.Close(ctx)
		cancel()
		s.pendingRepl = nil
	}
	if s.rows != nil {
		s.rows.release()
		s.rows = nil
	}
	closeConn(s.conn)
	s.conn, s.started, s.snapping, s.atEnd, s.held = nil, false, false, false, nil
	return nil
}

// from is where streaming resumes: the last batch this object saw
// acknowledged (a reopening), else the position an earlier run saved;
// nil for none, or for a snapshot that did not finish.
func (s *CDC) from() *CDCCheckpoint {
	s.mu.Lock()
	c := s.keep
	s.mu.Unlock()
	if c == nil {
		c = s.resumed
	}
	if c == nil || c.Snapshot {
		return nil
	}
	return c
}

// replicationConn opens the connection that speaks the replication
// protocol (replication=database).
func (s *CDC) replicationConn(ctx context.Context) (*pgconn.PgConn, error) {
	cfg, err := pgconn.ParseConfig(s.dsn)
	if err != nil {
		return nil, fmt.Errorf("postgres_cdc: dsn: %w", err)
	}
	cfg.RuntimeParams["replication"] = "database"
	cfg.RuntimeParams["application_name"] = "dataweaver " + s.name
	if cfg.ConnectTimeout == 0 {
		cfg.ConnectTimeout = 10 * time.Second
	}
	conn, err := pgconn.ConnectConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("postgres_cdc: replication connection to %s:%d: %w", cfg.Host, cfg.Port, err)
	}
	return conn, nil
}
