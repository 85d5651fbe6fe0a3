package postgres

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/dataweaver/dataweaver/connectors/conformance"
	"github.com/dataweaver/dataweaver/engine"
	"github.com/dataweaver/dataweaver/engine/position"
	"github.com/dataweaver/dataweaver/internal/pgtest"
)

// TestPositionsList: List returns a pipeline's keys sorted by step, then
// split, in byte order as the state directory's store does; other
// pipelines' positions are not listed.
func TestPositionsList(t *testing.T) {
	mem := conformance.Checked(t)
	dsn := pgtest.DB(t)
	_, st := onceSink(t, dsn, mem, "sink")
	ctx := context.Background()
	key := func(pipeline, step, split string) position.Key {
		return position.Key{Pipeline: pipeline, Step: step, Split: split}
	}
	for _, k := range []position.Key{key("p", "source", "p1"), key("p", "source", "p0"), key("p", "Source", ""), key("q", "source", ""), key("p", "source", "")} {
		if _, err := st.Save(ctx, k, position.Record{Text: k.String()}); err != nil {
			t.Fatal(err)
		}
	}
	list, err := st.List(ctx, "p")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range list {
		got = append(got, e.Key.String()+"="+e.Record.Text)
	}
	if want := "[p/Source=p/Source p/source=p/source p/source/p0=p/source/p0 p/source/p1=p/source/p1]"; fmt.Sprint(got) != want {
		t.Errorf("List: %v, want %s", got, want)
	}
}

// TestPositionsTableMadeByAdmin: a role that may write a positions table
// an administrator created, but not create tables, can use it.
func TestPositionsTableMadeByAdmin(t *testing.T) {
	mem := conformance.Checked(t)
	dsn := pgtest.DB(t)
	pgtest.Exec(t, dsn, "DROP ROLE IF EXISTS loader", "CREATE ROLE loader LOGIN", "REVOKE CREATE ON SCHEMA public FROM PUBLIC",
		"CREATE SCHEMA etl", `CREATE TABLE etl.positions (pipeline text NOT NULL, step text NOT NULL, split text NOT NULL DEFAULT '',
			revision bigint NOT NULL, record jsonb NOT NULL, saved_at timestamptz NOT NULL, PRIMARY KEY (pipeline, step, split))`,
		"CREATE TABLE events (id bigint, name text, score double precision, ok boolean, note text, ts timestamptz)",
		"GRANT USAGE ON SCHEMA etl TO loader", "GRANT SELECT, INSERT, UPDATE, DELETE ON etl.positions, events TO loader")
	t.Cleanup(func() { pgtest.Exec(t, dsn, "DROP OWNED BY loader", "DROP ROLE loader") })
	loader := strings.Replace(dsn, "postgres@", "loader@", 1)
	ctx := context.Background()
	s := conformance.MustBuild[txSink](t, engine.KindSink, "postgres",
		fmt.Sprintf("{dsn: %s, table: events, exactly_once: true, positions_table: etl.positions}", q(loader)), conformance.Build(mem, 10, "sink"))
	st, err := s.Positions(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if err := s.Open(ctx, conformance.SampleSchema); err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	writeRows(t, s, mem, 0, 20)
	if _, err := checkpoint(t, s, st, 0, 20); err != nil {
		t.Fatal(err)
	}
	if n := count(t, dsn, "SELECT count(*) * 1000 + (SELECT revision FROM etl.positions) FROM events"); n != 20001 {
		t.Errorf("count*1000 + revision = %d, want 20001", n)
	}
}

// TestPositionsStoreReconnects: the store's own connection, idle between
// checkpoints, is replaced when the server ended it, before a Save with
// nothing prepared (which nothing would retry) or a Load uses it.
func TestPositionsStoreReconnects(t *testing.T) {
	mem := conformance.Checked(t)
	dsn := pgtest.DB(t)
	_, st := onceSink(t, dsn, mem, "sink")
	ctx := context.Background()
	rev, err := st.Save(ctx, testKey, position.Record{Rows: 1})
	if err != nil {
		t.Fatal(err)
	}
	store := st.(*store)
	for _, op := range []string{"Save", "Load"} {
		store.mu.Lock()
		pid := store.conn.PgConn().PID()
		store.mu.Unlock()
		if count(t, dsn, fmt.Sprintf("SELECT pg_terminate_backend(%d)::int", pid)) != 1 {
			t.Fatal("no backend to terminate")
		}
		if op == "Save" {
			if rev, err = st.Save(ctx, testKey, position.Record{Revision: rev, Rows: 2}); err != nil {
				t.Fatalf("Save after the store's connection was terminated: %v", err)
			}
		} else if rec, err := st.Load(ctx, testKey); err != nil || rec.Rows != 2 || rec.Revision != 2 {
			t.Fatalf("Load after the store's connection was terminated: %+v, %v", rec, err)
		}
	}
}
