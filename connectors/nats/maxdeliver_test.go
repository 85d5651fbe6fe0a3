package nats

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/dataweaver/dataweaver/connectors/conformance"
	mem "github.com/dataweaver/dataweaver/connectors/inmemory"
	"github.com/dataweaver/dataweaver/engine"
)

// readOne reads one batch and returns its id column as text, its rejects
// and its checkpoint.
func readOne(t *testing.T, src *Source) ([]string, []engine.RowError, engine.Checkpoint) {
	t.Helper()
	b, err := src.Read(context.Background())
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	defer b.Record.Release()
	ids := make([]string, b.Record.NumRows())
	for i := range ids {
		ids[i] = b.Record.Column(0).ValueStr(i)
	}
	return ids, b.Rejects, b.Checkpoint
}

// failedRun stands for a run that read a batch and failed before its
// sinks flushed it: the source is closed, which naks what it read.
func failedRun(t *testing.T, src *Source, want string) {
	t.Helper()
	if _, err := src.Open(context.Background()); err != nil {
		t.Fatal(err)
	}
	ids, rej, _ := readOne(t, src)
	if strings.Join(ids, " ") != want || len(rej) > 0 {
		t.Fatalf("failed run read %q (rejects %v), want %q", ids, rej, want)
	}
	src.Close()
}

// TestMaxDeliverTerminatesPoison: a message whose runs keep failing is
// read max_deliver times; on the next delivery it is a reject with its
// raw bytes, and once that batch is acknowledged the server has
// terminated it (the MSG_TERMINATED advisory says so) and never delivers
// it again, while the messages around it flow as usual.
func TestMaxDeliverTerminatesPoison(t *testing.T) {
	checked := conformance.Checked(t)
	url := startServer(t)
	js := createStream(t, url, "S", "in.>")
	publish(t, js, "in.a", []byte(`{"id": 1}`), []byte(`{"id": 2}`), []byte(`{"id": 3}`))
	conf := fmt.Sprintf("{urls: [%s], stream: S, durable: d, stop_at_end: true, max_deliver: 2, schema: {id: int64}}", q(url))
	// One message a batch, so only message 2 keeps failing.
	src := mustSource(t, conf, conformance.Build(checked, 1, "source"))
	ctx := context.Background()

	if _, err := src.Open(ctx); err != nil {
		t.Fatal(err)
	}
	ids, _, cp := readOne(t, src)
	if err := src.Ack(ctx, cp); err != nil || strings.Join(ids, " ") != "1" {
		t.Fatalf("first batch %q, ack %v", ids, err)
	}
	if ids, _, _ := readOne(t, src); strings.Join(ids, " ") != "2" {
		t.Fatalf("second batch %q", ids)
	}
	src.Close() // delivery 1 of message 2 failed
	failedRun(t, src, "2")

	nc, err := nats.Connect(url)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	adv, err := nc.SubscribeSync("$JS.EVENT.ADVISORY.CONSUMER.MSG_TERMINATED.S.d")
	if err != nil {
		t.Fatal(err)
	}
	if err := nc.Flush(); err != nil {
		t.Fatal(err)
	}

	if _, err := src.Open(ctx); err != nil {
		t.Fatal(err)
	}
	ids, rej, cp := readOne(t, src)
	if len(ids) != 0 || len(rej) != 1 {
		t.Fatalf("third delivery: rows %q, rejects %v; want no rows and one reject", ids, rej)
	}
	r := rej[0]
	if r.Row != 0 || r.File != "in.a" || r.Line != 2 || string(r.Raw) != `{"id": 2}` || !errors.Is(r.Err, ErrMaxDeliver) ||
		!strings.Contains(r.Err.Error(), "delivered 3 times, max_deliver is 2") {
		t.Fatalf("reject = {row %d, %s:%d, %q, %v}", r.Row, r.File, r.Line, r.Raw, r.Err)
	}
	if err := src.Ack(ctx, cp); err != nil {
		t.Fatal(err)
	}
	m, err := adv.NextMsg(10 * time.Second)
	if err != nil {
		t.Fatalf("no MSG_TERMINATED advisory: %v", err)
	}
	var a struct {
		StreamSeq  uint64 `json:"stream_seq"`
		Deliveries uint64 `json:"deliveries"`
		Reason     string `json:"reason"`
	}
	if err := json.Unmarshal(m.Data, &a); err != nil || a.StreamSeq != 2 || a.Deliveries != 3 || a.Reason != termReason {
		t.Fatalf("advisory %s (%v): want stream_seq 2, deliveries 3, reason %q", m.Data, err, termReason)
	}
	if ids, rej, cp := readOne(t, src); strings.Join(ids, " ") != "3" || len(rej) > 0 {
		t.Fatalf("after the poison message: %q %v", ids, rej)
	} else if err := src.Ack(ctx, cp); err != nil {
		t.Fatal(err)
	}
	if _, err := src.Read(ctx); !errors.Is(err, engine.ErrEndOfInput) {
		t.Fatalf("after everything was handled: %v, want end of input", err)
	}
	src.Close()

	// Terminated is final: a new run finds nothing to read.
	if _, err := src.Open(ctx); err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	if _, err := src.Read(ctx); !errors.Is(err, engine.ErrEndOfInput) {
		t.Fatalf("new run: %v, want end of input", err)
	}
	info, err := src.cons.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if info.NumAckPending != 0 || info.NumRedelivered != 0 || info.NumPending != 0 {
		t.Fatalf("consumer: %d pending acks, %d redelivered, %d undelivered; want none", info.NumAckPending, info.NumRedelivered, info.NumPending)
	}
}

// TestMaxDeliverInABatch: poison messages, a malformed one and good ones
// in one batch: each reject names its own place in the batch, and a batch
// of poison messages only is a batch of no rows.
func TestMaxDeliverInABatch(t *testing.T) {
	checked := conformance.Checked(t)
	url := startServer(t)
	js := createStream(t, url, "S", "in.>")
	publish(t, js, "in.a", []byte(`{"id": 1}`), []byte(`{"id": 2}`), []byte(`{"id": oops}`), []byte(`{"id": 4}`))
	conf := fmt.Sprintf("{urls: [%s], stream: S, durable: d, stop_at_end: true, max_deliver: 1, schema: {id: int64}}", q(url))
	ctx := context.Background()
	// Messages 1 and 2 fail once.
	failedRun(t, mustSource(t, conf, conformance.Build(checked, 2, "source")), "1 2")

	src := mustSource(t, conf, conformance.Build(checked, 10, "source"))
	if _, err := src.Open(ctx); err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	ids, rej, cp := readOne(t, src)
	if strings.Join(ids, " ") != "4" {
		t.Errorf("rows %q, want 4", ids)
	}
	want := []struct {
		row   int
		seq   int64
		raw   string
		limit bool
	}{{0, 1, `{"id": 1}`, true}, {1, 2, `{"id": 2}`, true}, {2, 3, `{"id": oops}`, false}}
	if len(rej) != len(want) {
		t.Fatalf("rejects %v, want %d", rej, len(want))
	}
	for i, w := range want {
		r := rej[i]
		if r.Row != w.row || r.Line != w.seq || string(r.Raw) != w.raw || errors.Is(r.Err, ErrMaxDeliver) != w.limit {
			t.Errorf("reject %d = {row %d, seq %d, %q, %v}, want row %d, seq %d, %q, max_deliver %v", i, r.Row, r.Line, r.Raw, r.Err, w.row, w.seq, w.raw, w.limit)
		}
	}
	if err := src.Ack(ctx, cp); err != nil {
		t.Fatal(err)
	}
	if _, err := src.Read(ctx); !errors.Is(err, engine.ErrEndOfInput) {
		t.Fatalf("after the batch was acked: %v, want end of input", err)
	}
	src.Close()

	// All of a batch over the limit: no rows, every message rejected.
	publish(t, js, "in.a", []byte(`{"id": 5}`), []byte(`{"id": 6}`))
	failedRun(t, mustSource(t, conf, conformance.Build(checked, 10, "source")), "5 6")
	if _, err := src.Open(ctx); err != nil {
		t.Fatal(err)
	}
	ids, rej, cp = readOne(t, src)
	if len(ids) != 0 || len(rej) != 2 || !errors.Is(rej[1].Err, ErrMaxDeliver) || rej[1].Line != 6 {
		t.Fatalf("rows %q, rejects %v; want none and two over max_deliver", ids, rej)
	}
	if err := src.Ack(ctx, cp); err != nil {
		t.Fatal(err)
	}
}

// TestMaxDeliverDeadLetters: in a pipeline with on_error: dead_letter, a
// message over max_deliver reaches the dead-letter sink with its raw
// bytes, subject and sequence, and the run goes on with the others.
func TestMaxDeliverDeadLetters(t *testing.T) {
	checked := conformance.Checked(t)
	url := startServer(t)
	js := createStream(t, url, "S", "in.>")
	publish(t, js, "in.a", []byte(`{"id": 1}`), []byte(`{"id": 2}`))
	failedRun(t, mustSource(t, fmt.Sprintf("{urls: [%s], stream: S, durable: d, schema: {id: int64}}", q(url)),
		conformance.Build(checked, 1, "source")), "1")

	m := conformance.RunPipeline(t, checked, fmt.Sprintf(`
source:
  nats_jetstream: {urls: [%s], stream: S, durable: d, stop_at_end: true, max_deliver: 1, schema: {id: int64}}
  on_error: dead_letter
sinks:
  - memory: {name: maxdeliver-out}
dead_letter:
  memory: {name: maxdeliver-dlq}
`, q(url)))
	if got := m.Steps[0].DeadLettered.Load(); got != 1 {
		t.Errorf("dead-lettered %d rows, want 1", got)
	}
	out, dlq := mem.Lookup("maxdeliver-out"), mem.Lookup("maxdeliver-dlq")
	defer out.Release()
	defer dlq.Release()
	var got []string
	for _, r := range out.Records() {
		for i := range int(r.NumRows()) {
			got = append(got, r.Column(0).ValueStr(i))
		}
	}
	if strings.Join(got, " ") != "2" {
		t.Errorf("rows %q, want 2", got)
	}
	recs := dlq.Records()
	if len(recs) != 1 || recs[0].NumRows() != 1 {
		t.Fatalf("dead letters: %v", recs)
	}
	d := recs[0]
	col := func(name string) string { return d.Column(d.Schema().FieldIndices(name)[0]).ValueStr(0) }
	if col("file") != "in.a" || col("line") != "1" || col("record") != `{"id": 1}` || !strings.Contains(col("error"), "max_deliver is 1") {
		t.Errorf("dead letter = file %s, line %s, record %s, error %s", col("file"), col("line"), col("record"), col("error"))
	}
}
