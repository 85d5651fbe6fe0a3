package kafka

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/dataweaver/dataweaver/connectors/conformance"
	_ "github.com/dataweaver/dataweaver/connectors/discard"
	"github.com/dataweaver/dataweaver/engine"
	"github.com/dataweaver/dataweaver/engine/position"
)

// TestPositionsThroughPipeline: run through engine.Pipeline with a state
// directory, the source's checkpoint is saved as JSON and shown per
// partition; the next run gets it through Resume and starts where the
// group's committed offsets say, also when the group has moved ahead of
// the saved position (another member, or an operator, committed further).
func TestPositionsThroughPipeline(t *testing.T) {
	mem := conformance.Checked(t)
	_, brokers := startClusterWith(t, kfake.NumBrokers(1), kfake.SeedTopics(2, "in"))
	produceIDs(t, brokers, 0, 100)
	state := t.TempDir()
	text := fmt.Sprintf(`
batch: {rows: 30, linger: 20ms}
source:
  kafka: {brokers: %s, topics: [in], group: g, stop_at_end: true, schema: {id: int64}}
sinks:
  - discard: {}
`, brokers)
	run := func() *engine.Metrics {
		t.Helper()
		return conformance.RunPipelineIn(t, mem, text, state)
	}
	saved := func() (position.Record, Checkpoint) {
		t.Helper()
		rec := conformance.SavedPosition(t, state, "t")
		var cp Checkpoint
		if err := json.Unmarshal(rec.Source, &cp); err != nil {
			t.Fatal(err)
		}
		return rec, cp
	}

	if m := run(); sourceRows(m) != 100 {
		t.Fatalf("first run read %d rows, want 100", sourceRows(m))
	}
	rec, cp := saved()
	if rec.Text != "in: p0@50, p1@50" || cp.Offsets["in"][0] != 50 || cp.Offsets["in"][1] != 50 {
		t.Errorf("saved %q (%s), want in: p0@50, p1@50", rec.Text, rec.Source)
	}

	// The group moves ahead of the saved position: 20 new records per
	// partition, of which someone else committed the first 10.
	produceIDs(t, brokers, 100, 140)
	commitGroup(t, brokers, "g", map[int32]int64{0: 60, 1: 60})
	m := run()
	if !m.Resumed || sourceRows(m) != 20 {
		t.Errorf("second run: resumed %v, read %d rows; want a resumed run reading the 20 records after the group's commit",
			m.Resumed, sourceRows(m))
	}
	if rec, _ := saved(); rec.Text != "in: p0@70, p1@70" {
		t.Errorf("saved %q after the second run, want in: p0@70, p1@70", rec.Text)
	}
}

// sourceRows is how many rows the run's source produced.
func sourceRows(m *engine.Metrics) int64 { return m.Steps[0].RowsOut.Load() }

// produceIDs writes records {"id": from} … {"id": to-1}, alternating
// between partitions 0 and 1.
func produceIDs(t *testing.T, brokers string, from, to int) {
	t.Helper()
	var recs []*kgo.Record
	for i := from; i < to; i++ {
		recs = append(recs, &kgo.Record{Topic: "in", Partition: int32(i % 2), Value: fmt.Appendf(nil, `{"id": %d}`, i)})
	}
	produceManual(t, brokers, recs...)
}

// commitGroup commits offsets of "in" for group as an admin would.
func commitGroup(t *testing.T, brokers, group string, offsets map[int32]int64) {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokerList(brokers)...))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	os := kadm.Offsets{}
	for p, o := range offsets {
		os.Add(kadm.Offset{Topic: "in", Partition: p, At: o, LeaderEpoch: -1})
	}
	resp, err := kadm.NewClient(cl).CommitOffsets(context.Background(), group, os)
	if err == nil {
		err = resp.Error()
	}
	if err != nil {
		t.Fatal(err)
	}
}
