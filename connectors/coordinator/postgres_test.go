package coordinator_test

import (
	"context"
	"strings"
	"testing"

	"github.com/dataweaver/dataweaver/connectors/coordinator"
	_ "github.com/dataweaver/dataweaver/connectors/postgres"
	"github.com/dataweaver/dataweaver/internal/pgtest"
)

// TestPostgresSplits: three workers share a table cut into cursor ranges
// of about split_rows rows (at quantiles of the cursor), each read as
// the table source reads (pages by the cursor): every row once. A second
// run plans only the rows inserted since; a split whose position was lost
// (its range a gap between finished ones) is planned again, and its part
// replaced.
func TestPostgresSplits(t *testing.T) {
	dsn := pgtest.DB(t)
	url := startNATS(t)
	pgtest.Exec(t, dsn, "CREATE TABLE src (id bigint PRIMARY KEY, name text)",
		"INSERT INTO src SELECT i, 'n' || i FROM generate_series(0, 2499) AS i")
	out := t.TempDir()
	f, opts := parse(t, `
name: pgsplits
source:
  postgres: {dsn: "${DSN}", table: src, cursor: id, split_rows: 400}
sinks:
  - file: {path: "${OUT}/", format: csv}
coordinator:
  urls: ["${NATS}"]
`, map[string]string{"DSN": dsn, "OUT": out, "NATS": url})

	got := runWorkersOn(t, f, opts, 3)
	if got.Planned != 7 || got.Splits != 7 || got.Rows != 2500 {
		t.Errorf("planned %d, read %d splits and %d rows; want 7, 7 and 2500", got.Planned, got.Splits, got.Rows)
	}
	ids, parts := readIDs(t, out)
	checkExactlyOnce(t, ids, 2500)

	pgtest.Exec(t, dsn, "INSERT INTO src SELECT i, 'n' || i FROM generate_series(2500, 3199) AS i")
	got = runWorkersOn(t, f, opts, 2)
	if got.Planned != 2 || got.Rows != 700 {
		t.Errorf("second run planned %d splits and read %d rows, want 2 and the 700 new", got.Planned, got.Rows)
	}
	ids, parts2 := readIDs(t, out)
	checkExactlyOnce(t, ids, 3200)
	if parts2 != parts+2 {
		t.Errorf("%d parts after the second run, want %d", parts2, parts+2)
	}

	// Forget one finished split in the middle: the next plan finds the gap.
	st, err := coordinator.OpenStore(context.Background(), coordinator.Config{URLs: []string{url}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	entries, err := st.List(context.Background(), "pgsplits")
	if err != nil || len(entries) != 9 {
		t.Fatalf("List = %d entries, %v; want 9 finished splits", len(entries), err)
	}
	var lost string
	for _, e := range entries {
		if !strings.HasPrefix(e.Key.Split, "id (start,") && !strings.Contains(e.Key.Split, "3199]") {
			lost = e.Key.Split
			if err := st.Delete(context.Background(), e.Key); err != nil {
				t.Fatal(err)
			}
			break
		}
	}
	got = runWorkersOn(t, f, opts, 1)
	if got.Planned != 1 || got.Rows < 300 || got.Rows > 500 {
		t.Errorf("after losing split %s: planned %d splits and read %d rows, want that one split again", lost, got.Planned, got.Rows)
	}
	ids, parts3 := readIDs(t, out)
	checkExactlyOnce(t, ids, 3200)
	if parts3 != parts2 {
		t.Errorf("%d parts after the redo, want the same %d (the lost split's part replaced)", parts3, parts2)
	}
}

// TestPostgresPositions: with positions_dsn, three workers record the
// finished splits in the Postgres table, none in the bucket, and a
// second run finds them there and reads nothing; weave positions opens
// the same table.
func TestPostgresPositions(t *testing.T) {
	dsn := pgtest.DB(t)
	url := startNATS(t)
	in, out := t.TempDir(), t.TempDir()
	n := writeCSVs(t, in, 4, 100)
	f, opts := parse(t, `
name: pgpos
source:
  file: {path: "${IN}/*.csv"}
sinks:
  - file: {path: "${OUT}/", format: csv}
coordinator:
  urls: ["${NATS}"]
  positions_dsn: "${DSN}"
  positions_table: etl.positions
`, map[string]string{"IN": in, "OUT": out, "NATS": url, "DSN": dsn})
	pgtest.Exec(t, dsn, "CREATE SCHEMA etl")
	if got := runWorkersOn(t, f, opts, 3); got.Splits != 4 {
		t.Errorf("read %d splits, want 4", got.Splits)
	}
	ids, _ := readIDs(t, out)
	checkExactlyOnce(t, ids, n)

	st, where, err := coordinator.OpenFileStore(context.Background(), f, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	entries, err := st.List(context.Background(), "pgpos")
	if err != nil || len(entries) != 4 || !entries[0].Record.Finished {
		t.Fatalf("%s: List = %+v, %v; want 4 finished splits", where, entries, err)
	}
	kv, err := coordinator.OpenStore(context.Background(), coordinator.Config{URLs: []string{url}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer kv.Close()
	if inBucket, err := kv.List(context.Background(), "pgpos"); err != nil || len(inBucket) != 0 {
		t.Errorf("bucket holds %d positions (%v), want none: they go to the table", len(inBucket), err)
	}
	if again := runWorkersOn(t, f, opts, 2); again.Planned != 0 || again.Splits != 0 {
		t.Errorf("second run: %+v, want nothing planned or read", again)
	}
}
