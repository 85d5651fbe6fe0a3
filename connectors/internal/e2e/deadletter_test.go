package e2e

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/dataweaver/dataweaver/internal/crashtest"
)

// TestKillAfterDeadLetterAck is issue 10's first loss path: with a file
// dead-letter sink (then durable only when the run ended) a poison
// JetStream message was acknowledged while its dead-letter row existed
// only in a temporary file, and a SIGKILL lost it; a second run then
// replaced the first run's dead-letter file. Now the dead-letter file
// appends and is fsynced before the source acknowledges: after the kill
// the row is in the file, and the next run keeps it.
func TestKillAfterDeadLetterAck(t *testing.T) {
	const total, poisonAt = 2000, 500
	url := startNATS(t)
	_, js := jetStream(t, url)
	createStream(t, js, "EVENTS", "events")
	ctx := context.Background()
	var poisonSeq uint64
	for i := range total {
		data := fmt.Sprintf(`{"id": %d}`, i)
		if i == poisonAt {
			data = `{"id": "poison"}`
		}
		ack, err := js.Publish(ctx, "events", []byte(data))
		if err != nil {
			t.Fatal(err)
		}
		if i == poisonAt {
			poisonSeq = ack.Sequence
		}
	}
	dir := t.TempDir()
	rejects := filepath.Join(dir, "rejects.jsonl")
	file := filepath.Join(dir, "events.yaml")
	job := fmt.Sprintf(`batch: {rows: 50, linger: 20ms}
source:
  nats_jetstream: {urls: [%q], stream: EVENTS, durable: weave-dlq, ack_wait: 2s, schema: {id: int64}}
  on_error: dead_letter
sinks: [discard]
dead_letter:
  file: %q
`, url, rejects)
	if err := os.WriteFile(file, []byte(job), 0o644); err != nil {
		t.Fatal(err)
	}
	p := crashtest.Pipeline{File: file, State: filepath.Join(dir, "state"), Finish: []string{"source.nats_jetstream.stop_at_end=true"}}
	pr := p.Start(t)
	cons, err := js.Consumer(ctx, "EVENTS", "weave-dlq")
	for ; err != nil; cons, err = js.Consumer(ctx, "EVENTS", "weave-dlq") {
		if pr.Exited() {
			t.Fatalf("weave ended before creating its consumer:\n%s", pr.Output())
		}
		time.Sleep(5 * time.Millisecond)
	}
	// Kill as soon as the broker has the poison message acknowledged:
	// from then on only the dead-letter file holds it.
	for ackFloor(t, cons) < poisonSeq {
		if pr.Exited() {
			t.Fatalf("weave ended before acknowledging the poison message:\n%s", pr.Output())
		}
		time.Sleep(time.Millisecond)
	}
	pr.Kill(t)
	if n := poisonRows(t, rejects); n != 1 {
		t.Fatalf("after the kill the dead-letter file holds the poison message %d times, want once", n)
	}
	p.Run(t)
	if n := poisonRows(t, rejects); n < 1 {
		t.Fatalf("the second run lost the first run's dead letter")
	}
}

func ackFloor(t *testing.T, cons jetstream.Consumer) uint64 {
	t.Helper()
	info, err := cons.Info(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return info.AckFloor.Stream
}

// poisonRows counts the dead letters (lines) holding the poison message.
func poisonRows(t *testing.T, path string) int {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("dead-letter file: %v", err)
	}
	n := 0
	for _, line := range strings.Split(string(data), "\n") {
		if strings.Contains(line, `poison`) {
			n++
		}
	}
	return n
}
