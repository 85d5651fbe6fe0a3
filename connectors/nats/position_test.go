package nats

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/dataweaver/dataweaver/connectors/conformance"
	_ "github.com/dataweaver/dataweaver/connectors/discard"
	_ "github.com/dataweaver/dataweaver/connectors/file"
	"github.com/dataweaver/dataweaver/engine"
	"github.com/dataweaver/dataweaver/engine/position"
)

func TestCheckpointText(t *testing.T) {
	for _, tc := range []struct {
		seq  uint64
		want string
	}{
		{0, "stream ORDERS seq 0"},
		{999, "stream ORDERS seq 999"},
		{1234, "stream ORDERS seq 1,234"},
		{1234567, "stream ORDERS seq 1,234,567"},
		{100000, "stream ORDERS seq 100,000"},
	} {
		if got := (checkpoint{Stream: "ORDERS", StreamSeq: tc.seq, Batch: 3}).String(); got != tc.want {
			t.Errorf("%d: %q, want %q", tc.seq, got, tc.want)
		}
	}
}

// TestResumeOnlyReports: the position the engine saved from a batch's
// checkpoint (JSON) is taken back by Resume without moving the consumer:
// a durable consumer ahead of it goes on from where it stands, and
// the log says where both are. A position of another source is refused.
func TestResumeOnlyReports(t *testing.T) {
	checked := conformance.Checked(t)
	url := startServer(t)
	js := createStream(t, url, "ORDERS", "orders.>")
	publishIDs(t, js, "orders.new", 6)
	conf := fmt.Sprintf("{urls: [%s], stream: ORDERS, durable: d, stop_at_end: true, schema: {id: int64}}", q(url))
	ctx := context.Background()

	// A first run reads and acknowledges 1-2, then 3-4; the position
	// saved is the first batch's (the run died before it saved the
	// second), so the durable is ahead of it.
	src := mustSource(t, conf, conformance.Build(checked, 2, "source"))
	if _, err := src.Open(ctx); err != nil {
		t.Fatal(err)
	}
	var saved []byte
	for i := range 2 {
		b, err := src.Read(ctx)
		if err != nil {
			t.Fatal(err)
		}
		b.Record.Release()
		if err := src.Ack(ctx, b.Checkpoint); err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			if saved, err = json.Marshal(b.Checkpoint); err != nil {
				t.Fatal(err)
			}
			if s := fmt.Sprint(b.Checkpoint); s != "stream ORDERS seq 2" {
				t.Errorf("checkpoint reads %q", s)
			}
		}
	}
	src.Close()

	var log logBuffer
	b := conformance.Build(checked, 10, "source")
	b.Logger = log.logger().With("step", b.Name)
	src = mustSource(t, conf, b)
	if err := src.Resume(saved); err != nil {
		t.Fatalf("resume from %s: %v", saved, err)
	}
	recs := conformance.ReadAll(t, src, 10, false)
	defer conformance.Release(recs)
	counts := idCounts(recs)
	if len(counts) != 2 || counts[5] != 1 || counts[6] != 1 {
		t.Errorf("after resume read ids %v, want 5 and 6 (the durable's position, not the saved one)", counts)
	}
	log.wantLogged(t, "resuming where the durable consumer stands", `saved="stream ORDERS seq 2"`, `durable_ack_floor="stream ORDERS seq 4"`)

	for _, bad := range []string{`{"file": "orders.csv", "row": 3}`, `[1, 2]`, `{"batch": 3}`, `not json`} {
		err := mustSource(t, conf, conformance.Build(checked, 10, "source")).Resume([]byte(bad))
		if err == nil || !strings.Contains(err.Error(), "is not a nats_jetstream position") {
			t.Errorf("Resume(%s): %v, want a refusal", bad, err)
		}
	}
	var _ engine.Resumer = src
}

// TestPositionsThroughPipeline: run through engine.Pipeline with a state
// directory, the source's checkpoint is saved as JSON and shown as
// "stream ORDERS seq N"; the next run gets it through Resume and reads
// from where the durable consumer stands, also when the durable has moved
// ahead of the saved position (another client acknowledged further).
func TestPositionsThroughPipeline(t *testing.T) {
	checked := conformance.Checked(t)
	url := startServer(t)
	js := createStream(t, url, "ORDERS", "orders.>")
	publishIDs(t, js, "orders.new", 100)
	state := t.TempDir()
	text := fmt.Sprintf(`
batch: {rows: 30, linger: 20ms}
source:
  nats_jetstream: {urls: [%s], stream: ORDERS, durable: d, stop_at_end: true, schema: {id: int64}}
sinks:
  - discard: {}
`, q(url))
	run := func() *engine.Metrics {
		t.Helper()
		return conformance.RunPipelineIn(t, checked, text, state)
	}
	saved := func() (position.Record, checkpoint) {
		t.Helper()
		rec := conformance.SavedPosition(t, state, "t")
		var cp checkpoint
		if err := json.Unmarshal(rec.Source, &cp); err != nil {
			t.Fatal(err)
		}
		return rec, cp
	}

	if m := run(); m.Steps[0].RowsOut.Load() != 100 {
		t.Fatalf("first run read %d rows, want 100", m.Steps[0].RowsOut.Load())
	}
	if rec, cp := saved(); rec.Text != "stream ORDERS seq 100" || cp.Stream != "ORDERS" || cp.StreamSeq != 100 {
		t.Errorf("saved %q (%s), want stream ORDERS seq 100", rec.Text, rec.Source)
	}

	// The durable moves ahead of the saved position: 20 new messages, of
	// which another client of the same durable acknowledges the first 10.
	for i := 101; i <= 120; i++ {
		publish(t, js, "orders.new", fmt.Appendf(nil, `{"id": %d}`, i))
	}
	ackNext(t, js, "ORDERS", "d", 10)
	m := run()
	if !m.Resumed || m.Steps[0].RowsOut.Load() != 10 {
		t.Errorf("second run: resumed %v, read %d rows; want a resumed run reading the 10 messages after the durable's",
			m.Resumed, m.Steps[0].RowsOut.Load())
	}
	if rec, _ := saved(); rec.Text != "stream ORDERS seq 120" {
		t.Errorf("saved %q after the second run, want stream ORDERS seq 120", rec.Text)
	}
}

// ackNext fetches the next n messages of durable and acknowledges them, as
// another client of the same consumer would.
func ackNext(t *testing.T, js jetstream.JetStream, stream, durable string, n int) {
	t.Helper()
	ctx := context.Background()
	cons, err := js.Consumer(ctx, stream, durable)
	if err != nil {
		t.Fatal(err)
	}
	for n > 0 {
		mb, err := cons.Fetch(n)
		if err != nil {
			t.Fatal(err)
		}
		for m := range mb.Messages() {
			if err := m.DoubleAck(ctx); err != nil {
				t.Fatal(err)
			}
			n--
		}
	}
}

// TestReadsPastMaxAckPendingWithCheckpointSink: a sink that publishes at
// checkpoints (a directory of part files) acknowledges only then, and the
// engine sends a checkpoint only after a batch; once max_ack_pending
// messages wait for acknowledgement the server delivers no more. The
// source then returns empty batches, so checkpoints go on: every message
// is read once, none waits for ack_wait to come again.
func TestReadsPastMaxAckPendingWithCheckpointSink(t *testing.T) {
	checked := conformance.Checked(t)
	url := startServer(t)
	js := createStream(t, url, "ORDERS", "orders.>")
	const n = 300
	publishIDs(t, js, "orders.new", n)
	out := t.TempDir() + "/out/"
	conformance.RunPipeline(t, checked, fmt.Sprintf(`
state: %s
checkpoint_every: 100ms
batch: {rows: 10, linger: 20ms}
source:
  nats_jetstream: {urls: [%s], stream: ORDERS, durable: d, stop_at_end: true, max_ack_pending: 50, ack_wait: 5s, schema: {id: int64}}
sinks:
  - file: {path: %s, format: jsonl}
`, q(t.TempDir()), q(url), q(out)))
	parts, err := filepath.Glob(out + "part-*.jsonl")
	if err != nil || len(parts) == 0 {
		t.Fatalf("parts %v, %v", parts, err)
	}
	counts := map[int64]int{}
	for _, p := range parts {
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
			var row struct{ ID int64 }
			if err := json.Unmarshal([]byte(line), &row); err != nil {
				t.Fatalf("%s: %q: %v", p, line, err)
			}
			counts[row.ID]++
		}
	}
	wantEachOnce(t, counts, n)
}
