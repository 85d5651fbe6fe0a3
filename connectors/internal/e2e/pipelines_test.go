package e2e

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/dataweaver/dataweaver/connectors/conformance"
	"github.com/dataweaver/dataweaver/internal/crashtest"
	"github.com/dataweaver/dataweaver/internal/pgtest"
	"github.com/dataweaver/dataweaver/internal/wasmtest"
)

// rows is each test's input size.
const rows = 10_007

// smallBatches gives each run about a hundred batches, so a kill drawn at
// up to half the input lands with dozens of batches still to come.
const smallBatches = "batch.rows=100"

// fixture is one pipeline file of testdata/pipelines with its systems
// started and its input in place.
type fixture struct {
	p crashtest.Pipeline
	// check fails t unless the destination holds every input row, value by
	// value (exactly once where the sink de-duplicates), once a run has
	// ended normally.
	check func(t *testing.T)
}

// pipelineFile is the path of a file of testdata/pipelines.
func pipelineFile(t *testing.T, name string) string {
	t.Helper()
	root, err := wasmtest.Root()
	if err != nil {
		t.Fatal(err)
	}
	return filepath.Join(root, "testdata", "pipelines", name)
}

// postgresMaskJetStream: postgres_mask_jetstream.yaml with an orders table
// of rows rows and an empty ORDERS_MASKED stream. The stream must then
// hold every order exactly once (Nats-Msg-Id is the order id, inside the
// stream's duplicate window), masked, in id order.
func postgresMaskJetStream(t *testing.T) (fixture, func(n int), jetstream.JetStream) {
	checked := conformance.Checked(t)
	dsn := pgtest.DB(t)
	url := startNATS(t)
	_, js := jetStream(t, url)
	createStream(t, js, "ORDERS_MASKED", "orders.masked")
	fill := func(n int) {
		conformance.RunPipeline(t, checked, fmt.Sprintf(`
source: {generate: {preset: orders, rows: %d}}
sinks: [{postgres: {dsn: %q, table: orders, create_table: true, mode: upsert, key: [id]}}]
`, n, dsn))
	}
	fill(rows)
	f := fixture{
		p: crashtest.Pipeline{
			State:  t.TempDir(),
			File:   pipelineFile(t, "postgres_mask_jetstream.yaml"),
			Env:    map[string]string{"PG_DSN": dsn, "NATS_URL": url, "WASM": wasmDir},
			Set:    []string{smallBatches},
			Finish: []string{"source.postgres.stop_at_end=true"},
			Rows:   rows,
			Stored: func(t testing.TB) int { return streamCount(t, js, "ORDERS_MASKED") },
		},
		check: func(t *testing.T) {
			var want []order
			for _, o := range orders(rows) {
				want = append(want, masked(o))
			}
			sameOrders(t, "stream ORDERS_MASKED", want, streamOrders(t, js))
		},
	}
	return f, fill, js
}

// streamOrders reads ORDERS_MASKED, checking each message's Nats-Msg-Id.
func streamOrders(t *testing.T, js jetstream.JetStream) []order {
	t.Helper()
	var got []order
	for _, msg := range streamMsgs(t, js, "ORDERS_MASKED") {
		o := decodeOrder(t, msg.Data())
		if id := msg.Headers().Get(jetstream.MsgIDHeader); id != strconv.FormatInt(o.ID, 10) {
			t.Fatalf("order %d published with Nats-Msg-Id %q", o.ID, id)
		}
		got = append(got, o)
	}
	return got
}

// jetStreamToKafka: jetstream_to_kafka.yaml with rows masked orders in
// ORDERS_MASKED, and half-way one message no schema can read. The
// orders.masked topic must then hold every order at least once (Kafka
// keeps what a killed run stored and the rerun sends again: the
// idempotent producer de-duplicates within one producer session only),
// keyed by id, and orders.rejected the bad message.
func jetStreamToKafka(t *testing.T) (fixture, jetstream.JetStream) {
	url := startNATS(t)
	broker := startKafka(t, 3, "orders.masked", "orders.rejected")
	_, js := jetStream(t, url)
	createStream(t, js, "ORDERS_MASKED", "orders.masked")
	var want []order
	ctx := context.Background()
	for i, o := range orders(rows) {
		o = masked(o)
		want = append(want, o)
		if _, err := js.PublishAsync("orders.masked", encodeOrder(t, o)); err != nil {
			t.Fatal(err)
		}
		if i == rows/2 {
			if _, err := js.Publish(ctx, "orders.masked", []byte(`{"id": "seven", "amount": 1}`)); err != nil {
				t.Fatal(err)
			}
		}
	}
	<-js.PublishAsyncComplete()
	topic := topicCounter(t, broker, "orders.masked")
	f := fixture{
		p: crashtest.Pipeline{
			State: t.TempDir(),
			File:  pipelineFile(t, "jetstream_to_kafka.yaml"),
			Env:   map[string]string{"NATS_URL": url, "KAFKA_BROKER": broker},
			// Messages a killed run held come back after ack_wait; the
			// default 30 s would make the rerun wait that long.
			Set:    []string{smallBatches, "source.nats_jetstream.ack_wait=2s"},
			Finish: []string{"source.nats_jetstream.stop_at_end=true"},
			Rows:   rows,
			Stored: topic,
		},
		check: func(t *testing.T) {
			var got []order
			for _, rec := range topicRecords(t, broker, "orders.masked") {
				o := decodeOrder(t, rec.Value)
				if string(rec.Key) != strconv.FormatInt(o.ID, 10) {
					t.Fatalf("order %d has key %q", o.ID, rec.Key)
				}
				got = append(got, o)
			}
			repeats := atLeastOnce(t, "topic orders.masked", want, got)
			t.Logf("%d orders, %d repeated (stored by the first run, not acknowledged)", rows, repeats)
			checkDeadLetter(t, deadLetters(t, broker), "source.nats_jetstream", "orders.masked", rows/2+2, `{"id": "seven", "amount": 1}`)
		},
	}
	return f, js
}

// kafkaToPostgresUpsert: kafka_to_postgres_upsert.yaml with a topic of
// every order, then a second version of the first 500 (a new amount),
// then one record that does not decode. The orders_masked table must then
// hold each order exactly once in its last version, and orders_rejected
// the bad record.
func kafkaToPostgresUpsert(t *testing.T) fixture {
	dsn := pgtest.DB(t)
	broker := startKafka(t, 3, "orders.masked")
	want := orders(rows)
	var recs []*kgo.Record
	add := func(o order) {
		recs = append(recs, &kgo.Record{Topic: "orders.masked", Key: []byte(strconv.FormatInt(o.ID, 10)), Value: encodeOrder(t, o)})
	}
	for _, o := range want {
		add(o)
	}
	for i := range 500 {
		want[i].Amount += 1000
		add(want[i])
	}
	// Produced last and unkeyed, so at an offset past 0 of whichever
	// partition the producer picks (ProduceSync fills both in).
	bad := &kgo.Record{Topic: "orders.masked", Value: []byte(`{"id": 1, "amount": "lots"}`)}
	recs = append(recs, bad)
	produce(t, broker, recs...)
	conn := pgConn(t, dsn)
	return fixture{
		p: crashtest.Pipeline{
			State: t.TempDir(),
			File:  pipelineFile(t, "kafka_to_postgres_upsert.yaml"),
			Env:   map[string]string{"PG_DSN": dsn, "KAFKA_BROKER": broker},
			// The killed run's member keeps its partitions until its
			// session times out, and the rerun's join waits for that: a
			// second here (startKafka lowers the broker's minimum).
			Set:    []string{smallBatches, "source.kafka.session_timeout=1s", "source.kafka.heartbeat_interval=300ms"},
			Finish: []string{"source.kafka.stop_at_end=true"},
			Rows:   rows,
			Stored: func(t testing.TB) int { return tableCount(t, conn, "orders_masked") },
		},
		check: func(t *testing.T) {
			sameOrders(t, "table orders_masked", want, tableOrders(t, pgConn(t, dsn), "orders_masked"))
			checkDeadLetter(t, tableDeadLetters(t, dsn), "source.kafka", fmt.Sprintf("orders.masked/%d", bad.Partition), bad.Offset, string(bad.Value))
		},
	}
}

// TestKillPostgresMaskJetStream kills postgres_mask_jetstream.yaml
// part-way and runs it again. The Postgres source resumes from the
// position the killed run saved in the state directory (none if it was
// killed before its first checkpoint), so the rerun reads only the rows
// after it; the stream's duplicate window drops what the killed run had
// published past the position: every order exactly once.
//
// A third run, over the same state, reads only the orders added since:
// the position saved at the end of the rerun is where it starts. A fourth
// run with a fresh state directory and source.postgres.start (the position
// a user keeps; it applies only when no position is saved) reads them
// again, and the stream drops them as duplicates.
func TestKillPostgresMaskJetStream(t *testing.T) {
	f, fill, js := postgresMaskJetStream(t)
	// A checkpoint behind every batch, so the killed run has most likely
	// saved a position (the file's checkpoint_every is 1s).
	f.p.Set = checkpointed
	c := f.p.KillAndRerun(t)
	from := startCursor(t, c.Rerun)
	t.Logf("the rerun started after id %d", from)
	if from > int64(c.Killed) {
		t.Errorf("the rerun started after id %d, but the killed run had published only %d orders: the position ran ahead of the sink", from, c.Killed)
	}
	if got := c.Rerun.Steps[0].RowsOut; got != rows-from {
		t.Errorf("the rerun read %d rows, want the %d after the saved position (cursor id > %d)", got, rows-from, from)
	}
	f.check(t)

	const more = 100
	fill(rows + more)
	third := f.p.Run(t)
	if got := third.Steps[0].RowsOut; got != more {
		t.Errorf("third run read %d rows, want the %d added", got, more)
	}
	if from := startCursor(t, third); from != rows {
		t.Errorf("third run started after id %d, want %d (the end of the rerun)", from, rows)
	}
	fresh := f.p
	fresh.State = t.TempDir()
	if got := fresh.Run(t, fmt.Sprintf("source.postgres.start=%q", strconv.Itoa(rows))).Steps[0].RowsOut; got != more {
		t.Errorf("a run with a fresh state directory and start %d read %d rows, want %d", rows, got, more)
	}
	var want []order
	for _, o := range orders(rows + more) {
		want = append(want, masked(o))
	}
	sameOrders(t, "stream ORDERS_MASKED after the third and fourth runs", want, streamOrders(t, js))
}

// startCursor is the id a run of postgres_mask_jetstream.yaml started
// after, from its summary ("started at cursor id > 120"); 0 for a run that
// started at the start.
func startCursor(t *testing.T, r crashtest.Result) int64 {
	t.Helper()
	for _, l := range strings.Split(r.Output, "\n") {
		at, ok := strings.CutPrefix(l, "started at ")
		if !ok {
			continue
		}
		if strings.HasPrefix(at, "the start") {
			return 0
		}
		id, ok := strings.CutPrefix(at, "cursor id > ")
		if !ok {
			t.Fatalf("run started at %q, want a cursor position", at)
		}
		n, err := strconv.ParseInt(id, 10, 64)
		if err != nil {
			t.Fatalf("run started at %q: %v", at, err)
		}
		return n
	}
	t.Fatalf("the run's summary says nowhere where it started:\n%s", r.Output)
	return 0
}

// TestKillJetStreamToKafka kills jetstream_to_kafka.yaml part-way and runs
// it again: every order reaches the topic at least once. The durable
// consumer then has nothing pending or unacknowledged, and a third run
// reads nothing and adds nothing to the topic.
func TestKillJetStreamToKafka(t *testing.T) {
	f, js := jetStreamToKafka(t)
	f.p.KillAndRerun(t)
	f.check(t)

	if info := consumerInfo(t, js); info.NumPending != 0 || info.NumAckPending != 0 {
		t.Errorf("after the rerun the durable consumer has %d messages pending and %d unacknowledged, want 0 and 0", info.NumPending, info.NumAckPending)
	}
	before := f.p.Stored(t)
	if n := f.p.Run(t).Steps[0].RowsOut; n != 0 {
		t.Errorf("third run read %d rows, want 0", n)
	}
	if n := f.p.Stored(t); n != before {
		t.Errorf("third run changed the topic: %d records, was %d", n, before)
	}
}

// TestKillKafkaToPostgresUpsert kills kafka_to_postgres_upsert.yaml
// part-way and runs it again: the table holds each order exactly once, in
// its last version, whatever the group read twice. A third run reads
// nothing (the group's committed offsets are at the end).
func TestKillKafkaToPostgresUpsert(t *testing.T) {
	f := kafkaToPostgresUpsert(t)
	f.p.KillAndRerun(t)
	f.check(t)
	if n := f.p.Run(t).Steps[0].RowsOut; n != 0 {
		t.Errorf("third run read %d rows, want 0", n)
	}
}

// consumerInfo is the state of jetstream_to_kafka.yaml's durable consumer.
func consumerInfo(t *testing.T, js jetstream.JetStream) *jetstream.ConsumerInfo {
	t.Helper()
	cons, err := js.Consumer(context.Background(), "ORDERS_MASKED", "weave-to-kafka")
	if err != nil {
		t.Fatal(err)
	}
	return cons.CachedInfo()
}

// deadLetter is a row of the engine's dead-letter schema.
type deadLetter struct {
	Step, Error, File string
	Line              int64
	Record            string
}

// deadLetters reads the orders.rejected topic (JSON dead-letter rows).
func deadLetters(t *testing.T, broker string) []deadLetter {
	t.Helper()
	var out []deadLetter
	for _, rec := range topicRecords(t, broker, "orders.rejected") {
		var d deadLetter
		if err := json.Unmarshal(rec.Value, &d); err != nil {
			t.Fatalf("dead letter %q: %v", rec.Value, err)
		}
		out = append(out, d)
	}
	return out
}

// checkDeadLetter: the one bad input arrived at least once, every copy
// naming where it was read and holding its raw bytes.
func checkDeadLetter(t *testing.T, got []deadLetter, step, file string, line int64, raw string) {
	t.Helper()
	if len(got) == 0 {
		t.Fatalf("no dead letter, want the bad message %s", raw)
	}
	for _, d := range got {
		if d.Step != step || d.File != file || d.Line != line || d.Record != raw || d.Error == "" {
			t.Errorf("dead letter %+v, want step %s, %s:%d, record %s", d, step, file, line, raw)
		}
	}
}

// pgConn is a connection of the test's own, closed when t ends.
func pgConn(t *testing.T, dsn string) *pgx.Conn {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(ctx) })
	return conn
}

// tableCount is how many rows table holds; 0 before the sink created it.
func tableCount(t testing.TB, conn *pgx.Conn, table string) int {
	t.Helper()
	var n int
	err := conn.QueryRow(context.Background(), "SELECT count(*) FROM "+pgx.Identifier{table}.Sanitize()).Scan(&n)
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "42P01" { // undefined_table
		return 0
	}
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// tableOrders reads an orders table in id order.
func tableOrders(t *testing.T, conn *pgx.Conn, table string) []order {
	t.Helper()
	rows, err := conn.Query(context.Background(), "SELECT id, customer, email, country, amount, ts, note FROM "+table+" ORDER BY id")
	if err != nil {
		t.Fatal(err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (order, error) {
		var o order
		err := r.Scan(&o.ID, &o.Customer, &o.Email, &o.Country, &o.Amount, &o.TS, &o.Note)
		return o, err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// tableDeadLetters reads orders_rejected.
func tableDeadLetters(t *testing.T, dsn string) []deadLetter {
	t.Helper()
	rows, err := pgConn(t, dsn).Query(context.Background(), "SELECT step, error, file, line, record FROM orders_rejected")
	if err != nil {
		t.Fatal(err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (deadLetter, error) {
		var (
			d    deadLetter
			line *int64 // null for offset 0; the bad record is never there
		)
		err := r.Scan(&d.Step, &d.Error, &d.File, &line, &d.Record)
		if line != nil {
			d.Line = *line
		}
		return d, err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}
