package nats

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/dataweaver/dataweaver/connectors/conformance"
	"github.com/dataweaver/dataweaver/engine"
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
	b.Logger = log.logger()
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
