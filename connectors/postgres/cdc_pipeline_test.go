package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/dataweaver/dataweaver/connectors/conformance"
	"github.com/dataweaver/dataweaver/engine"
	"github.com/dataweaver/dataweaver/internal/pgtest"
)

// tableText is a table's rows as text, ordered by id, to compare two
// databases' copies.
func tableText(t testing.TB, dsn, table string) string {
	t.Helper()
	ctx := context.Background()
	conn := connTest(t, dsn)
	defer conn.Close(ctx)
	var s string
	if err := conn.QueryRow(ctx, "SELECT coalesce(string_agg(t::text, E'\\n' ORDER BY id), '') FROM "+table+" t").Scan(&s); err != nil {
		t.Fatal(err)
	}
	return s
}

// TestCDCPostgresToPostgres: postgres_cdc → postgres (mode cdc) keeps a
// copy of a table in another database: the snapshot, then inserts,
// updates (one of the key, one leaving a TOASTed value alone), deletes, and
// a key deleted and inserted again within one batch, across two runs that
// share the pipeline's positions.
func TestCDCPostgresToPostgres(t *testing.T) {
	mem := conformance.Checked(t)
	src, dst := pgtest.DB(t), pgtest.DB(t)
	pgtest.Exec(t, src, `CREATE TABLE items (id int PRIMARY KEY, name text, qty bigint, big text)`,
		`ALTER TABLE items ALTER COLUMN big SET STORAGE EXTERNAL`,
		`INSERT INTO items SELECT i, 'n' || i, i * 10, CASE WHEN i % 50 = 0 THEN repeat('b', 4000) END FROM generate_series(1, 500) i`)
	state := t.TempDir()
	pipeline := fmt.Sprintf(`
name: mirror
batch: {rows: 64}
source:
  postgres_cdc: {dsn: %s, table: items, publication: items_pub, slot: %s, create_slot: true, create_publication: true, stop_at_end: true}
sinks:
  - postgres: {dsn: %s, table: items, mode: cdc, key: [id], create_table: true}
`, q(src), slotFor(src), q(dst))
	conformance.RunPipelineIn(t, mem, pipeline, state)
	if got, want := tableText(t, dst, "items"), tableText(t, src, "items"); got != want {
		t.Fatalf("after the snapshot the copy differs:\n%.500s\nwant\n%.500s", got, want)
	}
	pgtest.Exec(t, src,
		`INSERT INTO items SELECT i, 'n' || i, i, NULL FROM generate_series(501, 600) i`,
		`UPDATE items SET qty = qty + 1 WHERE id % 7 = 0`,
		`UPDATE items SET name = 'renamed' WHERE id = 50`, // big unchanged, not sent
		`DELETE FROM items WHERE id % 11 = 0`,
		`UPDATE items SET id = 10000 WHERE id = 3`,
		`DELETE FROM items WHERE id = 5`, `INSERT INTO items VALUES (5, 'again', 5, NULL)`,
		`BEGIN`, `DELETE FROM items WHERE id = 6`, `INSERT INTO items VALUES (6, 'again', 6, NULL)`, `COMMIT`)
	m := conformance.RunPipelineIn(t, mem, pipeline, state)
	if !m.Resumed {
		t.Errorf("the second run did not resume from the saved position (%s)", m.StartPosition)
	}
	got, want := tableText(t, dst, "items"), tableText(t, src, "items")
	if got != want {
		gl, wl := strings.Split(got, "\n"), strings.Split(want, "\n")
		for i := range min(len(gl), len(wl)) {
			if gl[i] != wl[i] {
				t.Fatalf("the copy differs at row %d: %.200s, want %.200s (%d rows, want %d)", i, gl[i], wl[i], len(gl), len(wl))
			}
		}
		t.Fatalf("the copy has %d rows, want %d", len(gl), len(wl))
	}
}

// TestCDCNewColumn: a column added to the table stops the source with an
// error naming table and column; a source opened afterwards, from the
// last acknowledged position, carries the column.
func TestCDCNewColumn(t *testing.T) {
	mem := conformance.Checked(t)
	dsn := pgtest.DB(t)
	pgtest.Exec(t, dsn, `CREATE TABLE items (id int PRIMARY KEY, name text)`, `INSERT INTO items VALUES (1, 'a')`)
	ctx := context.Background()
	first := mustCDC(t, cdcConf(dsn, ""), conformance.Build(mem, 100, "source"))
	defer first.Close()
	if _, err := first.Open(ctx); err != nil {
		t.Fatal(err)
	}
	_, cp := readChanges(t, first, 1)
	if err := first.Ack(ctx, cp); err != nil {
		t.Fatal(err)
	}
	pgtest.Exec(t, dsn, `ALTER TABLE items ADD COLUMN color text`, `INSERT INTO items VALUES (2, 'b', 'red')`)
	_, err := first.Read(ctx)
	if err == nil || !strings.Contains(err.Error(), `table public.items has a new column "color"`) || !engine.IsPermanent(err) {
		t.Fatalf("Read after ADD COLUMN: %v; want a permanent error naming table and column", err)
	}
	first.Close()
	pos, _ := json.Marshal(cp)
	second := mustCDC(t, cdcConf(dsn, ""), conformance.Build(mem, 100, "source"))
	defer second.Close()
	if err := second.Resume(pos); err != nil {
		t.Fatal(err)
	}
	schema, err := second.Open(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(schema.FieldIndices("color")) != 1 {
		t.Fatalf("the reopened source's schema has no color: %v", schema)
	}
	got, _ := readChanges(t, second, 1)
	if got[0]["id"] != "2" || got[0]["color"] != "red" {
		t.Fatalf("after reopening: %v, want row 2 with color red", got)
	}
}

// TestCDCRefusals: what the source cannot do is refused at Open, before
// anything is created, saying what to do; a TRUNCATE of the table stops
// the stream.
func TestCDCRefusals(t *testing.T) {
	mem := conformance.Checked(t)
	dsn := pgtest.DB(t)
	slot := slotFor(dsn)
	pgtest.Exec(t, dsn, `CREATE TABLE items (id int PRIMARY KEY)`, `CREATE TABLE other (id int)`, `CREATE PUBLICATION other_pub FOR TABLE other`)
	ctx := context.Background()
	for _, tc := range []struct{ name, conf, want string }{
		{"no publication", "publication: nope, slot: " + slot + ", create_slot: true",
			`publication "nope" does not exist: create it (CREATE PUBLICATION "nope" FOR TABLE public.items) or set create_publication: true`},
		{"table not published", "publication: other_pub, slot: " + slot + ", create_slot: true",
			`publication "other_pub" does not include table public.items`},
		{"no slot", "publication: p, create_publication: true, slot: " + slot, `slot "` + slot + `" does not exist: set create_slot: true`},
		{"bad slot name", "publication: p, slot: Bad-Name", "a slot name has only lower-case letters"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			step, err := conformance.BuildStep(t, engine.KindSource, "postgres_cdc", fmt.Sprintf("{dsn: %s, table: items, %s}", q(dsn), tc.conf), conformance.Build(mem, 10, "source"))
			if err == nil {
				src := step.(engine.Source)
				defer src.Close()
				_, err = src.Open(ctx)
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("%v; want an error containing %q", err, tc.want)
			}
		})
	}
	// The slot exists now (made after the publication, as pgoutput
	// needs), and a snapshot needs a new one.
	pgtest.Exec(t, dsn, "CREATE PUBLICATION p FOR TABLE items", "SELECT pg_create_logical_replication_slot('"+slot+"', 'pgoutput')")
	src := mustCDC(t, fmt.Sprintf("{dsn: %s, table: items, publication: p, slot: %s}", q(dsn), slot), conformance.Build(mem, 10, "source"))
	if _, err := src.Open(ctx); err == nil || !strings.Contains(err.Error(), "set create_slot: true (the slot is dropped and created again) or snapshot: false") {
		t.Fatalf("snapshot from an existing slot: %v", err)
	}
	src.Close()

	stream := mustCDC(t, fmt.Sprintf("{dsn: %s, table: items, publication: p, slot: %s, snapshot: false}", q(dsn), slot), conformance.Build(mem, 10, "source"))
	defer stream.Close()
	if _, err := stream.Open(ctx); err != nil {
		t.Fatal(err)
	}
	pgtest.Exec(t, dsn, `INSERT INTO items VALUES (1)`)
	readChanges(t, stream, 1)
	pgtest.Exec(t, dsn, `TRUNCATE items`)
	if _, err := stream.Read(ctx); err == nil || !strings.Contains(err.Error(), "table public.items was truncated") || !engine.IsPermanent(err) {
		t.Fatalf("Read after TRUNCATE: %v; want a permanent error naming the table", err)
	}
}
