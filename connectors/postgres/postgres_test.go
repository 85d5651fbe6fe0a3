package postgres

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/jackc/pgx/v5"

	"github.com/dataweaver/dataweaver/connectors/conformance"
	"github.com/dataweaver/dataweaver/engine"
	"github.com/dataweaver/dataweaver/internal/pgtest"
)

// protocols are the two ways results arrive: binary (pgx's default, read
// from the wire by the source) and text (the simple protocol, which
// poolers such as PgBouncer in transaction mode need; read through pgx's
// scan plans). Every type test runs under both.
var protocols = []struct{ name, dsn string }{
	{"binary", ""},
	{"text", "&default_query_exec_mode=simple_protocol"},
}

// TestTypesRoundTrip: Arrow → table (create_table) → Arrow gives the same
// types and values for every type that maps both ways.
func TestTypesRoundTrip(t *testing.T) {
	for _, p := range protocols {
		t.Run(p.name, func(t *testing.T) { typesRoundTrip(t, p.dsn) })
	}
}

func typesRoundTrip(t *testing.T, protocol string) {
	mem := conformance.Checked(t)
	schema := arrow.NewSchema([]arrow.Field{
		{Name: "id", Type: arrow.PrimitiveTypes.Int64},
		{Name: "b", Type: arrow.FixedWidthTypes.Boolean, Nullable: true},
		{Name: "i16", Type: arrow.PrimitiveTypes.Int16, Nullable: true},
		{Name: "i32", Type: arrow.PrimitiveTypes.Int32, Nullable: true},
		{Name: "f32", Type: arrow.PrimitiveTypes.Float32, Nullable: true},
		{Name: "f64", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
		{Name: "dec", Type: &arrow.Decimal128Type{Precision: 12, Scale: 2}, Nullable: true},
		{Name: "s", Type: arrow.BinaryTypes.String, Nullable: true},
		{Name: "bin", Type: arrow.BinaryTypes.Binary, Nullable: true},
		{Name: "d", Type: arrow.FixedWidthTypes.Date32, Nullable: true},
		{Name: "ts", Type: &arrow.TimestampType{Unit: arrow.Microsecond}, Nullable: true},
		{Name: "tstz", Type: &arrow.TimestampType{Unit: arrow.Microsecond, TimeZone: "UTC"}, Nullable: true},
	}, nil)
	want := conformance.Sample(mem, schema, 0, 40)
	defer want.Release()
	dsn := pgtest.DB(t)
	write(t, dsn, "types", "", mem, want)
	got := readTable(t, dsn+protocol, "table: types", "id", mem)
	defer conformance.Release(got)
	conformance.EqualRows(t, want, got)
}

// TestPostgresTypes: types only PostgreSQL has come out as documented.
func TestPostgresTypes(t *testing.T) {
	for _, p := range protocols {
		t.Run(p.name, func(t *testing.T) { postgresTypes(t, p.dsn) })
	}
}

func postgresTypes(t *testing.T, protocol string) {
	mem := conformance.Checked(t)
	dsn := pgtest.DB(t)
	pgtest.Exec(t, dsn, `CREATE TABLE x (id int PRIMARY KEY, u uuid, j json, jb jsonb, vc varchar(5), n numeric, big numeric(40,2), c char(3))`,
		`INSERT INTO x VALUES (1, 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', '{"a": 1}', '{"b": [1, 2]}', 'hé', 12345678901234567890.123456789, 1.5, 'ab'),
		 (2, NULL, NULL, NULL, NULL, NULL, NULL, NULL)`)
	got := readTable(t, dsn+protocol, "table: x", "id", mem)
	defer conformance.Release(got)
	if len(got) != 1 || got[0].NumRows() != 2 {
		t.Fatalf("got %d batches", len(got))
	}
	rec := got[0]
	for i, w := range []string{"id: int32", "u: utf8", "j: utf8", "jb: utf8", "vc: utf8", "n: utf8", "big: utf8", "c: utf8"} {
		if g := rec.ColumnName(i) + ": " + rec.Column(i).DataType().String(); g != w {
			t.Errorf("column %d is %s, want %s", i, g, w)
		}
	}
	for i, w := range []string{"1", "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11", `{"a": 1}`, `{"b": [1, 2]}`, "hé", "12345678901234567890.123456789", "1.50", "ab "} {
		if g := rec.Column(i).ValueStr(0); g != w {
			t.Errorf("column %s = %s, want %s", rec.ColumnName(i), g, w)
		}
		if i > 0 && !rec.Column(i).IsNull(1) {
			t.Errorf("column %s row 2 is not null", rec.ColumnName(i))
		}
	}
	// A type without a mapping is an error naming the column at Open.
	pgtest.Exec(t, dsn, "CREATE TABLE y (id int, span interval)")
	src := mustSource(t, fmt.Sprintf("{dsn: %s, table: y, cursor: id}", q(dsn)), conformance.Build(mem, 10, "source"))
	if _, err := src.Open(context.Background()); err == nil || !strings.Contains(err.Error(), `column "span" has type interval`) {
		t.Errorf("Open with an interval column: %v", err)
	}
	src.Close()
}

// TestOutOfRange: dates and timestamps Arrow cannot hold are read errors
// naming the column, whichever protocol brought them.
func TestOutOfRange(t *testing.T) {
	mem := conformance.Checked(t)
	dsn := pgtest.DB(t)
	pgtest.Exec(t, dsn, `CREATE TABLE r (id int, d date, ts timestamp, tstz timestamptz)`,
		`INSERT INTO r VALUES (1, '2024-05-01', '2024-05-01 12:00', '2024-05-01 12:00+00'),
		 (2, 'infinity', NULL, NULL), (3, NULL, '-infinity', NULL), (4, NULL, NULL, 'infinity'),
		 (5, NULL, '294270-01-01 00:00', NULL), (6, NULL, NULL, '294270-01-01 00:00+00')`)
	for _, p := range protocols {
		for _, tc := range []struct {
			id   int
			want string
		}{
			{2, `column "d": infinite date`},
			{3, `column "ts": infinite timestamp`},
			{4, `column "tstz": infinite timestamp`},
			{5, `column "ts": timestamp past Arrow's range`},
			{6, `column "tstz": timestamp past Arrow's range`},
		} {
			src := mustSource(t, fmt.Sprintf("{dsn: %s, query: \"SELECT * FROM r WHERE id IN (1, %d)\", cursor: id}", q(dsn+p.dsn), tc.id),
				conformance.Build(mem, 10, "source"))
			ctx := context.Background()
			if _, err := src.Open(ctx); err != nil {
				t.Fatal(err)
			}
			b, err := src.Read(ctx)
			if err == nil {
				b.Record.Release()
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("%s, row %d: %v, want an error containing %q", p.name, tc.id, err, tc.want)
			}
			src.Close()
		}
	}
}

func readN(t *testing.T, src engine.Source, max int) (ids []int64, last engine.Checkpoint) {
	t.Helper()
	ctx := context.Background()
	for range max {
		b, err := src.Read(ctx)
		if err == engine.ErrEndOfInput {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		col := b.Record.Column(0).(*array.Int64)
		for i := 0; i < col.Len(); i++ {
			ids = append(ids, col.Value(i))
		}
		b.Record.Release()
		last = b.Checkpoint
	}
	return ids, last
}

// TestIncremental: a snapshot, then only rows past the last cursor value;
// an updated row with a new cursor value comes again; a new source with
// start resumes after a checkpoint.
func TestIncremental(t *testing.T) {
	mem := conformance.Checked(t)
	dsn := pgtest.DB(t)
	pgtest.Exec(t, dsn, `CREATE TABLE ev (id bigint, updated_at timestamptz UNIQUE, v text)`,
		`INSERT INTO ev SELECT i, '2024-01-01'::timestamptz + i * interval '1 second', 'v' FROM generate_series(1, 25) i`)
	conf := fmt.Sprintf("{dsn: %s, table: ev, cursor: updated_at, stop_at_end: true}", q(dsn))
	src := mustSource(t, conf, conformance.Build(mem, 10, "source"))
	ctx := context.Background()
	if _, err := src.Open(ctx); err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	ids, cp := readN(t, src, 10)
	if len(ids) != 25 || ids[0] != 1 || ids[24] != 25 {
		t.Fatalf("snapshot read %v", ids)
	}
	if c := cp.(Checkpoint).Cursor; c != "2024-01-01 00:00:25+00" {
		t.Errorf("checkpoint %q", c)
	}
	if err := src.Ack(ctx, cp); err != nil {
		t.Fatal(err)
	}
	pgtest.Exec(t, dsn, `INSERT INTO ev VALUES (26, '2024-01-02', 'new'), (27, '2024-01-02 00:00:00.000001', 'new')`,
		`UPDATE ev SET updated_at = '2024-01-03', v = 'changed' WHERE id = 3`)
	// Reopened, it resumes after the acknowledged position.
	src.Close()
	if _, err := src.Open(ctx); err != nil {
		t.Fatal(err)
	}
	ids, cp = readN(t, src, 10)
	if fmt.Sprint(ids) != "[26 27 3]" {
		t.Errorf("incremental read %v, want [26 27 3]", ids)
	}
	// A new source started from a checkpoint reads only what follows it.
	resumed := mustSource(t, fmt.Sprintf("{dsn: %s, table: ev, cursor: updated_at, stop_at_end: true, start: %q}", q(dsn), "2024-01-02 00:00:00+00"), conformance.Build(mem, 10, "source"))
	if _, err := resumed.Open(ctx); err != nil {
		t.Fatal(err)
	}
	defer resumed.Close()
	if ids, _ := readN(t, resumed, 10); fmt.Sprint(ids) != "[27 3]" {
		t.Errorf("resumed read %v, want [27 3]", ids)
	}
	if c := cp.(Checkpoint).Cursor; c != "2024-01-03 00:00:00+00" {
		t.Errorf("checkpoint %q", c)
	}
}

// TestPolling: without stop_at_end the source waits for new rows.
func TestPolling(t *testing.T) {
	mem := conformance.Checked(t)
	dsn := pgtest.DB(t)
	pgtest.Exec(t, dsn, `CREATE TABLE p (id bigint)`)
	src := mustSource(t, fmt.Sprintf("{dsn: %s, table: p, cursor: id, poll_interval: 20ms}", q(dsn)), conformance.Build(mem, 10, "source"))
	ctx := context.Background()
	if _, err := src.Open(ctx); err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	done := make(chan error, 1)
	go func() {
		time.Sleep(100 * time.Millisecond)
		conn, err := pgx.Connect(ctx, dsn)
		if err == nil {
			_, err = conn.Exec(ctx, `INSERT INTO p VALUES (7)`)
			conn.Close(ctx)
		}
		done <- err
	}()
	if ids, _ := readN(t, src, 1); fmt.Sprint(ids) != "[7]" {
		t.Errorf("polled %v", ids)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

// TestUpsert: existing keys are updated, new ones inserted, and of two
// rows with one key in a batch the last wins.
func TestUpsert(t *testing.T) {
	mem := conformance.Checked(t)
	dsn := pgtest.DB(t)
	schema := arrow.NewSchema([]arrow.Field{{Name: "id", Type: arrow.PrimitiveTypes.Int64}, {Name: "v", Type: arrow.BinaryTypes.String, Nullable: true}}, nil)
	rec := func(ids []int64, vs []string) arrow.RecordBatch {
		b := array.NewRecordBuilder(mem, schema)
		defer b.Release()
		b.Field(0).(*array.Int64Builder).AppendValues(ids, nil)
		b.Field(1).(*array.StringBuilder).AppendValues(vs, nil)
		return b.NewRecordBatch()
	}
	first, second := rec([]int64{1, 2, 3}, []string{"a", "b", "c"}), rec([]int64{2, 4, 2}, []string{"x", "d", "y"})
	defer first.Release()
	defer second.Release()
	write(t, dsn, "kv", "mode: upsert, key: [id]", mem, first, second)
	want := rec([]int64{1, 2, 3, 4}, []string{"a", "y", "c", "d"})
	defer want.Release()
	got := readTable(t, dsn, "table: kv", "id", mem)
	defer conformance.Release(got)
	conformance.EqualRows(t, want, got)
}

// TestConstraintError: a row the table refuses fails the write with an
// error naming the table and constraint, not retried.
func TestConstraintError(t *testing.T) {
	mem := conformance.Checked(t)
	dsn := pgtest.DB(t)
	pgtest.Exec(t, dsn, `CREATE TABLE orders (id bigint, name text, score double precision CONSTRAINT score_small CHECK (score > -124.5), ok boolean, note text, ts timestamptz)`)
	in := conformance.Sample(mem, conformance.SampleSchema, 0, 20)
	defer in.Release()
	for _, mode := range []string{"append", "upsert, key: [id]"} {
		if mode != "append" {
			pgtest.Exec(t, dsn, "ALTER TABLE orders ADD PRIMARY KEY (id)")
		}
		sink := mustSink(t, fmt.Sprintf("{dsn: %s, table: orders, mode: %s}", q(dsn), mode), conformance.Build(mem, 10, "sink"))
		ctx := context.Background()
		if err := sink.Open(ctx, in.Schema()); err != nil {
			t.Fatal(err)
		}
		err := sink.Write(ctx, in)
		sink.Close()
		if err == nil || !strings.Contains(err.Error(), "table orders") || !strings.Contains(err.Error(), "score_small") || !engine.IsPermanent(err) {
			t.Errorf("%s: Write of a row breaking a check: %v (permanent %v)", mode, err, engine.IsPermanent(err))
		}
		t.Log(err)
	}
	got := readTable(t, dsn, "table: orders", "id", memory.NewGoAllocator())
	if len(got) != 0 {
		t.Errorf("a failed batch left %d batches of rows", len(got))
	}
}
