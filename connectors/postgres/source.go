package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/jackc/pgx/v5"

	"github.com/dataweaver/dataweaver/engine"
	"github.com/dataweaver/dataweaver/engine/spec"
	"github.com/dataweaver/dataweaver/internal/wait"
)

var sourceSpec = spec.New("postgres").
	Summary("Reads a PostgreSQL table or query: a full snapshot, then new and changed rows by a cursor column.").
	Description("Rows are read in the order of the cursor column, a page of the pipeline's batch rows at a time "+
		"(WHERE cursor > last value ORDER BY cursor LIMIT batch rows), so a batch's checkpoint is simply the last "+
		"cursor value in it. The first pages are the snapshot of every row; once a page comes back empty the source "+
		"waits poll_interval and asks again for rows past the last cursor value, which picks up rows inserted, or "+
		"updated with a new cursor value, since. With stop_at_end it ends instead (backfills, batch runs).\n\n"+
		"The cursor column must be unique and only grow: rows that share a cursor value across a page boundary, or that "+
		"are committed with a value below one already read (a long transaction), are missed. A serial id, or a "+
		"timestamp maintained by a trigger together with a unique index, qualifies.\n\n"+
		"After Close and Open the source starts again after the last acknowledged batch. A new process starts after "+
		"the position the pipeline saved at its last checkpoint (the cursor column and type must be the same as when it "+
		"was saved, or the run is refused), else after start, else at the beginning. Column types map to Arrow as the package documentation lists; "+
		"a column of another type is an error at Open naming it (cast it to text in a query).").
	Field(
		dsnField(),
		spec.String("table").Optional().Desc("Table (optionally schema-qualified) to read; or give query.").Example("public.orders"),
		spec.String("query").Optional().
			Desc("A SELECT to read instead of a table; the source wraps it as a subquery, so it must not end with ORDER BY or LIMIT.").
			Example(`"SELECT id, customer, amount, updated_at FROM orders WHERE country = 'NL'"`),
		spec.String("cursor").Desc("Column that orders the rows and tells new ones: unique and only ever growing.").Example("updated_at"),
		spec.String("start").Optional().
			Desc("Read only rows whose cursor is greater than this value (PostgreSQL's text form of it). Used when the pipeline has no saved position; a saved one (where the last run's last checkpoint left off) takes precedence.").
			Example(`"2024-05-01 12:00:00.123456+00"`),
		spec.Duration("poll_interval").Default(time.Second).Desc("Wait between polls once the source has caught up."),
		spec.Bool("stop_at_end").Default(false).Desc("End the input when a poll finds no new rows, instead of polling on."),
		spec.Int("split_rows").Default(DefaultSplitRows).Advance().
			Validate(func(v any) error {
				if v.(int) < 1 {
					return errors.New("must be at least 1")
				}
				return nil
			}).
			Desc("With a coordinator section, the rows of one split: the planner cuts the rows past the finished "+
				"splits of earlier runs into ranges of the cursor at its quantiles (from a sample of pages above 5 million "+
				"rows of a table), about this many rows each, and each "+
				"worker reads its ranges as this source reads the table (pages by the cursor), then ends. Rows "+
				"inserted meanwhile are read by the next run."),
	).
	WithExample("A table, incrementally by updated_at", `source:
  postgres:
    dsn: postgres://weave@db/shop
    table: public.orders
    cursor: updated_at
    poll_interval: 5s`).
	WithExample("A query, once, from a known position", `source:
  postgres:
    dsn: postgres://weave@db/shop
    query: SELECT id, email FROM customers WHERE active
    cursor: id
    start: "41000"
    stop_at_end: true`)

func init() {
	engine.RegisterSource(sourceSpec, newSource)
	engine.RegisterSink(sinkSpec, newSink)
}

// Checkpoint is a batch's position: the text of the last cursor value in
// it (PostgreSQL's own text form, so it is exact for every type), with the
// cursor column and its type, so that a position saved by a run with
// another cursor is refused by Resume instead of being compared with the
// wrong column. Cursor is what the start field takes.
type Checkpoint struct {
	Column string `json:"column"`
	Type   string `json:"type"`
	Cursor string `json:"cursor"`
}

// String is the position as weave positions and the run summary show it.
func (c Checkpoint) String() string { return "cursor " + c.Column + " > " + c.Cursor }

var _ engine.Resumer = (*Source)(nil)

// Source reads a table or query by a cursor column.
type Source struct {
	name, dsn, from, cursor string
	start                   *string
	poll                    time.Duration
	stop                    bool
	batch                   int
	mem                     memory.Allocator

	conn     *pgx.Conn
	schema   *arrow.Schema
	cols     []*column
	typeName string // the cursor column's type, for the cast of the position
	pos      *string
	resumed  *Checkpoint // the position Resume was given, checked against the column's type at Open
	ended    bool
	// lastRows and lastData (per column, bytes of variable-width values)
	// are the previous page's size, which reserve sizes the next by.
	lastRows int
	lastData []int

	// split is the one cursor range to read (ReadSplit), nil for all;
	// splitRows the rows a planned split aims at.
	split     *cursorRange
	splitRows int
	table     bool // from is a table (which TABLESAMPLE can sample), not a query

	mu    sync.Mutex
	acked *string // last acknowledged cursor value, where a reopened source resumes
}

func newSource(conf *spec.Parsed, b engine.Build) (engine.Source, error) {
	s := &Source{
		name: b.Name, dsn: conf.String("dsn"), cursor: conf.String("cursor"),
		poll: conf.Duration("poll_interval"), stop: conf.Bool("stop_at_end"), batch: b.BatchRows, mem: b.Mem,
		splitRows: conf.Int("split_rows"),
	}
	if s.batch <= 0 {
		s.batch = 1000
	}
	switch {
	case conf.Given("table") == conf.Given("query"):
		return nil, configErr(conf, "table", "give either table or query")
	case conf.Given("table"):
		s.from, s.table = tableIdent(conf.String("table")).Sanitize(), true
	default:
		s.from = "(" + conf.String("query") + ")"
	}
	if conf.Given("start") {
		v := conf.String("start")
		s.start = &v
	}
	return s, nil
}

// Open connects and learns the columns from the query's result
// description (LIMIT 0 reads no rows).
func (s *Source) Open(ctx context.Context) (*arrow.Schema, error) {
	s.Close()
	conn, err := connect(ctx, s.dsn, s.name)
	if err != nil {
		return nil, err
	}
	rows, err := conn.Query(ctx, "SELECT * FROM "+s.from+" AS dw LIMIT 0")
	if err != nil {
		closeConn(conn)
		return nil, fmt.Errorf("postgres: %s: %w", s.from, err)
	}
	fds := rows.FieldDescriptions()
	rows.Close()
	if err := rows.Err(); err != nil {
		closeConn(conn)
		return nil, fmt.Errorf("postgres: %s: %w", s.from, err)
	}
	typeName := func(oid uint32) string {
		if t, ok := conn.TypeMap().TypeForOID(oid); ok {
			return t.Name
		}
		return "unknown"
	}
	var cols []*column
	fields := make([]arrow.Field, len(fds))
	cursorOID := uint32(0)
	for i, fd := range fds {
		c, err := newColumn(fd, typeName)
		if err != nil {
			closeConn(conn)
			return nil, fmt.Errorf("postgres: %s: %w", s.from, err)
		}
		cols, fields[i] = append(cols, c), c.field
		if fd.Name == s.cursor {
			cursorOID = fd.DataTypeOID
		}
	}
	if cursorOID == 0 {
		closeConn(conn)
		return nil, fmt.Errorf("%w: postgres: %s has no cursor column %q", engine.ErrInvalidConfig, s.from, s.cursor)
	}
	if err := conn.QueryRow(ctx, "SELECT format_type($1, NULL)", cursorOID).Scan(&s.typeName); err != nil {
		closeConn(conn)
		return nil, fmt.Errorf("postgres: type of cursor %q: %w", s.cursor, err)
	}
	if r := s.resumed; r != nil && r.Type != s.typeName {
		closeConn(conn)
		return nil, fmt.Errorf("postgres: %s: the saved position %s is a value of type %s, but cursor %q now has type %s: "+
			"reset the pipeline's positions (or set start) to read it again", s.from, r, r.Type, s.cursor, s.typeName)
	}
	s.conn, s.cols, s.schema = conn, cols, arrow.NewSchema(fields, nil)
	// Where to start: after the last batch this object acknowledged (a
	// reopening), else after the position of an earlier run (Resume),
	// else after start.
	s.mu.Lock()
	s.pos = s.acked
	s.mu.Unlock()
	if s.pos == nil && s.split != nil {
		s.pos = s.split.Lo
	} else if s.pos == nil && s.resumed != nil {
		s.pos = &s.resumed.Cursor
	}
	if s.pos == nil && s.split == nil {
		s.pos = s.start
	}
	if s.split != nil && s.split.Type != s.typeName {
		closeConn(conn)
		s.conn = nil
		return nil, fmt.Errorf("postgres: %s: the split %s was planned for cursor type %s, the cursor now has type %s",
			s.from, s.split.Hi, s.split.Type, s.typeName)
	}
	return s.schema, nil
}

// Read returns the next page past the last cursor value read, polling
// until there is one (or, with stop_at_end, ending).
func (s *Source) Read(ctx context.Context) (*engine.Batch, error) {
	if s.conn == nil {
		return nil, errors.New("postgres: source is not open")
	}
	for !s.ended {
		b, err := s.page(ctx)
		if err != nil || b != nil {
			return b, err
		}
		if s.stop {
			s.ended = true
			break
		}
		if err := wait.For(ctx, s.poll); err != nil {
			return nil, err
		}
	}
	return nil, engine.ErrEndOfInput
}

// page reads up to a batch of rows past s.pos; nil when there are none.
func (s *Source) page(ctx context.Context) (*engine.Batch, error) {
	cur := "dw." + quote(s.cursor)
	sql := "SELECT dw.*, (" + cur + ")::text FROM " + s.from + " AS dw"
	args := []any{}
	sql += " WHERE true"
	if s.pos != nil {
		args = append(args, *s.pos)
		sql += fmt.Sprintf(" AND %s > $%d::%s", cur, len(args), s.typeName)
	}
	if s.split != nil {
		// A split's rows end at its upper bound: the next split's start.
		args = append(args, s.split.Hi)
		sql += fmt.Sprintf(" AND %s <= $%d::%s", cur, len(args), s.typeName)
	}
	sql += fmt.Sprintf(" ORDER BY %s LIMIT %d", cur, s.batch)
	rows, err := s.conn.Query(ctx, sql, args...)
	if err != nil {
		return nil, fmt.Errorf("postgres: read %s: %w", s.from, err)
	}
	defer rows.Close()
	// The formats are the result's, so each page decides how to read.
	fds := rows.FieldDescriptions()
	if len(fds) != len(s.cols)+1 {
		return nil, fmt.Errorf("postgres: read %s: %d columns, want %d (did the table change?)", s.from, len(fds)-1, len(s.cols))
	}
	decs := make([]decoder, len(s.cols))
	for i, c := range s.cols {
		if fds[i].DataTypeOID != c.oid {
			return nil, fmt.Errorf("postgres: read %s: column %q changed type (did the table change?)", s.from, c.field.Name)
		}
		decs[i] = c.decoder(s.conn.TypeMap(), fds[i].Format)
	}
	b := array.NewRecordBuilder(s.mem, s.schema)
	defer b.Release()
	s.reserve(b)
	var last []byte // the cursor's text in the latest row
	n := 0
	for rows.Next() {
		vals := rows.RawValues()
		for i := range decs {
			if err := decs[i].append(b.Field(i), vals[i]); err != nil {
				return nil, fmt.Errorf("postgres: read %s: row after cursor %s: %w", s.from, last, err)
			}
		}
		last = append(last[:0], vals[len(decs)]...)
		n++
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("postgres: read %s: %w", s.from, err)
	}
	if n == 0 {
		return nil, nil
	}
	s.sized(b, n)
	cursor := string(last)
	s.pos = &cursor
	return &engine.Batch{Record: b.NewRecordBatch(), Checkpoint: Checkpoint{Column: s.cursor, Type: s.typeName, Cursor: cursor}}, nil
}

// reserve sizes b's buffers for a page like the previous one, so that a
// page's builders grow once, not by doubling: a snapshot's pages are all
// full, and an incremental poll's small pages do not reserve a batch.
func (s *Source) reserve(b *array.RecordBuilder) {
	if s.lastRows == 0 {
		return
	}
	for i := range s.cols {
		fb := b.Field(i)
		fb.Reserve(s.lastRows)
		if bb, ok := fb.(interface{ ReserveData(int) }); ok {
			bb.ReserveData(s.lastData[i])
		}
	}
}

// sized records the size of the page in b (n rows) for reserve.
func (s *Source) sized(b *array.RecordBuilder, n int) {
	s.lastRows = n
	if s.lastData == nil {
		s.lastData = make([]int, len(s.cols))
	}
	for i := range s.cols {
		if bb, ok := b.Field(i).(interface{ DataLen() int }); ok {
			s.lastData[i] = bb.DataLen()
		}
	}
}

// Resume starts the next Open after pos, a Checkpoint an earlier run
// saved. It takes precedence over start, which is where the first run
// began. A position of another cursor column is refused here, one of
// another type at Open (the type is known only once connected): compared
// with the wrong column it would skip or repeat rows.
func (s *Source) Resume(pos []byte) error {
	var c Checkpoint
	if err := json.Unmarshal(pos, &c); err != nil {
		return fmt.Errorf("postgres: %s: saved position %s is not a cursor position: %w", s.from, pos, err)
	}
	if c.Column == "" || c.Type == "" {
		return fmt.Errorf("postgres: %s: saved position %s names no cursor column and type", s.from, pos)
	}
	if c.Column != s.cursor {
		return fmt.Errorf("postgres: %s: the saved position %s is for cursor column %q, but the source's cursor is %q: "+
			"reset the pipeline's positions (or set start) to read by the new cursor", s.from, c, c.Column, s.cursor)
	}
	s.resumed = &c
	return nil
}

// Ack records where a reopened source resumes. Nothing is written to the
// database: the engine saves the checkpoint in the pipeline's position
// store before acknowledging it, and a new process gets it back through
// Resume.
func (s *Source) Ack(_ context.Context, cp engine.Checkpoint) error {
	c, ok := cp.(Checkpoint)
	if !ok {
		return fmt.Errorf("postgres: Ack with a checkpoint of type %T", cp)
	}
	s.mu.Lock()
	s.acked = &c.Cursor
	s.mu.Unlock()
	return nil
}

// Close disconnects; a later Open resumes after the last acknowledged batch.
func (s *Source) Close() error {
	closeConn(s.conn)
	s.conn, s.ended = nil, false
	return nil
}
