package nats

import (
	"context"
	"fmt"
	"testing"

	"github.com/dataweaver/dataweaver/connectors/conformance"
)

// TestAckOfForgottenDelivery: when the consumer has no record of
// delivering the messages being acknowledged (here it was recreated; a
// nats-server killed with SIGKILL before it saved its consumer state does
// the same), the server drops their acks without an answer. Ack then
// returns once it has seen that, instead of waiting for an answer until
// max_outage fails the run, and the messages come again (at-least-once).
func TestAckOfForgottenDelivery(t *testing.T) {
	checked := conformance.Checked(t)
	url := startServer(t)
	js := createStream(t, url, "S", "in.>")
	publishIDs(t, js, "in.a", 5)
	var log logBuffer
	b := conformance.Build(checked, 10, "source")
	b.Logger = log.logger().With("step", b.Name)
	src := mustSource(t, fmt.Sprintf("{urls: [%s], stream: S, durable: d, max_outage: 5s, request_timeout: 500ms, schema: {id: int64}}", q(url)), b)
	ctx := context.Background()
	if _, err := src.Open(ctx); err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	first, err := src.Read(ctx)
	if err != nil {
		t.Fatal(err)
	}
	first.Record.Release()

	if err := js.DeleteConsumer(ctx, "S", "d"); err != nil {
		t.Fatal(err)
	}
	if _, err := js.CreateOrUpdateConsumer(ctx, "S", src.consCfg); err != nil {
		t.Fatal(err)
	}
	if err := src.Ack(ctx, first.Checkpoint); err != nil {
		t.Fatalf("ack of messages the consumer forgot: %v", err)
	}
	log.wantLogged(t, "the consumer has no record of delivering these messages", "step=source", `up_to="stream S seq 5"`)

	again, err := src.Read(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer again.Record.Release()
	if n := again.Record.NumRows(); n != 5 {
		t.Errorf("read %d messages again, want the 5 the consumer forgot", n)
	}
	if err := src.Ack(ctx, again.Checkpoint); err != nil {
		t.Fatal(err)
	}
	info, err := js.Consumer(ctx, "S", "d")
	if err != nil {
		t.Fatal(err)
	}
	if ci := info.CachedInfo(); ci.AckFloor.Stream != 5 {
		t.Errorf("ack floor %d after the second ack, want 5", ci.AckFloor.Stream)
	}
}
