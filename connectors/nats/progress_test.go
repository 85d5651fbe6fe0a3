package nats

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/dataweaver/dataweaver/connectors/conformance"
	"github.com/dataweaver/dataweaver/connectors/internal/msgtest"
)

// TestHeldMessagesKeepTheirLease: a batch held four times ack_wait (a
// sink that commits on close) is not handed to another worker pulling
// from the same durable meanwhile, and once acknowledged it was delivered
// once. Without the in-progress messages the other worker gets all ten.
func TestHeldMessagesKeepTheirLease(t *testing.T) {
	mem := conformance.Checked(t)
	url := startServer(t)
	js := createStream(t, url, "S", "in.>")
	for i := range 10 {
		publish(t, js, "in.a", fmt.Appendf(nil, `{"id": %d}`, i))
	}
	src := mustSource(t, fmt.Sprintf("{urls: [%s], stream: S, durable: d, stop_at_end: true, ack_wait: 500ms, schema: {id: int64}}", q(url)),
		conformance.Build(mem, 10, "source"))
	b := msgtest.ReadOneBatch(t, src)
	if b.Record.NumRows() != 10 {
		t.Fatalf("read %d rows, want all 10 in one batch", b.Record.NumRows())
	}

	ctx := context.Background()
	other, err := js.Consumer(ctx, "S", "d")
	if err != nil {
		t.Fatal(err)
	}
	mb, err := other.Fetch(10, jetstream.FetchMaxWait(2*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for range mb.Messages() {
		n++
	}
	if n > 0 {
		t.Fatalf("another worker got %d of the 10 messages the source held for 4 × ack_wait", n)
	}
	msgtest.AckAndExpectEnd(t, src, b)
	info, err := other.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if info.NumAckPending != 0 || info.NumRedelivered != 0 {
		t.Errorf("after the ack: %d pending acknowledgement, %d redelivered; want 0 and 0", info.NumAckPending, info.NumRedelivered)
	}
}
