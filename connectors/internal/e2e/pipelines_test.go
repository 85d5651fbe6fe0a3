package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/dataweaver/dataweaver/connectors/conformance"
	"github.com/dataweaver/dataweaver/connectors/internal/pgtest"
)

// rows is each test's input size: ten 1,000-row batches and a partial one.
const rows = 10_007

// crashAt is where the first run of each test crashes (in rows stored by
// the sink): a third of the way.
const crashAt = 3_000

// TestPostgresMaskJetStream: postgres_mask_jetstream.yaml copies an
// orders table into a JetStream stream with names and addresses masked by
// the Wasm stage. The first run crashes; the second reads the table again
// from the start (the Postgres source keeps no position across processes)
// and the stream's duplicate window drops what the first had stored, so
// the stream holds every order exactly once, in id order. A third run
// started where the second left off (start: its last checkpoint) copies
// only the orders added since.
func TestPostgresMaskJetStream(t *testing.T) {
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

	r := run{
		file: "postgres_mask_jetstream.yaml",
		vars: map[string]string{"PG_DSN": dsn, "NATS_URL": url, "WASM": wasmDir},
		set:  []string{"source.postgres.stop_at_end=true"},
	}
	crash := r
	crash.crashAfter = crashAt
	stored := crash.crashes(t, checked)
	if n := streamCount(t, js, "ORDERS_MASKED"); n != stored || n >= rows {
		t.Fatalf("after the crash the stream holds %d messages, want the %d the sink stored (fewer than %d)", n, stored, rows)
	}

	m := r.mustRun(t, checked)
	if got := m.Steps[0].RowsOut.Load(); got != rows {
		t.Errorf("second run read %d rows, want the whole table (%d)", got, rows)
	}
	var got []order
	for _, msg := range streamMsgs(t, js, "ORDERS_MASKED") {
		o := decodeOrder(t, msg.Data())
		if id := msg.Headers().Get(jetstream.MsgIDHeader); id != strconv.FormatInt(o.ID, 10) {
			t.Fatalf("order %d published with Nats-Msg-Id %q", o.ID, id)
		}
		got = append(got, o)
	}
	var want []order
	for _, o := range orders(rows) {
		want = append(want, masked(o))
	}
	sameOrders(t, "stream ORDERS_MASKED", want, got)

	const more = 100
	fill(rows + more)
	next := r
	next.set = append(next.set, fmt.Sprintf("source.postgres.start=%q", strconv.Itoa(rows)))
	if n := next.mustRun(t, checked).Steps[0].RowsOut.Load(); n != more {
		t.Errorf("third run read %d rows, want the %d added", n, more)
	}
	got = got[:0]
	for _, msg := range streamMsgs(t, js, "ORDERS_MASKED") {
		got = append(got, decodeOrder(t, msg.Data()))
	}
	for _, o := range orders(rows + more)[rows:] {
		want = append(want, masked(o))
	}
	sameOrders(t, "stream ORDERS_MASKED after the third run", want, got)
}

// TestJetStreamToKafka: jetstream_to_kafka.yaml moves the masked orders
// from a durable consumer into a Kafka topic keyed by id, and a message
// that does not decode into the orders.rejected topic. The first run
// crashes after Kafka stored a third of the orders; the second delivers
// the rest — and again what the crash left unacknowledged, which Kafka
// then holds twice (at-least-once: the idempotent producer de-duplicates
// within one producer session only). A third run has nothing to read.
func TestJetStreamToKafka(t *testing.T) {
	checked := conformance.Checked(t)
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
			// Half-way, one message no schema can read.
			if _, err := js.Publish(ctx, "orders.masked", []byte(`{"id": "seven", "amount": 1}`)); err != nil {
				t.Fatal(err)
			}
		}
	}
	<-js.PublishAsyncComplete()

	r := run{
		file: "jetstream_to_kafka.yaml",
		vars: map[string]string{"NATS_URL": url, "KAFKA_BROKER": broker},
		set:  []string{"source.nats_jetstream.stop_at_end=true"},
	}
	crash := r
	crash.crashAfter = crashAt
	stored := crash.crashes(t, checked)
	if n := topicCount(t, broker, "orders.masked"); n != stored || n >= rows {
		t.Fatalf("after the crash the topic holds %d records, want the %d the sink stored (fewer than %d)", n, stored, rows)
	}

	r.mustRun(t, checked)
	var got []order
	for _, rec := range topicRecords(t, broker, "orders.masked") {
		o := decodeOrder(t, rec.Value)
		if string(rec.Key) != strconv.FormatInt(o.ID, 10) {
			t.Fatalf("order %d has key %q", o.ID, rec.Key)
		}
		got = append(got, o)
	}
	repeats := atLeastOnce(t, "topic orders.masked", want, got)
	t.Logf("%d orders, %d of them twice (stored before the crash, not yet acknowledged)", rows, repeats)
	if repeats == 0 {
		t.Errorf("no order arrived twice: the crash left no batch stored and unacknowledged, so it tested nothing")
	}
	checkDeadLetter(t, deadLetters(t, broker), "source.nats_jetstream", "orders.masked", rows/2+2, `{"id": "seven", "amount": 1}`)

	// Everything was acknowledged: a third run reads nothing.
	m := r.mustRun(t, checked)
	if n := m.Steps[0].RowsOut.Load(); n != 0 {
		t.Errorf("third run read %d rows, want 0", n)
	}
	if n := topicCount(t, broker, "orders.masked"); n != len(got) {
		t.Errorf("third run changed the topic: %d records, was %d", n, len(got))
	}
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

// TestKafkaToPostgresUpsert: kafka_to_postgres_upsert.yaml upserts the
// topic's orders into a table. The topic holds every order and then a
// second version of the first 500 (a new amount); a record that does not
// decode lands in the orders_rejected table. The first run crashes; after
// the second the table holds each order exactly once, in its last
// version, whatever the crash made the group read twice. A third run has
// nothing to read.
func TestKafkaToPostgresUpsert(t *testing.T) {
	checked := conformance.Checked(t)
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

	r := run{
		file: "kafka_to_postgres_upsert.yaml",
		vars: map[string]string{"PG_DSN": dsn, "KAFKA_BROKER": broker},
		set:  []string{"source.kafka.stop_at_end=true"},
	}
	crash := r
	crash.crashAfter = crashAt
	stored := crash.crashes(t, checked)
	if n := len(tableOrders(t, dsn)); n == 0 || n > stored || n >= rows {
		t.Fatalf("after the crash the table holds %d orders, want 1 to %d (what the sink stored, fewer than %d)", n, stored, rows)
	}

	r.mustRun(t, checked)
	got := tableOrders(t, dsn)
	sameOrders(t, "table orders_masked", want, got)

	checkDeadLetter(t, tableDeadLetters(t, dsn), "source.kafka", fmt.Sprintf("orders.masked/%d", bad.Partition), bad.Offset, string(bad.Value))

	m := r.mustRun(t, checked)
	if n := m.Steps[0].RowsOut.Load(); n != 0 {
		t.Errorf("third run read %d rows, want 0", n)
	}
}

// tableOrders reads orders_masked in id order.
func tableOrders(t *testing.T, dsn string) []order {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	rows, err := conn.Query(ctx, "SELECT id, customer, email, country, amount, ts, note FROM orders_masked ORDER BY id")
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
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	rows, err := conn.Query(ctx, "SELECT step, error, file, line, record FROM orders_rejected")
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
