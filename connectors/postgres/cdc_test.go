package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/jackc/pglogrepl"
	"github.com/jackc/pgx/v5"

	"github.com/dataweaver/dataweaver/connectors/conformance"
	"github.com/dataweaver/dataweaver/engine"
	"github.com/dataweaver/dataweaver/internal/pgtest"
	"github.com/dataweaver/dataweaver/internal/syncbuf"
)

func mustCDC(t testing.TB, text string, b engine.Build) *CDC {
	t.Helper()
	return conformance.MustBuild[*CDC](t, engine.KindSource, "postgres_cdc", text, b)
}

// cdcConf is a source of table items in dsn, creating slot and
// publication.
func cdcConf(dsn, extra string) string {
	return fmt.Sprintf("{dsn: %s, table: items, publication: items_pub, slot: %s, create_slot: true, create_publication: true%s}",
		q(dsn), slotFor(dsn), extra)
}

// slotFor names a slot after the test's database: slots are per cluster,
// which the test binary's tests share.
func slotFor(dsn string) string {
	db := dsn[strings.LastIndexByte(dsn, '/')+1:]
	db = db[:strings.IndexByte(db, '?')]
	return "s_" + db
}

// cdcRow is a row read back, its columns as text ("" for null).
type cdcRow map[string]string

// readChanges reads batches until n rows arrived; it returns them and
// the last batch's checkpoint.
func readChanges(t testing.TB, src engine.Source, n int) ([]cdcRow, engine.Checkpoint) {
	t.Helper()
	var out []cdcRow
	var cp engine.Checkpoint
	for len(out) < n {
		b, err := src.Read(context.Background())
		if err != nil {
			t.Fatalf("Read after %d rows: %v", len(out), err)
		}
		out = append(out, rowsOf(b.Record)...)
		b.Record.Release()
		cp = b.Checkpoint
	}
	if len(out) != n {
		t.Fatalf("read %d rows, want %d: %v", len(out), n, out)
	}
	return out, cp
}

func rowsOf(rec arrow.RecordBatch) []cdcRow {
	var out []cdcRow
	for r := 0; r < int(rec.NumRows()); r++ {
		row := cdcRow{}
		for i, f := range rec.Schema().Fields() {
			if c := rec.Column(i); c.IsValid(r) {
				row[f.Name] = c.ValueStr(r)
			}
		}
		out = append(out, row)
	}
	return out
}

// TestCDCChanges: a snapshot of the table's rows, then an insert, an
// update, a delete and an update that leaves a TOASTed value alone, under
// REPLICA IDENTITY DEFAULT (the key as before-image of a delete, or of an
// update that changed it) and FULL (the whole old row, which also fills
// the unchanged value).
func TestCDCChanges(t *testing.T) {
	for _, ident := range []string{"DEFAULT", "FULL"} {
		t.Run(ident, func(t *testing.T) {
			mem := conformance.Checked(t)
			dsn := pgtest.DB(t)
			pgtest.Exec(t, dsn, `CREATE TABLE items (id int PRIMARY KEY, name text, big text)`,
				`ALTER TABLE items ALTER COLUMN big SET STORAGE EXTERNAL`, // out of line, uncompressed, from 2 kB
				`ALTER TABLE items REPLICA IDENTITY `+ident,
				`INSERT INTO items VALUES (1, 'one', repeat('x', 5000)), (2, 'two', 'small'), (3, 'three', NULL)`)
			src := mustCDC(t, cdcConf(dsn, ""), conformance.Build(mem, 100, "source"))
			defer src.Close()
			if _, err := src.Open(context.Background()); err != nil {
				t.Fatal(err)
			}
			snap, cp := readChanges(t, src, 3)
			for i, r := range snap {
				if r[opCol] != opSnapshot || r["id"] != fmt.Sprint(i+1) || r[commitTSCol] != "" || r[beforePrefix+"id"] != "" {
					t.Errorf("snapshot row %d: %v", i, r)
				}
			}
			if c := cp.(CDCCheckpoint); c.Snapshot {
				t.Errorf("the last snapshot page's position %v says the snapshot is not finished", c)
			}
			pgtest.Exec(t, dsn, `INSERT INTO items VALUES (4, 'four', 'x')`,
				`UPDATE items SET name = 'TWO' WHERE id = 2`,
				`DELETE FROM items WHERE id = 3`,
				`UPDATE items SET name = 'ONE' WHERE id = 1`, // big not sent: unchanged TOAST
				`UPDATE items SET id = 5 WHERE id = 4`)
			got, _ := readChanges(t, src, 5)
			big := strings.Repeat("x", 5000)
			full := ident == "FULL"
			pick := func(fullV, defV string) string {
				if full {
					return fullV
				}
				return defV
			}
			want := []cdcRow{
				{opCol: opInsert, "id": "4", "name": "four", "big": "x"},
				{opCol: opUpdate, "id": "2", "name": "TWO", "big": "small", beforePrefix + "id": pick("2", ""), beforePrefix + "name": pick("two", ""), beforePrefix + "big": pick("small", "")},
				{opCol: opDelete, "id": "3", "name": pick("three", ""), beforePrefix + "id": "3", beforePrefix + "name": pick("three", "")},
				{opCol: opUpdate, "id": "1", "name": "ONE", "big": pick(big, ""), unchangedCol: pick("", "big"),
					beforePrefix + "id": pick("1", ""), beforePrefix + "name": pick("one", ""), beforePrefix + "big": pick(big, "")},
				{opCol: opUpdate, "id": "5", "name": "four", "big": "x", beforePrefix + "id": "4", beforePrefix + "name": pick("four", ""), beforePrefix + "big": pick("x", "")},
			}
			var lsn int64
			for i, w := range want {
				g := got[i]
				if g[lsnCol] == "" || g[commitTSCol] == "" {
					t.Errorf("change %d has no commit LSN or time: %v", i, g)
				}
				if l, _ := strconv.ParseInt(g[lsnCol], 10, 64); l <= lsn {
					t.Errorf("change %d: commit LSN %d does not follow %d", i, l, lsn)
				} else {
					lsn = l
				}
				delete(g, lsnCol)
				delete(g, commitTSCol)
				for k, v := range w {
					if v == "" {
						delete(w, k)
					}
				}
				if fmt.Sprint(g) != fmt.Sprint(w) {
					t.Errorf("change %d:\n got %v\nwant %v", i, g, w)
				}
			}
		})
	}
}

// confirmed is the slot's confirmed_flush_lsn.
func confirmed(t testing.TB, dsn string) string {
	t.Helper()
	var lsn string
	ctx := context.Background()
	conn := connTest(t, dsn)
	defer conn.Close(ctx)
	if err := conn.QueryRow(ctx, "SELECT coalesce(confirmed_flush_lsn::text, '') FROM pg_replication_slots WHERE slot_name = $1", slotFor(dsn)).Scan(&lsn); err != nil {
		t.Fatal(err)
	}
	return lsn
}

// TestCDCAckConfirmsAndResumes: the slot's position moves only when a
// batch is acknowledged, and a new source given the saved position reads
// the changes after it, once, without the snapshot.
func TestCDCAckConfirmsAndResumes(t *testing.T) {
	mem := conformance.Checked(t)
	dsn := pgtest.DB(t)
	pgtest.Exec(t, dsn, `CREATE TABLE items (id int PRIMARY KEY, name text)`, `INSERT INTO items VALUES (1, 'a')`)
	ctx := context.Background()
	// Batches of one row: each is full before its transaction's commit
	// arrives, and its position must still cover that commit.
	first := mustCDC(t, cdcConf(dsn, ""), conformance.Build(mem, 1, "source"))
	if _, err := first.Open(ctx); err != nil {
		t.Fatal(err)
	}
	_, cp0 := readChanges(t, first, 1)
	pgtest.Exec(t, dsn, `INSERT INTO items VALUES (2, 'b')`)
	_, cp1 := readChanges(t, first, 1)
	if lsnOf(t, cp1) <= lsnOf(t, cp0) {
		t.Fatalf("the batch holding insert 2 has position %v, not past the snapshot's %v: it does not cover its commit", cp1, cp0)
	}
	pgtest.Exec(t, dsn, `INSERT INTO items VALUES (3, 'c')`)
	_, cp2 := readChanges(t, first, 1)
	before := confirmed(t, dsn)
	if err := first.Ack(ctx, cp1); err != nil {
		t.Fatal(err)
	}
	want := cp1.(CDCCheckpoint).LSN
	for confirmed(t, dsn) != want {
		time.Sleep(10 * time.Millisecond) // the stream reports within receiveWait; no limit here
	}
	if before == want {
		t.Fatalf("the slot stood at %s before the Ack", before)
	}
	first.Close()
	pos, err := json.Marshal(cp1)
	if err != nil {
		t.Fatal(err)
	}
	second := mustCDC(t, cdcConf(dsn, ""), conformance.Build(mem, 1, "source"))
	defer second.Close()
	if err := second.Resume(pos); err != nil {
		t.Fatal(err)
	}
	if _, err := second.Open(ctx); err != nil {
		t.Fatal(err)
	}
	pgtest.Exec(t, dsn, `INSERT INTO items VALUES (4, 'd')`)
	got, _ := readChanges(t, second, 1)
	more, cp := readChanges(t, second, 1)
	got = append(got, more...)
	if got[0]["id"] != "3" || got[1]["id"] != "4" || got[0][opCol] != opInsert {
		t.Fatalf("resumed source read %v, want the inserts of 3 and 4", got)
	}
	if lsnOf(t, cp) <= lsnOf(t, cp2) {
		t.Errorf("position %v does not follow %v", cp, cp2)
	}
}

func lsnOf(t testing.TB, cp engine.Checkpoint) pglogrepl.LSN {
	t.Helper()
	l, err := pglogrepl.ParseLSN(cp.(CDCCheckpoint).LSN)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func connTest(t testing.TB, dsn string) *pgx.Conn {
	t.Helper()
	conn, err := pgx.Connect(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	return conn
}

// TestCDCSourceConformance: the source, streaming changes from an
// existing slot (snapshot: false), one transaction per row, so that each
// batch ends at a commit and a position is exact. Positions travel
// through JSON as the engine's store keeps them (savedPositions). The
// suite compares the table's columns: projected leaves out the CDC
// metadata, which TestCDCChanges checks.
func TestCDCSourceConformance(t *testing.T) {
	conformance.RunSource(t, conformance.SourceHarness{
		AtLeastOnce: true,
		Resumes:     true,
		New: conformance.FromSample(nil, func(t *testing.T, in arrow.RecordBatch, b engine.Build) conformance.SourceBuilder {
			dsn := pgtest.DB(t)
			empty := in.NewSlice(0, 0)
			write(t, dsn, "rows", "", memory.NewGoAllocator(), empty)
			empty.Release()
			slot := slotFor(dsn)
			pgtest.Exec(t, dsn, "ALTER TABLE rows REPLICA IDENTITY FULL", "CREATE PUBLICATION p FOR TABLE rows",
				"SELECT pg_create_logical_replication_slot('"+slot+"', 'pgoutput')")
			// One sink, a Write (a transaction) per row.
			if n := in.NumRows(); n > 0 {
				rows := make([]arrow.RecordBatch, n)
				for i := range n {
					rows[i] = in.NewSlice(i, i+1)
				}
				write(t, dsn, "rows", "", memory.NewGoAllocator(), rows...)
				for _, r := range rows {
					r.Release()
				}
			}
			conf := fmt.Sprintf("{dsn: %s, table: rows, publication: p, slot: %s, snapshot: false, stop_at_end: true}", q(dsn), slot)
			build := conformance.SourceFromConfig(t, "postgres_cdc", conf)
			return savedPositions(t, func(b engine.Build) engine.Source {
				return &projected{Resumer: build(b).(resumingSource), keep: int(in.NumCols())}
			})
		}),
	})
}

type resumingSource interface {
	engine.Source
	engine.Resumer
}

// projected passes on the first keep columns of its source's batches.
type projected struct {
	Resumer resumingSource
	keep    int
}

func (p *projected) Open(ctx context.Context) (*arrow.Schema, error) {
	s, err := p.Resumer.Open(ctx)
	if err != nil {
		return nil, err
	}
	return arrow.NewSchema(s.Fields()[:p.keep], nil), nil
}

func (p *projected) Read(ctx context.Context) (*engine.Batch, error) {
	b, err := p.Resumer.Read(ctx)
	if err != nil {
		return b, err
	}
	rec := b.Record
	b.Record = array.NewRecordBatch(arrow.NewSchema(rec.Schema().Fields()[:p.keep], nil), rec.Columns()[:p.keep], rec.NumRows())
	rec.Release()
	return b, nil
}

func (p *projected) Ack(ctx context.Context, cp engine.Checkpoint) error {
	return p.Resumer.Ack(ctx, cp)
}
func (p *projected) Close() error            { return p.Resumer.Close() }
func (p *projected) Resume(pos []byte) error { return p.Resumer.Resume(pos) }

// TestCDCQuietTableAndAbandonedSlot: at start the source warns about
// another inactive slot holding WAL, naming it and its bytes; and while
// its own table is quiet and everything is acknowledged, writes to other
// tables do not pin the WAL: the slot's confirmed position follows the
// server's.
func TestCDCQuietTableAndAbandonedSlot(t *testing.T) {
	mem := conformance.Checked(t)
	dsn := pgtest.DB(t)
	abandoned := "gone_" + slotFor(dsn)
	pgtest.Exec(t, dsn, `CREATE TABLE items (id int PRIMARY KEY)`, `CREATE TABLE other (id int)`, `INSERT INTO items VALUES (1)`,
		"SELECT pg_create_logical_replication_slot('"+abandoned+"', 'pgoutput')",
		`INSERT INTO other SELECT generate_series(1, 1000)`)
	t.Cleanup(func() { pgtest.Exec(t, dsn, "SELECT pg_drop_replication_slot('"+abandoned+"')") })
	var logs syncbuf.Buffer
	b := conformance.Build(mem, 100, "source")
	b.Logger = slog.New(slog.NewTextHandler(&logs, nil))
	src := mustCDC(t, cdcConf(dsn, ", slot_warning_bytes: 1, status_interval: 100ms"), b)
	defer src.Close()
	ctx := context.Background()
	if _, err := src.Open(ctx); err != nil {
		t.Fatal(err)
	}
	if l := logs.String(); !strings.Contains(l, "level=WARN") || !strings.Contains(l, "slot="+abandoned+" bytes=") {
		t.Fatalf("no warning naming slot %s and its bytes:\n%s", abandoned, l)
	}
	_, cp := readChanges(t, src, 1)
	if err := src.Ack(ctx, cp); err != nil {
		t.Fatal(err)
	}
	// Read waits for changes of items, of which there are none, until
	// the test ends (before Close: a source is not closed under a Read).
	readCtx, stop := context.WithCancel(ctx)
	reading := make(chan struct{})
	defer func() { stop(); <-reading }()
	go func() {
		defer close(reading)
		if b, err := src.Read(readCtx); err == nil {
			b.Record.Release()
			t.Errorf("a change of the quiet table arrived")
		}
	}()
	pgtest.Exec(t, dsn, `INSERT INTO other SELECT generate_series(1, 1000)`)
	var now string
	conn := connTest(t, dsn)
	defer conn.Close(ctx)
	if err := conn.QueryRow(ctx, "SELECT pg_current_wal_lsn()::text").Scan(&now); err != nil {
		t.Fatal(err)
	}
	target, _ := pglogrepl.ParseLSN(now)
	for {
		at, _ := pglogrepl.ParseLSN(confirmed(t, dsn))
		if at >= target {
			break
		}
		time.Sleep(20 * time.Millisecond) // no limit: a slot that never follows hangs the test
	}
}
