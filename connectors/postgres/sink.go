package postgres

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/jackc/pgx/v5"

	"github.com/dataweaver/dataweaver/engine"
	"github.com/dataweaver/dataweaver/engine/spec"
)

const (
	modeAppend = "append"
	modeUpsert = "upsert"
)

// stageTable is the session's temporary table an upsert copies a batch
// into; ordCol numbers the rows so the last of several with one key wins.
const (
	stageTable = "dw_stage"
	ordCol     = "dw_ord"
)

var sinkSpec = spec.New("postgres").
	Summary("Writes rows to a PostgreSQL table: COPY for appends, INSERT … ON CONFLICT for upserts by key; one transaction per batch, or per checkpoint with exactly_once.").
	Description("Each batch is written in its own transaction, committed before Write returns, so Flush has nothing "+
		"left to do and a batch is either wholly in the table or not at all. In append mode the batch is sent with "+
		"COPY (binary). In upsert mode it is copied into a temporary table and merged with INSERT … SELECT … ON "+
		"CONFLICT (key) DO UPDATE, which needs a unique index or primary key on exactly the key columns; of several "+
		"rows with one key in a batch the last wins. A batch replayed after a failure is thus harmless in upsert "+
		"mode and stored twice in append mode, unless exactly_once is set.\n\n"+
		"With exactly_once (append mode) the sink keeps the pipeline's positions itself, in positions_table in the "+
		"same database, and writes all the rows between two checkpoints in one transaction that also saves the "+
		"checkpoint's position: rows and position commit together or not at all, so a run that is killed or fails "+
		"resumes exactly after the rows the table holds when its source resumes from the saved position (file, "+
		"generate, postgres). Kafka and JetStream sources resume from their broker's offsets or acknowledgements, "+
		"which follow the commit: a kill between the two delivers that interval again (at-least-once). "+
		"The rows appear in the table at checkpoints "+
		"(every checkpoint_every and at the end of the run), not batch by batch, and that transaction stays open "+
		"in between (holding a connection, and holding back VACUUM as any open transaction does; the sink exempts its "+
		"session from idle_in_transaction_session_timeout).\n\n"+
		"A lost connection is retried with the pipeline's backoff: the sink reconnects and writes the batch again. "+
		"With exactly_once a lost connection also loses the rows written since the last checkpoint; unless the "+
		"batch that failed was the interval's first, the run then fails, and the next run resumes from the last "+
		"saved position, which reads those rows again.\n\n"+
		"Columns are matched by name; the table may have more (they get their defaults). With create_table the "+
		"table is created when missing, with a column per Arrow field (types as the package documentation lists), "+
		"NOT NULL for non-nullable fields and the key as primary key. A row the database refuses (a constraint, a "+
		"value out of range) fails the batch with an error naming the table, the constraint and the row; such "+
		"errors are not retried.").
	Field(
		dsnField(),
		spec.String("table").Desc("Table (optionally schema-qualified) to write.").Example("public.orders"),
		spec.String("mode").Default(modeAppend).OneOf(modeAppend, modeUpsert, modeCDC).
			Desc("append: COPY every row in. upsert: insert new keys and update existing ones. cdc: apply the rows of a postgres_cdc "+
				"source in order (snapshot, insert and update rows upserted by key, delete rows deleted by key; an update that "+
				"changed the key removes the old one; columns listed in _unchanged keep their value), writing the table's "+
				"columns and not the source's _op, _lsn, _commit_ts, _unchanged and _before_ ones."),
		spec.StringList("key").Optional().Desc("Key columns for upsert and cdc.").Example("[id]").Example("[tenant, order_id]"),
		spec.Bool("create_table").Default(false).Desc("Create the table from the batches' schema when it does not exist."),
		spec.Bool("exactly_once").Default(false).
			Desc("Append mode only: commit the rows of each checkpoint interval in one transaction together with the pipeline's "+
				"position (kept in positions_table), so that no row is lost or written twice across failures and restarts. "+
				"Rows become visible at checkpoints. Not needed (and refused) with mode upsert, which is idempotent already: "+
				"a replayed batch rewrites the same rows."),
		spec.String("positions_table").Default(defaultPositionsTable).
			Desc("With exactly_once: the table (optionally schema-qualified) that keeps the positions of the pipelines writing "+
				"to this database, one row per pipeline, source step and split; created when missing.").
			Example("etl.weave_positions"),
	).
	WithExample("Append with COPY", `sinks:
  - postgres: {dsn: postgres://weave@db/dw, table: events, create_table: true}`).
	WithExample("Upsert by id", `sinks:
  - postgres:
      dsn: postgres://weave@db/dw
      table: public.customers
      mode: upsert
      key: [id]`).
	WithExample("Append exactly once", `checkpoint_every: 5s
sinks:
  - postgres:
      dsn: postgres://weave@db/dw
      table: events
      exactly_once: true`)

// Sink writes batches to a table, one transaction each (one per
// checkpoint interval with exactly_once, see txSink).
type Sink struct {
	name, dsn, table, mode string
	key                    []string
	create                 bool
	exactlyOnce            bool
	posTable               string

	schema *arrow.Schema // the table's columns (in mode cdc, the batches' without the source's metadata)
	cols   []string
	upsert string    // the merge statement, in upsert mode
	cdc    *cdcApply // mode cdc's statements

	// mu guards conn and the transaction state: with exactly_once the
	// engine's checkpoint goroutine commits (Save, Commit) while the
	// sink's goroutine writes.
	mu   sync.Mutex
	conn *pgx.Conn // nil, or closed, after a lost connection: the next Write reconnects
	txState
}

func newSink(conf *spec.Parsed, b engine.Build) (engine.Sink, error) {
	s := &Sink{name: b.Name, dsn: conf.String("dsn"), table: conf.String("table"), mode: conf.String("mode"),
		key: conf.Strings("key"), create: conf.Bool("create_table"), exactlyOnce: conf.Bool("exactly_once"),
		posTable: conf.String("positions_table")}
	switch {
	case (s.mode == modeUpsert || s.mode == modeCDC) && len(s.key) == 0:
		return nil, configErr(conf, "key", "mode %s needs key columns", s.mode)
	case s.mode == modeAppend && len(s.key) > 0 && !s.create:
		return nil, configErr(conf, "key", "key is only used by mode upsert or as create_table's primary key")
	case s.exactlyOnce && s.mode != modeAppend:
		return nil, configErr(conf, "exactly_once", "exactly_once is for mode append: an upsert is idempotent already (a replayed batch rewrites the same rows; mode %s upserts)", s.mode)
	case s.exactlyOnce && b.DeadLetter:
		return nil, configErr(conf, "exactly_once", "a dead_letter sink cannot be exactly_once: the position is kept in the transaction of one of the pipeline's sinks")
	case conf.Given("positions_table") && !s.exactlyOnce:
		return nil, configErr(conf, "positions_table", "positions_table is only used with exactly_once")
	}
	if s.exactlyOnce {
		return txSink{s}, nil
	}
	return s, nil
}

// CheckSchema reports a column type the sink cannot write, or a key that
// is not a column.
func (s *Sink) CheckSchema(schema *arrow.Schema) error {
	if s.mode == modeCDC {
		data, err := s.openCDC(schema)
		if err != nil {
			return err
		}
		schema = data
	}
	if err := checkTypes(schema); err != nil {
		return fmt.Errorf("%w: postgres table %s: %w", engine.ErrSchema, s.table, err)
	}
	for _, k := range s.key {
		if len(schema.FieldIndices(k)) == 0 {
			return fmt.Errorf("%w: postgres table %s: key column %q is not in the batches", engine.ErrSchema, s.table, k)
		}
	}
	return nil
}

// Open connects, creates the table if asked, and in upsert mode the
// session's staging table.
func (s *Sink) Open(ctx context.Context, schema *arrow.Schema) error {
	if err := s.CheckSchema(schema); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.abandonTx()
	s.lost = nil
	if s.mode == modeCDC {
		schema, _ = s.openCDC(schema) // CheckSchema refused what it cannot
	}
	s.schema = schema
	s.cols = make([]string, schema.NumFields())
	for i, f := range schema.Fields() {
		s.cols[i] = f.Name
	}
	if s.mode == modeUpsert {
		s.upsert = s.merge()
	}
	if err := s.reconnect(ctx); err != nil {
		return err
	}
	if s.create {
		if _, err := s.conn.Exec(ctx, s.ddl("CREATE TABLE IF NOT EXISTS "+tableIdent(s.table).Sanitize(), true, "")); err != nil {
			return tableErr(s.table, "create", err)
		}
	}
	return nil
}

// reconnect opens a connection when there is none, or the last one broke,
// with the session's staging table in upsert mode (temporary tables die
// with their session).
func (s *Sink) reconnect(ctx context.Context) error {
	if s.conn != nil && !s.conn.IsClosed() {
		return nil
	}
	s.dropConn()
	conn, err := connect(ctx, s.dsn, s.name)
	if err != nil {
		return err
	}
	if s.exactlyOnce {
		// The checkpoint's transaction is idle whenever the source is
		// slower than the sink: a server that ends such sessions
		// (idle_in_transaction_session_timeout) would fail the run.
		if _, err := conn.Exec(ctx, "SET idle_in_transaction_session_timeout = 0"); err != nil {
			closeConn(conn)
			return tableErr(s.table, "session settings", err)
		}
	}
	if s.mode == modeUpsert {
		if _, err := conn.Exec(ctx, s.ddl("CREATE TEMP TABLE "+stageTable, false, ", "+ordCol+" bigint")+" ON COMMIT DELETE ROWS"); err != nil {
			closeConn(conn)
			return tableErr(s.table, "create staging table", err)
		}
	}
	s.conn = conn
	return nil
}

// dropConn closes the connection; the next Write opens a new one.
func (s *Sink) dropConn() {
	closeConn(s.conn)
	s.conn = nil
}

// ddl declares the schema's columns (types without constraints for the
// staging table, which has no key).
func (s *Sink) ddl(head string, constraints bool, extra string) string {
	var b strings.Builder
	b.WriteString(head + " (")
	for i, f := range s.schema.Fields() {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(quote(f.Name) + " " + pgType(f.Type))
		if !f.Nullable && constraints {
			b.WriteString(" NOT NULL")
		}
	}
	if constraints && len(s.key) > 0 {
		b.WriteString(", PRIMARY KEY (" + quoteAll(s.key) + ")")
	}
	return b.String() + extra + ")"
}

// merge is INSERT … SELECT DISTINCT ON (key) … ON CONFLICT (key) DO UPDATE.
func (s *Sink) merge() string {
	cols, key := quoteAll(s.cols), quoteAll(s.key)
	var set []string
	for _, c := range s.cols {
		if !slices.Contains(s.key, c) {
			set = append(set, quote(c)+" = EXCLUDED."+quote(c))
		}
	}
	action := "DO NOTHING"
	if len(set) > 0 {
		action = "DO UPDATE SET " + strings.Join(set, ", ")
	}
	return fmt.Sprintf("INSERT INTO %s (%s) SELECT DISTINCT ON (%s) %s FROM %s ORDER BY %s, %s DESC ON CONFLICT (%s) %s",
		tableIdent(s.table).Sanitize(), cols, key, cols, stageTable, key, ordCol, key, action)
}

func quoteAll(names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = quote(n)
	}
	return strings.Join(q, ", ")
}

// Write commits rec in one transaction (with exactly_once, adds it to the
// checkpoint interval's transaction). A failure that retrying may fix (a
// lost connection, a server shutting down) drops the connection, so the
// engine's next attempt writes the batch on a new one.
func (s *Sink) Write(ctx context.Context, rec arrow.RecordBatch) error {
	if rec.NumRows() == 0 {
		return nil
	}
	if s.exactlyOnce {
		return s.writeInTx(ctx, rec)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.schema == nil {
		return errNotOpen
	}
	if err := s.reconnect(ctx); err != nil {
		return err
	}
	err := s.writeBatch(ctx, rec)
	if err != nil && !engine.IsPermanent(err) {
		s.dropConn()
	}
	return err
}

func (s *Sink) writeBatch(ctx context.Context, rec arrow.RecordBatch) error {
	tx, err := s.conn.Begin(ctx)
	if err != nil {
		return fmt.Errorf("postgres: table %s: begin: %w", s.table, err)
	}
	defer tx.Rollback(context.Background()) //nolint:errcheck // a no-op after Commit
	if err := s.copy(ctx, tx, rec); err != nil {
		return err
	}
	if err := tx.Commit(ctx); err != nil {
		return tableErr(s.table, "commit", err)
	}
	return nil
}

// copy sends rec within tx: COPY into the table (append), or into the
// staging table and merged from there (upsert).
func (s *Sink) copy(ctx context.Context, tx pgx.Tx, rec arrow.RecordBatch) error {
	if s.mode == modeCDC {
		return s.applyCDC(ctx, tx, rec)
	}
	src := &recordRows{rec: rec, row: -1, ord: s.mode == modeUpsert}
	if s.mode == modeUpsert {
		if _, err := tx.CopyFrom(ctx, pgx.Identifier{stageTable}, append(slices.Clone(s.cols), ordCol), src); err != nil {
			return tableErr(s.table, "copy to staging table", err)
		}
		if _, err := tx.Exec(ctx, s.upsert); err != nil {
			return tableErr(s.table, "upsert", err)
		}
		return nil
	}
	if _, err := tx.CopyFrom(ctx, tableIdent(s.table), s.cols, src); err != nil {
		return tableErr(s.table, "copy", err)
	}
	return nil
}

// Flush commits nothing: every Write has committed its transaction, and
// with exactly_once rows are committed only at checkpoints. It reports a
// transaction exactly_once lost, so that the run fails whatever the
// pipeline's error policy did with the batch that found out.
func (s *Sink) Flush(context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.lost
}

// Close disconnects, rolling back what was not committed at a checkpoint.
func (s *Sink) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.abandonTx()
	s.dropConn()
	s.schema = nil
	return nil
}

var errNotOpen = errors.New("postgres: sink is not open")

// recordRows feeds a record's rows to CopyFrom.
type recordRows struct {
	rec  arrow.RecordBatch
	row  int
	ord  bool // append the row number (the staging table's ordCol)
	vals []any
}

func (r *recordRows) Next() bool {
	r.row++
	return r.row < int(r.rec.NumRows())
}

func (r *recordRows) Values() ([]any, error) {
	r.vals = r.vals[:0]
	for _, c := range r.rec.Columns() {
		r.vals = append(r.vals, value(c, r.row))
	}
	if r.ord {
		r.vals = append(r.vals, int64(r.row))
	}
	return r.vals, nil
}

func (r *recordRows) Err() error { return nil }
