package kafka

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/dataweaver/dataweaver/connectors/conformance"
)

// TestGroupTimingReachesClient: session_timeout, heartbeat_interval and
// rebalance_timeout are what the kgo client runs with (the defaults: a
// 10 s session, shorter than kgo's 45 s, and kgo's heartbeat and
// rebalance timeout).
func TestGroupTimingReachesClient(t *testing.T) {
	mem := conformance.Checked(t)
	for _, tc := range []struct {
		extra                       string
		session, heartbeat, balance time.Duration
	}{
		{"", 10 * time.Second, 3 * time.Second, time.Minute},
		{", session_timeout: 6s, heartbeat_interval: 2s, rebalance_timeout: 20s", 6 * time.Second, 2 * time.Second, 20 * time.Second},
	} {
		src := mustSource(t, "{topics: [a], group: g, schema: {id: int64}"+tc.extra+"}", conformance.Build(mem, 10, "source"))
		cl, err := kgo.NewClient(src.opts...)
		if err != nil {
			t.Fatal(err)
		}
		got := []any{cl.OptValue(kgo.SessionTimeout), cl.OptValue(kgo.HeartbeatInterval), cl.OptValue(kgo.RebalanceTimeout)}
		cl.Close()
		if got[0] != tc.session || got[1] != tc.heartbeat || got[2] != tc.balance {
			t.Errorf("%q: client runs with session %v, heartbeat %v, rebalance %v; want %v, %v, %v",
				tc.extra, got[0], got[1], got[2], tc.session, tc.heartbeat, tc.balance)
		}
	}
}

// TestCheckpointPosition: a checkpoint is JSON the engine saves and hands
// back to Resume, shown per topic and partition.
func TestCheckpointPosition(t *testing.T) {
	cp := Checkpoint{Batch: 7, Offsets: map[string]map[int32]int64{"orders": {1: 98, 0: 120}, "audit": {0: 5}}}
	if got, want := cp.String(), "audit: p0@5; orders: p0@120, p1@98"; got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
	if got := (Checkpoint{}).String(); got != "no record read yet" {
		t.Errorf("empty String() = %q", got)
	}
	data, err := json.Marshal(cp)
	if err != nil {
		t.Fatal(err)
	}
	src := mustSource(t, "{topics: [orders], group: g, schema: {id: int64}}", conformance.Build(conformance.Checked(t), 10, "source"))
	if err := src.Resume(data); err != nil {
		t.Fatal(err)
	}
	if src.resumed == nil || src.resumed.String() != cp.String() || src.resumed.Batch != 7 {
		t.Errorf("Resume(%s) recorded %v", data, src.resumed)
	}
	for _, bad := range []string{`{"row": 12}`, `[1, 2]`, `not json`} {
		if err := src.Resume([]byte(bad)); err == nil || !strings.Contains(err.Error(), "not a Kafka position") {
			t.Errorf("Resume(%s) = %v, want a refusal", bad, err)
		}
	}
}

// TestResumeDoesNotMoveTheGroup: the group's committed offsets decide
// where a run starts, whatever position was saved. A group ahead of the
// position (another member read on) reads on from its commit; a group
// behind it (its offsets reset) reads from its commit too, records again.
func TestResumeDoesNotMoveTheGroup(t *testing.T) {
	mem := conformance.Checked(t)
	_, brokers := groupCluster(t)
	conf := groupConf(brokers, "g")
	first := openGroupSource(t, mem, conf)
	reads := readRows(t, first, groupRecords/2)
	if err := first.Ack(context.Background(), reads[len(reads)-1].cp); err != nil {
		t.Fatal(err)
	}
	first.Close()
	want := committed(t, brokers, "g")

	for _, saved := range []map[int32]int64{
		{0: 1, 1: 1, 2: 1, 3: 1},         // behind the group
		{0: 100, 1: 100, 2: 100, 3: 100}, // ahead of it
	} {
		data, err := json.Marshal(Checkpoint{Batch: 3, Offsets: map[string]map[int32]int64{"in": saved}})
		if err != nil {
			t.Fatal(err)
		}
		src := mustSource(t, conf, conformance.Build(mem, 25, "source"))
		if err := src.Resume(data); err != nil {
			t.Fatalf("Resume(%s): %v", data, err)
		}
		if _, err := src.Open(context.Background()); err != nil {
			t.Fatal(err)
		}
		start := map[int32]int64{}
		for _, r := range readUntilEnd(t, src) {
			for _, x := range r.rows {
				if _, ok := start[x.partition]; !ok {
					start[x.partition] = x.offset
				}
			}
		}
		src.Close()
		for p, o := range want {
			if o < perPart && start[p] != o {
				t.Errorf("saved %v: partition %d started at %d, want the group's %d", saved, p, start[p], o)
			}
		}
	}
}
