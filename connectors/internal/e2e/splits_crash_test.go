package e2e

import (
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/dataweaver/dataweaver/internal/crashtest"
)

// The coordinator's long claims, in the crash suite: repeated kills,
// throughput against the number of workers, and a JetStream leader
// stopped under three workers.

// TestSplitsKillRepeatedly kills one of three workers again and again,
// each time starting a new one in its place, then lets the job finish:
// every row once in the parts.
func TestSplitsKillRepeatedly(t *testing.T) {
	crashtest.Suite(t)
	kills := crashKills(t)
	j := newSplitsJob(t, startNATS(t), 12, 400)
	ws := j.start(t, 3)
	for k := range kills {
		j.waitRows(t, int64(j.rows*(k+1)/(kills+2)), ws)
		victim := k % len(ws)
		ws[victim].Kill(t)
		ws[victim] = j.p.Start(t)
	}
	for _, w := range ws {
		w.Wait(t)
	}
	j.checkExact(t)
	j.checkParts(t, 12)
}

// TestSplitsWorkerKilled is the claim for file splits: kill -9
// of one of three workers a third of the way through (while it writes a
// part): 0 rows lost, none doubled in the parts, at most the killed
// worker's split again in a sink that appends, and the job done within
// the lease (ack_wait) + 10 s of the kill. The bound on time puts it in
// the crash suite; TestSplitsKillWorker checks the rest in make test.
func TestSplitsWorkerKilled(t *testing.T) {
	crashtest.Suite(t)
	const ackWait = 2 * time.Second // splitsPipeline's
	j := newSplitsJob(t, startNATS(t), 12, 400)
	ws := j.start(t, 3)
	j.waitRows(t, int64(j.rows/3), ws)
	victim := j.killMidSplit(t, ws)
	killed := time.Now()
	for i, w := range ws {
		if i != victim {
			w.Wait(t)
		}
	}
	took := time.Since(killed)
	t.Logf("the other two finished %v after the kill (ack_wait %v)", took.Round(time.Millisecond), ackWait)
	if limit := ackWait + 10*time.Second; took > limit {
		t.Errorf("the job ended %v after the kill, want within ack_wait + 10 s (%v)", took, limit)
	}
	j.checkExact(t)
	j.checkParts(t, 12)
	j.checkRepeats(t, 400)
}

// TestSplitsScaleOut times the job with one worker and with three,
// alternately (1, 3, 2, 3, 1: the machine is shared; two is logged for
// BENCHMARKS.md), on a sink that takes 20 ms per batch, and wants
// wall(1)/wall(3) >= 2.4.
func TestSplitsScaleOut(t *testing.T) {
	crashtest.Suite(t)
	crashtest.Weave(t) // built before the clock starts
	walls := map[int]time.Duration{}
	for _, n := range []int{1, 3, 2, 3, 1} {
		// Batches of 20 rows: the sinks' 20 ms per batch, not the decoding
		// the workers share two busy cores for, is what N divides.
		j := newSplitsJob(t, startNATS(t), 12, 600)
		j.p.Set = []string{"batch.rows=20"}
		start := time.Now()
		for _, w := range j.start(t, n) {
			w.Wait(t)
		}
		wall := time.Since(start)
		walls[n] += wall
		t.Logf("%d worker(s): %s", n, wall.Round(time.Millisecond))
		j.checkExact(t)
	}
	ratio := float64(walls[1]) / float64(walls[3])
	t.Logf("wall(1)/wall(3) = %.2f", ratio)
	if ratio < 2.4 {
		t.Errorf("wall(1)/wall(3) = %.2f, want at least 2.4", ratio)
	}
}

// TestRangesScaleOut is TestSplitsScaleOut on one JSON Lines file cut
// into 12 byte ranges instead of 12 files: wall(1)/wall(3) >= 2.4.
func TestRangesScaleOut(t *testing.T) {
	crashtest.Suite(t)
	crashtest.Weave(t)
	walls := map[int]time.Duration{}
	for _, n := range []int{1, 3, 2, 3, 1} {
		j := newRangesJob(t, startNATS(t), 12, 12*600)
		j.p.Set = []string{"batch.rows=20"}
		start := time.Now()
		for _, w := range j.start(t, n) {
			w.Wait(t)
		}
		wall := time.Since(start)
		walls[n] += wall
		t.Logf("%d worker(s): %s", n, wall.Round(time.Millisecond))
		j.checkExact(t)
	}
	ratio := float64(walls[1]) / float64(walls[3])
	t.Logf("wall(1)/wall(3) = %.2f", ratio)
	if ratio < 2.4 {
		t.Errorf("wall(1)/wall(3) = %.2f, want at least 2.4", ratio)
	}
}

// TestSplitsLeaderStopped stops a JetStream leader on a 3-node cluster
// (R3 stream and buckets) a third of the way through, under three
// workers: the leader of the splits' durable consumer (where fetches and
// acks go), or of the positions bucket's stream (where finished splits
// are recorded). No worker exits non-zero and the parts hold every row
// once, one part per split.
func TestSplitsLeaderStopped(t *testing.T) {
	crashtest.Suite(t)
	for _, tc := range []struct {
		name string
		stop func(t *testing.T, c *natsCluster, js jetstream.JetStream) string
	}{
		{"consumer", func(t *testing.T, c *natsCluster, js jetstream.JetStream) string {
			return c.stopLeader(t, js, "WEAVE_SPLITS", "weave-splits")
		}},
		{"positions bucket", func(t *testing.T, c *natsCluster, js jetstream.JetStream) string {
			return c.stopStreamLeader(t, js, "KV_weave_positions")
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := startNATSCluster(t)
			j := newSplitsJob(t, c.url, 12, 400)
			j.p.Set = []string{"coordinator.replicas=3"}
			ws := j.start(t, 3)
			j.waitRows(t, int64(j.rows/3), ws)
			_, js := jetStream(t, c.url)
			t.Logf("stopped %s, leader of the %s", tc.stop(t, c, js), tc.name)
			for _, w := range ws {
				w.Wait(t)
			}
			j.checkExact(t)
			j.checkParts(t, 12)
		})
	}
}
