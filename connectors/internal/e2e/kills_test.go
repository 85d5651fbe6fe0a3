package e2e

import (
	"cmp"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/dataweaver/dataweaver/internal/crashtest"
	"github.com/dataweaver/dataweaver/internal/pgtest"
)

// Pipelines killed again and again (TestKillRepeatedly): each is SIGKILLed
// at several random points, every run starting over the state the last
// one left (the state directory, the positions table, the consumer group,
// the durable consumer), then run to the end of its input.

// KillsEnv names the variable that sets how many times TestKillRepeatedly
// kills each pipeline, for a longer soak than the default.
const KillsEnv = "DW_CRASH_KILLS"

// defaultKills: five kills of each of the six pipelines add about 20 s to
// this package under make test (-race, 2 cores), one kill about as much:
// the time goes to starting servers and checking rows, not to the kills.
const defaultKills = 5

func crashKills(t *testing.T) int {
	t.Helper()
	s := os.Getenv(KillsEnv)
	if s == "" {
		return defaultKills
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 {
		t.Fatalf("%s=%q: want a number of kills, 1 or more", KillsEnv, s)
	}
	return n
}

// checkpointed gives a run a checkpoint behind every batch (the engine
// sends a barrier after a batch once checkpoint_every has passed, and 1ns
// always has), so that each checkpoint publishes one batch: what a run
// stores then grows in steps of a batch whatever the machine's speed, a
// kill drawn below 90% of the input lands before the run's end, and the
// kills fall inside checkpoints (between prepare, save, commit and
// acknowledge) as often as between them. The pipeline files say 200ms, a
// user's choice.
var checkpointed = []string{smallBatches, "checkpoint_every=1ns"}

// killCase is a pipeline file with its systems started and its input in
// place, for TestKillRepeatedly.
type killCase struct {
	p crashtest.Pipeline
	// check fails t unless the destination holds every input row, value by
	// value, once a run has ended normally after the kills: exactly once
	// where the sink is exactly-once or idempotent, else with the repeats
	// bounded (checkRepeatBound).
	check func(t *testing.T)
}

// TestKillRepeatedly kills each pipeline crashKills times and runs it to
// the end (see killCase.check for what must hold), and checks that the
// last run started at a saved position rather than at the start.
func TestKillRepeatedly(t *testing.T) {
	crashtest.Suite(t)
	kills := crashKills(t)
	for _, tc := range []struct {
		name  string
		setup func(t *testing.T) killCase
	}{
		{"file_to_parts", fileToParts},
		{"file_to_postgres_exactly_once", fileToPostgresExactlyOnce},
		{"file_to_postgres_upsert", fileToPostgresUpsert},
		{"jetstream_to_postgres", jetStreamToPostgres},
		{"kafka_to_parts", kafkaToParts},
		{"postgres_mask_jetstream", postgresToJetStream},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := tc.setup(t)
			res := c.p.KillRepeatedly(t, kills)
			c.check(t)
			startedAtSaved(t, res.Rerun)
		})
	}
}

// startedAtSaved fails t unless the run's summary says it started at a
// saved position: a killed run stored rows, so it saved one.
func startedAtSaved(t *testing.T, r crashtest.Result) {
	t.Helper()
	for _, l := range strings.Split(r.Output, "\n") {
		if at, ok := strings.CutPrefix(l, "started at "); ok {
			if strings.HasPrefix(at, "the start") {
				t.Errorf("the last run started at %s, want a position a killed run saved", at)
			}
			return
		}
	}
	t.Errorf("the last run's summary says nowhere where it started:\n%s", r.Output)
}

// orderFiles writes rows orders into 4 JSON Lines files of a new directory
// (the pipelines' ${IN}) and returns it.
func orderFiles(t *testing.T, all []order) string {
	t.Helper()
	in := t.TempDir()
	writeOrderFiles(t, in, 4, all)
	return in
}

// fileToParts: file_to_parts.yaml from 4 files of orders into a part
// directory. A file source resumes where the saved position says, and the
// parts are published with that position (prepared, saved, renamed), so
// the directory holds every order exactly once.
func fileToParts(t *testing.T) killCase {
	want := orders(rows)
	out := filepath.Join(t.TempDir(), "parts")
	return killCase{
		p: crashtest.Pipeline{
			File:  pipelineFile(t, "file_to_parts.yaml"),
			State: t.TempDir(),
			Env:   map[string]string{"IN": orderFiles(t, want), "OUT": out},
			// Batches of 20 rows, each with its checkpoint: with no server
			// on either side a run is otherwise over within milliseconds of
			// a kill point, and partsCounter's pause would let it end before
			// the kill; the checkpoints' fsyncs slow it to a pace the kills
			// can follow.
			Set:    []string{"batch.rows=20", "checkpoint_every=1ns"},
			Rows:   rows,
			Stored: partsCounter(out),
		},
		check: func(t *testing.T) {
			exactlyOnce(t, "part directory", want, orderValues(partsCopies(t, out)))
			noTempParts(t, out)
		},
	}
}

// fileToPostgresExactlyOnce: file_to_postgres_exactly_once.yaml, the same
// files appended to orders_copy with the positions in weave_positions,
// committed in one transaction with the rows: every order exactly once
// although the table has no key.
func fileToPostgresExactlyOnce(t *testing.T) killCase {
	want := orders(rows)
	dsn := pgtest.DB(t)
	conn := pgConn(t, dsn)
	return killCase{
		p: crashtest.Pipeline{
			File:   pipelineFile(t, "file_to_postgres_exactly_once.yaml"),
			State:  t.TempDir(),
			Env:    map[string]string{"IN": orderFiles(t, want), "PG_DSN": dsn},
			Set:    checkpointed,
			Rows:   rows,
			Stored: func(t testing.TB) int { return tableCount(t, conn, "orders_copy") },
		},
		check: func(t *testing.T) {
			exactlyOnce(t, "table orders_copy", want, orderValues(tableCopies(t, dsn, "orders_copy")))
		},
	}
}

// fileToPostgresUpsert: file_to_postgres_upsert.yaml with a fifth file
// holding a second version (a new amount) of the first 500 orders. Each
// batch commits on its own and positions are saved at checkpoints, so a
// kill repeats the batches since the last one; upserting them again
// changes nothing, and the table holds each order once in its last
// version.
func fileToPostgresUpsert(t *testing.T) killCase {
	want := orders(rows)
	in := orderFiles(t, want)
	var b strings.Builder
	for i := range 500 {
		want[i].Amount += 1000
		b.Write(encodeOrder(t, want[i]))
		b.WriteByte('\n')
	}
	writeFile(t, filepath.Join(in, "orders-5.jsonl"), []byte(b.String()))
	dsn := pgtest.DB(t)
	conn := pgConn(t, dsn)
	return killCase{
		p: crashtest.Pipeline{
			File:   pipelineFile(t, "file_to_postgres_upsert.yaml"),
			State:  t.TempDir(),
			Env:    map[string]string{"IN": in, "PG_DSN": dsn},
			Set:    checkpointed,
			Rows:   rows,
			Stored: func(t testing.TB) int { return tableCount(t, conn, "orders_latest") },
		},
		check: func(t *testing.T) {
			got := orderValues(tableCopies(t, dsn, "orders_latest"))
			slices.SortFunc(got, func(a, b order) int { return cmp.Compare(a.ID, b.ID) })
			sameOrders(t, "table orders_latest", want, got)
		},
	}
}

// jetStreamToPostgres: jetstream_to_postgres.yaml with every order in the
// ORDERS stream. The sink is exactly_once, but JetStream decides where a
// run resumes (the durable consumer), not the position committed with the
// rows, and a message is acknowledged only after the transaction holding
// it committed: a kill between the two has the next run store that
// interval again. Every order at least once; the repeats bounded by
// checkRepeatBound, units being the sink's transactions.
func jetStreamToPostgres(t *testing.T) killCase {
	want := orders(rows)
	dsn := pgtest.DB(t)
	conn := pgConn(t, dsn)
	url := startNATS(t)
	_, js := jetStream(t, url)
	createStream(t, js, "ORDERS", "orders.new")
	for _, o := range want {
		if _, err := js.PublishAsync("orders.new", encodeOrder(t, o)); err != nil {
			t.Fatal(err)
		}
	}
	<-js.PublishAsyncComplete()
	var lastTx []string
	return killCase{
		p: crashtest.Pipeline{
			File:  pipelineFile(t, "jetstream_to_postgres.yaml"),
			State: t.TempDir(),
			Env:   map[string]string{"NATS_URL": url, "PG_DSN": dsn},
			// Messages a killed run held come back after ack_wait; the
			// default 30 s would make the last run wait that long.
			Set:    append(checkpointed[:len(checkpointed):len(checkpointed)], "source.nats_jetstream.ack_wait=3s"),
			Finish: []string{"source.nats_jetstream.stop_at_end=true"},
			// The last transaction committed before each kill.
			AfterKill: func(t testing.TB) { lastTx = append(lastTx, lastCommitted(t, conn, "orders_from_stream")) },
			Rows:      rows,
			Stored:    func(t testing.TB) int { return tableCount(t, conn, "orders_from_stream") },
		},
		check: func(t *testing.T) {
			cs := tableCopies(t, dsn, "orders_from_stream")
			atLeastOnce(t, "table orders_from_stream", want, orderValues(cs))
			checkRepeatBound(t, "table orders_from_stream", cs, lastTx)
		},
	}
}

// kafkaToParts: kafka_to_parts.yaml with every order in the orders topic
// (3 partitions). Offsets are committed after the part is published, so a
// kill between the two has the next run write those records into a new
// part: every order at least once, the repeats bounded by
// checkRepeatBound, units being parts (one per checkpoint).
func kafkaToParts(t *testing.T) killCase {
	want := orders(rows)
	broker := startKafka(t, 3, "orders")
	var recs []*kgo.Record
	for _, o := range want {
		recs = append(recs, &kgo.Record{Topic: "orders", Key: []byte(strconv.FormatInt(o.ID, 10)), Value: encodeOrder(t, o)})
	}
	produce(t, broker, recs...)
	out := filepath.Join(t.TempDir(), "parts")
	atKills := &partsAtKills{dir: out}
	return killCase{
		p: crashtest.Pipeline{
			File:  pipelineFile(t, "kafka_to_parts.yaml"),
			State: t.TempDir(),
			Env:   map[string]string{"KAFKA_BROKER": broker, "OUT": out},
			// A killed member keeps its partitions until its session times
			// out; the rerun's join waits that long (startKafka lowers the
			// broker's minimum for this).
			Set:       append(checkpointed[:len(checkpointed):len(checkpointed)], "source.kafka.session_timeout=1s", "source.kafka.heartbeat_interval=300ms"),
			Finish:    []string{"source.kafka.stop_at_end=true"},
			AfterKill: atKills.record,
			Rows:      rows,
			Stored:    partsCounter(out),
		},
		check: func(t *testing.T) {
			cs := partsCopies(t, out)
			atLeastOnce(t, "part directory", want, orderValues(cs))
			checkRepeatBound(t, "part directory", cs, atKills.last(t))
			noTempParts(t, out)
		},
	}
}

// postgresToJetStream: postgres_mask_jetstream.yaml (postgresMaskJetStream)
// with checkpoints behind every batch: the source resumes from the
// position in the state directory, the stream's duplicate window drops
// what a resumed run publishes again (Nats-Msg-Id): every order exactly
// once, in order.
func postgresToJetStream(t *testing.T) killCase {
	f, _, _ := postgresMaskJetStream(t)
	f.p.Set = checkpointed
	return killCase{p: f.p, check: func(t *testing.T) { f.check(t) }}
}

// exactlyOnce fails t unless got holds every order of want exactly once.
func exactlyOnce(t *testing.T, what string, want, got []order) {
	t.Helper()
	if n := atLeastOnce(t, what, want, got); n != 0 {
		t.Errorf("%s: %d orders stored more than once, want every order exactly once", what, n)
	}
}

// tableCopies reads table's orders, each with the transaction that
// inserted it (xmin, the unit of checkpointRepeatBound), in transaction
// order and then by id. The transaction ids of one test database do not
// wrap around.
func tableCopies(t *testing.T, dsn, table string) []copyOf {
	t.Helper()
	ctx := context.Background()
	rows, err := pgConn(t, dsn).Query(ctx, fmt.Sprintf(
		"SELECT xmin::text::bigint AS tx, id, customer, email, country, amount, ts, note FROM %s ORDER BY tx, id", pgx.Identifier{table}.Sanitize()))
	if err != nil {
		t.Fatal(err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (copyOf, error) {
		var (
			c  copyOf
			tx int64
		)
		err := r.Scan(&tx, &c.ID, &c.Customer, &c.Email, &c.Country, &c.Amount, &c.TS, &c.Note)
		c.unit = "tx " + strconv.FormatInt(tx, 10)
		return c, err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// lastCommitted is the unit (tableCopies) of the last transaction that
// inserted rows into table, "" when it has none.
func lastCommitted(t testing.TB, conn *pgx.Conn, table string) string {
	t.Helper()
	var tx *int64
	err := conn.QueryRow(context.Background(), "SELECT max(xmin::text::bigint) FROM "+pgx.Identifier{table}.Sanitize()).Scan(&tx)
	if err != nil {
		t.Fatal(err)
	}
	if tx == nil {
		return ""
	}
	return "tx " + strconv.FormatInt(*tx, 10)
}
