package e2e

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/dataweaver/dataweaver/internal/crashtest"
	"github.com/dataweaver/dataweaver/internal/pgtest"
)

// cdcChanges is how many transactions of changes the CDC tests make
// after the snapshot: an insert of a new row in each, an update or delete
// of an old one in some.
const cdcChanges = 1500

// cdcMirror: postgres_cdc_mirror.yaml between two databases. A first run
// (to the end) copies the snapshot of 300 rows; then cdcChanges
// transactions change the source, which the runs under test apply. Stored
// counts the rows inserted after the snapshot that have arrived.
func cdcMirror(t *testing.T) (crashtest.Pipeline, func(t *testing.T)) {
	src, dst := pgtest.DB(t), pgtest.DB(t)
	sc, dc := pgConn(t, src), pgConn(t, dst)
	ctx := context.Background()
	for _, sql := range []string{
		`CREATE TABLE items (id int PRIMARY KEY, name text, qty bigint)`,
		`INSERT INTO items SELECT i, 'n' || i, i FROM generate_series(1, 300) i`,
	} {
		if _, err := sc.Exec(ctx, sql); err != nil {
			t.Fatal(err)
		}
	}
	db := src[strings.LastIndexByte(src, '/')+1 : strings.IndexByte(src, '?')]
	p := crashtest.Pipeline{
		File:   pipelineFile(t, "postgres_cdc_mirror.yaml"),
		State:  t.TempDir(),
		Env:    map[string]string{"PG_DSN": src, "PG_TARGET": dst, "SLOT": "mirror_" + db, "PUBLICATION": "mirror_" + db},
		Set:    []string{"batch.rows=20"},
		Finish: []string{"source.postgres_cdc.stop_at_end=true"},
		Rows:   cdcChanges,
		Stored: func(t testing.TB) int {
			var n int
			if err := dc.QueryRow(ctx, "SELECT count(*) FROM items WHERE id > 1000").Scan(&n); err != nil {
				t.Fatal(err)
			}
			return n
		},
	}
	p.Run(t)
	// A transaction per 10 new rows: the runs see many commits, so a
	// kill falls between confirmed and unconfirmed ones.
	var b pgx.Batch
	send := func() {
		if err := sc.SendBatch(ctx, &b).Close(); err != nil {
			t.Fatal(err)
		}
		b = pgx.Batch{}
	}
	for i := range cdcChanges {
		if i%10 == 0 && i > 0 {
			send()
		}
		old := i%300 + 1
		b.Queue(fmt.Sprintf("INSERT INTO items VALUES (%d, 'new', %d)", 1001+i, i))
		switch i % 3 {
		case 0:
			b.Queue(fmt.Sprintf("UPDATE items SET qty = qty + 1, name = 'u%d' WHERE id = %d", i, old))
		case 1:
			b.Queue(fmt.Sprintf("DELETE FROM items WHERE id = %d", old))
		}
	}
	send()
	check := func(t *testing.T) {
		got, want := itemsText(t, dc), itemsText(t, sc)
		if got != want {
			gl, wl := strings.Split(got, "),("), strings.Split(want, "),(")
			for i := range min(len(gl), len(wl)) {
				if gl[i] != wl[i] {
					t.Fatalf("the copy differs from the source table at row %d: (%s), want (%s); %d rows, want %d", i, gl[i], wl[i], len(gl), len(wl))
				}
			}
			t.Fatalf("the copy has %d rows, want %d", len(gl), len(wl))
		}
	}
	return p, check
}

func itemsText(t *testing.T, conn *pgx.Conn) string {
	t.Helper()
	var s string
	if err := conn.QueryRow(context.Background(), "SELECT coalesce(string_agg(t::text, ',' ORDER BY id), '') FROM items t").Scan(&s); err != nil {
		t.Fatal(err)
	}
	return s
}

// TestKillCDCMirror kills a streaming postgres_cdc_mirror.yaml once and
// runs it again: the rerun resumes from the slot (the position saved, or
// confirmed, before the kill), and the copy ends equal to the source.
func TestKillCDCMirror(t *testing.T) {
	p, check := cdcMirror(t)
	c := p.KillAndRerun(t)
	check(t)
	startedAtSaved(t, c.Rerun)
}

// TestKillCDCMirrorRepeatedly is TestKillCDCMirror with crashKills kills.
func TestKillCDCMirrorRepeatedly(t *testing.T) {
	crashtest.Suite(t)
	p, check := cdcMirror(t)
	res := p.KillRepeatedly(t, crashKills(t))
	check(t)
	startedAtSaved(t, res.Rerun)
}

// TestKillCDCSnapshot kills postgres_cdc_mirror.yaml during its first
// copy of the table: the exported snapshot dies with the run, so the
// rerun drops the slot, takes a new one and copies again (create_slot),
// and the copy ends equal to the source, changes made meanwhile included.
func TestKillCDCSnapshot(t *testing.T) {
	crashtest.Suite(t)
	src, dst := pgtest.DB(t), pgtest.DB(t)
	sc, dc := pgConn(t, src), pgConn(t, dst)
	ctx := context.Background()
	const rows = 4000
	if _, err := sc.Exec(ctx, fmt.Sprintf(`CREATE TABLE items (id int PRIMARY KEY, name text, qty bigint);
		INSERT INTO items SELECT i, 'n' || i, i FROM generate_series(1, %d) i`, rows)); err != nil {
		t.Fatal(err)
	}
	db := src[strings.LastIndexByte(src, '/')+1 : strings.IndexByte(src, '?')]
	p := crashtest.Pipeline{
		File:  pipelineFile(t, "postgres_cdc_mirror.yaml"),
		State: t.TempDir(),
		Env:   map[string]string{"PG_DSN": src, "PG_TARGET": dst, "SLOT": "snap_" + db, "PUBLICATION": "snap_" + db},
		// A checkpoint behind every batch: the killed run has saved a
		// position inside the snapshot, which the rerun must not stream from.
		Set:    []string{"batch.rows=20", "checkpoint_every=1ns"},
		Finish: []string{"source.postgres_cdc.stop_at_end=true"},
		Rows:   rows,
		AfterKill: func(t testing.TB) {
			// Changes between the kill and the rerun's new snapshot.
			if _, err := sc.Exec(ctx, `UPDATE items SET qty = -qty WHERE id % 10 = 0; INSERT INTO items VALUES (100000, 'late', 1)`); err != nil {
				t.Fatal(err)
			}
		},
		Stored: func(t testing.TB) int {
			var n int
			if err := dc.QueryRow(ctx, "SELECT count(*) FROM items WHERE id <= $1", rows).Scan(&n); err != nil {
				if strings.Contains(err.Error(), "does not exist") {
					return 0
				}
				t.Fatal(err)
			}
			return n
		},
	}
	c := p.KillAndRerun(t)
	if !strings.Contains(c.Rerun.Output, "started at slot snap_"+db+": snapshot not finished") {
		t.Errorf("the rerun did not start at a position inside the snapshot:\n%s", c.Rerun.Output)
	}
	if !strings.Contains(c.Rerun.Output, "dropping it to take a new one") {
		t.Errorf("the rerun did not take a new snapshot:\n%s", c.Rerun.Output)
	}
	if got, want := itemsText(t, dc), itemsText(t, sc); got != want {
		t.Fatalf("the copy differs from the source table (%d bytes, want %d)", len(got), len(want))
	}
}
