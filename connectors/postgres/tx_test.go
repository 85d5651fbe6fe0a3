package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/jackc/pgx/v5"

	"github.com/dataweaver/dataweaver/connectors/conformance"
	"github.com/dataweaver/dataweaver/engine"
	"github.com/dataweaver/dataweaver/engine/position"
	"github.com/dataweaver/dataweaver/internal/pgtest"
)

var testKey = position.Key{Pipeline: "orders-load", Step: "source"}

// onceSink builds an exactly_once sink writing to table events, asks it
// for its position store (as the engine does, before Open) and opens it.
func onceSink(t *testing.T, dsn string, mem memory.Allocator, name string) (txSink, position.Store) {
	t.Helper()
	ctx := context.Background()
	s := conformance.MustBuild[txSink](t, engine.KindSink, "postgres",
		fmt.Sprintf("{dsn: %s, table: events, create_table: true, exactly_once: true}", q(dsn)), conformance.Build(mem, 10, name))
	st, err := s.Positions(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if err := s.Open(ctx, conformance.SampleSchema); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s, st
}

// writeRows writes Sample rows from..to-1 in batches of 10.
func writeRows(t *testing.T, s engine.Sink, mem memory.Allocator, from, to int) {
	t.Helper()
	for i := from; i < to; i += 10 {
		rec := conformance.Sample(mem, conformance.SampleSchema, i, min(10, to-i))
		err := s.Write(context.Background(), rec)
		rec.Release()
		if err != nil {
			t.Fatalf("Write rows %d..: %v", i, err)
		}
	}
}

// writeRetrying is writeRows retrying a failed Write as the engine does
// (unless it is Permanent), and returns how many attempts failed.
func writeRetrying(t *testing.T, s engine.Sink, mem memory.Allocator, from, to int) (failed int) {
	t.Helper()
	for i := from; i < to; i += 10 {
		rec := conformance.Sample(mem, conformance.SampleSchema, i, min(10, to-i))
		for attempt := 1; ; attempt++ {
			err := s.Write(context.Background(), rec)
			if err == nil {
				break
			}
			failed++
			if engine.IsPermanent(err) || attempt == 3 {
				rec.Release()
				t.Fatalf("Write rows %d.. (attempt %d): %v", i, attempt, err)
			}
			t.Logf("Write rows %d.. (attempt %d, retried): %v", i, attempt, err)
		}
		rec.Release()
	}
	return failed
}

// count runs a query returning one number on a connection of the test's.
func count(t *testing.T, dsn, query string) int64 {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var n int64
	if err := conn.QueryRow(ctx, query).Scan(&n); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return n
}

// terminate ends the server process of the sink's connection, as a
// failover, a restarted server or a DBA would.
func terminate(t *testing.T, dsn string, s *Sink) {
	t.Helper()
	s.mu.Lock()
	pid := s.conn.PgConn().PID()
	s.mu.Unlock()
	if count(t, dsn, fmt.Sprintf("SELECT pg_terminate_backend(%d)::int", pid)) != 1 {
		t.Fatalf("pg_terminate_backend(%d) found no backend", pid)
	}
}

// checkpoint does what the engine does at a checkpoint: Prepare, save the
// position (rows read so far), Commit.
func checkpoint(t *testing.T, s txSink, st position.Store, rev uint64, rows int) (uint64, error) {
	t.Helper()
	ctx := context.Background()
	prep, err := s.Prepare(ctx)
	if err != nil {
		return 0, err
	}
	rec := position.Record{Revision: rev, Rows: int64(rows), Source: json.RawMessage(fmt.Sprintf(`{"row":%d}`, rows)),
		Prepared: map[string][]byte{"sink": prep}}
	rev, err = st.Save(ctx, testKey, rec)
	if err != nil {
		return 0, err
	}
	if prep != nil {
		if err := s.Commit(ctx, prep); err != nil {
			return 0, err
		}
	}
	return rev, nil
}

// TestExactlyOnceCommitsAtCheckpoints: rows written between checkpoints
// are invisible (Flush does not commit them) until the position is saved,
// and then committed with it; a new sink's store loads that position.
func TestExactlyOnceCommitsAtCheckpoints(t *testing.T) {
	mem := conformance.Checked(t)
	dsn := pgtest.DB(t)
	s, st := onceSink(t, dsn, mem, "sinks[0].postgres")
	ctx := context.Background()
	var rev uint64
	for i, rows := range []int{25, 60, 60, 93} {
		from := 0
		if i > 0 {
			from = []int{25, 60, 60, 93}[i-1]
		}
		writeRows(t, s, mem, from, rows)
		if err := s.Flush(ctx); err != nil {
			t.Fatal(err)
		}
		if n := count(t, dsn, "SELECT count(*) FROM events"); n != int64(from) {
			t.Fatalf("checkpoint %d: %d rows visible before the position was saved, want %d", i, n, from)
		}
		var err error
		if rev, err = checkpoint(t, s, st, rev, rows); err != nil {
			t.Fatalf("checkpoint %d: %v", i, err)
		}
		if n := count(t, dsn, "SELECT count(*) FROM events"); n != int64(rows) {
			t.Fatalf("checkpoint %d: %d rows after it, want %d", i, n, rows)
		}
		if n := count(t, dsn, "SELECT (record->>'rows')::bigint FROM weave_positions"); n != int64(rows) {
			t.Fatalf("checkpoint %d: position says %d rows, want %d", i, n, rows)
		}
	}
	if rev != 4 {
		t.Errorf("revision %d after 4 checkpoints", rev)
	}
	if n := count(t, dsn, "SELECT count(DISTINCT id) FROM events WHERE id < 93"); n != 93 {
		t.Errorf("%d distinct ids, want 93", n)
	}
	// A restarted run: a new sink's store has the position, and the
	// prepared bytes the engine hands back before Open commit nothing twice.
	s2, st2 := onceSink(t, dsn, mem, "sinks[0].postgres")
	rec, err := st2.Load(ctx, testKey)
	if err != nil {
		t.Fatal(err)
	}
	if rec.Revision != 4 || rec.Rows != 93 || string(rec.Source) != `{"row": 93}` {
		t.Errorf("Load: revision %d, rows %d, source %s", rec.Revision, rec.Rows, rec.Source)
	}
	if err := s2.Commit(ctx, rec.Prepared["sink"]); err != nil {
		t.Errorf("Commit of the last run's prepared bytes: %v", err)
	}
	list, err := st2.List(ctx, testKey.Pipeline)
	if err != nil || len(list) != 1 || list[0].Key != testKey || list[0].Record.Revision != 4 {
		t.Errorf("List: %+v, %v", list, err)
	}
	if err := st2.Delete(ctx, testKey); err != nil {
		t.Fatal(err)
	}
	if rec, err := st2.Load(ctx, testKey); err != nil || rec.Revision != 0 {
		t.Errorf("Load after Delete: %+v, %v", rec, err)
	}
}

// TestExactlyOnceDiesPrepared: a transaction prepared but not saved when
// its connection dies (the process killed, the server restarted) leaves
// neither its rows nor the position: the table and the position are
// those of the checkpoint before.
func TestExactlyOnceDiesPrepared(t *testing.T) {
	for _, how := range []string{"terminated", "closed"} {
		t.Run(how, func(t *testing.T) {
			mem := conformance.Checked(t)
			dsn := pgtest.DB(t)
			s, st := onceSink(t, dsn, mem, "sink")
			writeRows(t, s, mem, 0, 30)
			rev, err := checkpoint(t, s, st, 0, 30)
			if err != nil {
				t.Fatal(err)
			}
			writeRows(t, s, mem, 30, 70)
			if _, err := s.Prepare(context.Background()); err != nil {
				t.Fatal(err)
			}
			if how == "terminated" {
				terminate(t, dsn, s.Sink)
				_, err := st.Save(context.Background(), testKey, position.Record{Revision: rev, Rows: 70})
				if err == nil || !strings.Contains(err.Error(), "exactly_once") || !strings.Contains(err.Error(), "4 batches") {
					t.Errorf("Save on a terminated connection: %v", err)
				}
				// Nothing may be saved after: it would skip the lost rows.
				if _, err := st.Save(context.Background(), testKey, position.Record{Revision: rev, Rows: 70}); err == nil {
					t.Error("a second Save after the lost checkpoint succeeded")
				}
			} else {
				s.Close()
				// A Save that comes after the rows were rolled back must
				// not save the position alone.
				if _, err := st.Save(context.Background(), testKey, position.Record{Revision: rev, Rows: 70}); err == nil || !strings.Contains(err.Error(), "closed with the 4 batches of a checkpoint not committed") {
					t.Errorf("Save after Close: %v", err)
				}
			}
			if n := count(t, dsn, "SELECT count(*) FROM events"); n != 30 {
				t.Errorf("%d rows, want the 30 of the saved checkpoint", n)
			}
			if n := count(t, dsn, "SELECT revision * 1000 + (record->>'rows')::bigint FROM weave_positions"); n != 1030 {
				t.Errorf("position revision*1000+rows = %d, want 1030", n)
			}
		})
	}
}

// TestExactlyOnceStale: a second run saving over a revision the first one
// has moved on fails with position.ErrStale, and its rows are rolled back.
func TestExactlyOnceStale(t *testing.T) {
	mem := conformance.Checked(t)
	dsn := pgtest.DB(t)
	a, sta := onceSink(t, dsn, mem, "a")
	b, stb := onceSink(t, dsn, mem, "b")
	writeRows(t, a, mem, 0, 10)
	writeRows(t, b, mem, 100, 120)
	if _, err := checkpoint(t, a, sta, 0, 10); err != nil {
		t.Fatal(err)
	}
	_, err := checkpoint(t, b, stb, 0, 20) // b loaded revision 0 too
	if !errors.Is(err, position.ErrStale) {
		t.Fatalf("second first save: %v, want ErrStale", err)
	}
	// Revision 1 is now held: a save over 0 on the store's own connection
	// (nothing prepared) is stale too, and so is one over 2.
	for _, rev := range []uint64{0, 2} {
		if _, err := sta.Save(context.Background(), testKey, position.Record{Revision: rev}); !errors.Is(err, position.ErrStale) {
			t.Errorf("Save over revision %d: %v, want ErrStale", rev, err)
		}
	}
	if n := count(t, dsn, "SELECT count(*) FROM events"); n != 10 {
		t.Errorf("%d rows, want only the 10 of the run that saved", n)
	}
	if n := count(t, dsn, "SELECT count(*) FROM events WHERE id >= 100"); n != 0 {
		t.Errorf("%d rows of the stale run were committed", n)
	}
}

// TestExactlyOnceConcurrent: the sink's goroutine keeps writing while
// another saves each checkpoint, as the engine runs them. Each checkpoint
// commits exactly the rows written before its Prepare: a Write that went
// into the prepared transaction would show up in the count at the save.
func TestExactlyOnceConcurrent(t *testing.T) {
	before := runtime.NumGoroutine()
	t.Cleanup(func() { conformance.NoGoroutineLeak(t, before) }) // last: after every Close
	mem := conformance.Checked(t)
	dsn := pgtest.DB(t)
	s, st := onceSink(t, dsn, mem, "sink")
	ctx := context.Background()
	type cp struct {
		prep []byte
		rows int
	}
	cps := make(chan cp)
	var wg sync.WaitGroup
	wg.Add(1)
	var saveErr error
	go func() {
		defer wg.Done()
		var rev uint64
		for c := range cps {
			// Count what the last checkpoint committed before this one is saved.
			var err error
			if rev, err = st.Save(ctx, testKey, position.Record{Revision: rev, Rows: int64(c.rows)}); err == nil && c.prep != nil {
				err = s.Commit(ctx, c.prep)
			}
			if err == nil {
				if n := count(t, dsn, "SELECT count(*) FROM events"); n != int64(c.rows) {
					err = fmt.Errorf("after the checkpoint at %d rows the table holds %d", c.rows, n)
				}
			}
			if err != nil {
				saveErr = err
				for range cps {
				}
				return
			}
		}
	}()
	const batches, every = 60, 7
	for i := range batches {
		writeRows(t, s, mem, i*10, i*10+10)
		if i%every == every-1 || i == batches-1 {
			prep, err := s.Prepare(ctx)
			if err != nil {
				t.Fatal(err)
			}
			cps <- cp{prep, i*10 + 10}
		}
	}
	close(cps)
	wg.Wait()
	if saveErr != nil {
		t.Fatal(saveErr)
	}
	if n := count(t, dsn, "SELECT count(DISTINCT id) FROM events"); n != batches*10 {
		t.Errorf("%d distinct rows, want %d", n, batches*10)
	}
}

// TestExactlyOnceConnectionLost: a connection lost between checkpoints is
// replaced; lost with the interval's first batch in flight, that batch is
// retried on a new one; lost after batches were written in the interval,
// it fails every call after with an error saying what happened, and the
// table and position stay those of the last checkpoint.
func TestExactlyOnceConnectionLost(t *testing.T) {
	mem := conformance.Checked(t)
	dsn := pgtest.DB(t)
	s, st := onceSink(t, dsn, mem, "sink")
	ctx := context.Background()
	writeRows(t, s, mem, 0, 20)
	rev, err := checkpoint(t, s, st, 0, 20)
	if err != nil {
		t.Fatal(err)
	}
	// Between checkpoints nothing is lost: the engine's retry of the
	// Write that finds the connection gone writes on a new one.
	terminate(t, dsn, s.Sink)
	if failed := writeRetrying(t, s, mem, 20, 40); failed != 1 {
		t.Errorf("%d attempts failed, want 1", failed)
	}
	// The interval holds batches now: losing it is fatal to the run.
	terminate(t, dsn, s.Sink)
	rec := conformance.Sample(mem, conformance.SampleSchema, 40, 10)
	defer rec.Release()
	err = s.Write(ctx, rec)
	if err == nil || !engine.IsPermanent(err) || !strings.Contains(err.Error(), "the transaction holding the 2 batches written since the last checkpoint was lost") {
		t.Fatalf("Write after the interval's connection was lost: %v (permanent %v)", err, engine.IsPermanent(err))
	}
	t.Log(err)
	if err := s.Write(ctx, rec); err == nil {
		t.Error("a later Write succeeded")
	}
	if err := s.Flush(ctx); err == nil {
		t.Error("Flush succeeded")
	}
	if _, err := checkpoint(t, s, st, rev, 50); err == nil {
		t.Error("the checkpoint succeeded")
	}
	if n := count(t, dsn, "SELECT count(*) FROM events"); n != 20 {
		t.Errorf("%d rows, want the 20 of the saved checkpoint", n)
	}
	if n := count(t, dsn, "SELECT revision FROM weave_positions"); n != 1 {
		t.Errorf("position revision %d, want 1", n)
	}
}

// TestExactlyOnceRefusedBatch: a batch the table refuses is rolled back
// alone (a savepoint), so the rest of the interval still commits.
func TestExactlyOnceRefusedBatch(t *testing.T) {
	mem := conformance.Checked(t)
	dsn := pgtest.DB(t)
	s, st := onceSink(t, dsn, mem, "sink")
	pgtest.Exec(t, dsn, "ALTER TABLE events ADD CONSTRAINT small_id CHECK (id < 1000)")
	writeRows(t, s, mem, 0, 10)
	bad := conformance.Sample(mem, conformance.SampleSchema, 995, 10)
	defer bad.Release()
	if err := s.Write(context.Background(), bad); err == nil || !engine.IsPermanent(err) || !strings.Contains(err.Error(), "small_id") {
		t.Fatalf("Write of a refused batch: %v", err)
	}
	writeRows(t, s, mem, 10, 20)
	if _, err := checkpoint(t, s, st, 0, 20); err != nil {
		t.Fatal(err)
	}
	if n := count(t, dsn, "SELECT count(*) FROM events"); n != 20 {
		t.Errorf("%d rows, want the 20 of the batches the table accepted", n)
	}
}

// TestExactlyOnceRefusedConfig: exactly_once with upsert, on a dead-letter
// sink, and positions_table without it are configuration errors.
func TestExactlyOnceRefusedConfig(t *testing.T) {
	for _, tc := range []struct {
		conf       string
		deadLetter bool
		want       string
	}{
		{"mode: upsert, key: [id], exactly_once: true", false, "an upsert is idempotent already"},
		{"exactly_once: true", true, "a dead_letter sink cannot be exactly_once"},
		{"positions_table: pos", false, "positions_table is only used with exactly_once"},
	} {
		b := conformance.Build(memory.NewGoAllocator(), 10, "sink")
		b.DeadLetter = tc.deadLetter
		_, err := conformance.BuildStep(t, engine.KindSink, "postgres", "{dsn: 'postgres://x/y', table: t, "+tc.conf+"}", b)
		if !errors.Is(err, engine.ErrInvalidConfig) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want an error containing %q", tc.conf, err, tc.want)
		}
	}
}

// checkpointingSink takes a checkpoint (Prepare, Save, Commit) at every
// Flush, so the conformance suite, which knows no checkpoints, sees the
// rows of an exactly_once sink committed.
type checkpointingSink struct {
	txSink
	st  position.Store
	rev uint64
}

func (c *checkpointingSink) Flush(ctx context.Context) error {
	if err := c.txSink.Flush(ctx); err != nil {
		return err
	}
	prep, err := c.Prepare(ctx)
	if err != nil {
		return err
	}
	if c.rev, err = c.st.Save(ctx, testKey, position.Record{Revision: c.rev}); err != nil {
		return err
	}
	if prep == nil {
		return nil
	}
	return c.Commit(ctx, prep)
}

func (c *checkpointingSink) Close() error {
	c.st.Close()
	return c.txSink.Close()
}

func TestExactlyOnceSinkConformance(t *testing.T) {
	conformance.RunSink(t, conformance.SinkHarness{
		New: func(t *testing.T, b engine.Build) (engine.Sink, conformance.ReadBack) {
			dsn := pgtest.DB(t)
			sink := conformance.MustBuild[txSink](t, engine.KindSink, "postgres", fmt.Sprintf("{dsn: %s, table: public.out, create_table: true, exactly_once: true}", q(dsn)), b)
			st, err := sink.Positions(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			return &checkpointingSink{txSink: sink, st: st}, func(t *testing.T, mem memory.Allocator) []arrow.RecordBatch {
				pgtest.Exec(t, dsn, "CREATE TABLE IF NOT EXISTS out (id bigint)")
				return readTable(t, dsn, "query: 'SELECT * FROM out'", "id", mem)
			}
		},
	})
}
