package nats

import (
	"fmt"
	"testing"

	"github.com/dataweaver/dataweaver/connectors/conformance"
	"github.com/dataweaver/dataweaver/connectors/internal/msgtest"
	"github.com/dataweaver/dataweaver/engine"
)

// TestLagMessages: after a batch, the source reports the messages the
// stream still holds for its consumer (weave_source_lag_messages).
func TestLagMessages(t *testing.T) {
	mem := conformance.Checked(t)
	url := startServer(t)
	js := createStream(t, url, "S", "in.>")
	const total = 25
	for i := 1; i <= total; i++ {
		publish(t, js, "in.a", fmt.Appendf(nil, `{"id": %d}`, i))
	}
	src := mustSource(t, fmt.Sprintf("{urls: [%s], stream: S, durable: d, stop_at_end: true, schema: {id: int64}}", q(url)),
		conformance.Build(mem, 10, "source"))
	var l engine.Lagger = src
	if _, ok := l.LagMessages(); ok {
		t.Error("lag known before the first fetch")
	}
	b := msgtest.ReadOneBatch(t, src)
	n, ok := l.LagMessages()
	if want := total - b.Record.NumRows(); !ok || n != want {
		t.Errorf("lag after a batch of %d = %d (known %v), want %d", b.Record.NumRows(), n, ok, want)
	}
}
