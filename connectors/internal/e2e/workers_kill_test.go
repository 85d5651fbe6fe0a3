package e2e

import (
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/dataweaver/dataweaver/internal/crashtest"
)

// Short leases for the kill tests: how long a killed worker's partitions
// (Kafka session_timeout) or messages (JetStream ack_wait) wait before
// the others get them.
const (
	killSession = 2 * time.Second
	killAckWait = 2 * time.Second
)

// TestWorkerKilled: three workers share the input; once a third of it has
// arrived, one of them gets SIGKILL. The other two finish the job, exiting
// 0: every row arrives, the killed worker's repeated rows are at most the
// batches it had written and not flushed (workerUnflushed of them), and
// the whole run repeats at most that many per worker (a worker joining
// late takes partitions from one that wrote ahead of its commits).
func TestWorkerKilled(t *testing.T) {
	crashtest.Suite(t)
	for _, tc := range []struct {
		name  string
		lease time.Duration
		setup func(t *testing.T, r *receiver) crashtest.Pipeline
	}{
		{"kafka", killSession, func(t *testing.T, r *receiver) crashtest.Pipeline {
			return kafkaWorkers(t, r, workerRows, killSession, killSession/5)
		}},
		{"jetstream", killAckWait, func(t *testing.T, r *receiver) crashtest.Pipeline {
			return jetStreamWorkers(t, startNATS(t), r, workerRows, killAckWait)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := newReceiver(t, workerPace)
			p := tc.setup(t, r)
			prs := startWorkers(t, p, 3)
			waitActive(t, r, prs, workerRows/3)
			prs[0].Kill(t)
			killed := time.Now()
			t.Logf("killed worker 0 with %d of %d rows stored", r.stored(t), workerRows)
			for _, pr := range prs[1:] {
				pr.Wait(t)
			}
			took := time.Since(killed)
			t.Logf("the other two finished %v after the kill (lease %v)", took.Round(time.Millisecond), tc.lease)
			// A bound on time is the claim here ("done within the lease
			// plus 10 s"), so this test is in the crash suite.
			if limit := tc.lease + 10*time.Second; took > limit {
				t.Errorf("the job ended %v after the kill, want within the lease + 10 s (%v)", took, limit)
			}
			c := checkTally(t, r, workerRows, 3*workerUnflushed*workerBatch)
			if n := c.repeatedBy["0"]; n > workerUnflushed*workerBatch {
				t.Errorf("the killed worker had posted %d rows that came again, want at most its %d unflushed batches (%d rows)",
					n, workerUnflushed, workerUnflushed*workerBatch)
			}
		})
	}
}

// workerSeq is the numbers of workers TestWorkersSpeedUp runs, in order:
// DW_WORKERS_SEQ (comma-separated, holding 1 and 3) or 1,3,3,1, which
// weighs a load that drifts during the test on both alike.
func workerSeq(t *testing.T) []int {
	t.Helper()
	s := os.Getenv("DW_WORKERS_SEQ")
	if s == "" {
		return []int{1, 3, 3, 1}
	}
	var seq []int
	for _, f := range strings.Split(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 {
			t.Fatalf("DW_WORKERS_SEQ=%q: want numbers of workers, comma-separated", s)
		}
		seq = append(seq, n)
	}
	if !slices.Contains(seq, 1) || !slices.Contains(seq, 3) {
		t.Fatalf("DW_WORKERS_SEQ=%q: want runs of 1 and of 3 workers among them", s)
	}
	return seq
}

// waitActive waits until every worker has posted and at least stored rows
// have arrived, failing t if a worker ends first or the input is all in
// (then stopping a worker would test nothing).
func waitActive(t *testing.T, r *receiver, prs []*crashtest.Process, stored int) {
	t.Helper()
	ended := func() {
		for w, pr := range prs {
			if pr.Exited() {
				t.Fatalf("worker %d ended (exit %d) before the test could stop one of them (output below)", w, pr.ExitCode(t))
			}
		}
	}
	for w := 0; w < len(prs); {
		if r.posted(strconv.Itoa(w)) {
			w++
			continue
		}
		ended()
		time.Sleep(2 * time.Millisecond)
	}
	for r.stored(t) < stored {
		ended()
		time.Sleep(2 * time.Millisecond)
	}
	ended()
	if got := r.stored(t); got >= workerRows {
		t.Fatalf("all %d rows had arrived before the test could stop a worker", got)
	}
}

// TestWorkersRideOutLeaderLoss: three workers read an R3 stream of a
// three-server JetStream cluster; once a third of the input has arrived,
// the server leading their durable consumer shuts down. Each worker rides
// out the election (fetches and acks retried, each try bounded by
// request_timeout) and exits 0, and every row arrives.
func TestWorkersRideOutLeaderLoss(t *testing.T) {
	crashtest.Suite(t)
	c := startNATSCluster(t)
	r := newReceiver(t, workerPace)
	p := jetStreamWorkers(t, c.url, r, workerRows, killAckWait)
	prs := startWorkers(t, p, 3)
	waitActive(t, r, prs, workerRows/3)
	_, js := jetStream(t, c.url)
	name := c.stopLeader(t, js, "ORDERS", "weave-workers")
	t.Logf("stopped %s, the consumer's leader, with %d of %d rows stored", name, r.stored(t), workerRows)
	for _, pr := range prs {
		pr.Wait(t)
	}
	checkTally(t, r, workerRows, 3*workerUnflushed*workerBatch)
}

// TestWorkersSpeedUp: with a receiver taking 20 ms a batch (720 batches of
// 100 rows, 14.4 s of receiver time for one worker), three workers
// finish the input at least 2.4 times as fast as one, for Kafka (6
// partitions) and JetStream. Runs of 1, 3, 3 and 1 workers (DW_WORKERS_SEQ
// for others, such as 1,2,3,3,2,1), each on a group or durable of its own,
// and the ratio of the fastest run of 1 to the fastest of 3 is asserted;
// the figures go to the log
// (BENCHMARKS.md, "N workers"). A ratio of wall times on a shared machine
// is not a correctness test, hence the crash suite.
func TestWorkersSpeedUp(t *testing.T) {
	crashtest.Suite(t)
	const (
		rows = 72_000
		pace = workerPace
	)
	seq := workerSeq(t)
	crashtest.Weave(t) // built before the clock starts
	for _, tc := range []struct {
		name  string
		setup func(t *testing.T, r *receiver) crashtest.Pipeline
		fresh func(run int) string // --set for a run of its own: a new group or durable
	}{
		{"kafka", func(t *testing.T, r *receiver) crashtest.Pipeline {
			// A Kafka group settles on its members in about two of their
			// heartbeats (a join is noticed at the others' next one, and a
			// cooperative rebalance takes two rounds): 2 × 3 s with the
			// default heartbeat_interval, a start-up cost a long job
			// amortizes and a 10 s test does not. 200ms keeps it to the
			// fraction of a run it is in a real job.
			return kafkaWorkers(t, r, rows, 3*time.Second, 200*time.Millisecond)
		}, func(run int) string { return "source.kafka.group=speed" + string(rune('a'+run)) }},
		{"jetstream", func(t *testing.T, r *receiver) crashtest.Pipeline {
			return jetStreamWorkers(t, startNATS(t), r, rows, 30*time.Second)
		}, func(run int) string { return "source.nats_jetstream.durable=speed" + string(rune('a'+run)) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := newReceiver(t, pace)
			p := tc.setup(t, r)
			// The fastest run per number of workers: other processes on
			// the machine only ever add time, so the least disturbed run
			// is the best estimate of what the workers do.
			wall := map[int]time.Duration{}
			for run, n := range seq {
				r.reset()
				q := p
				q.Set = append(append([]string(nil), p.Set...), tc.fresh(run))
				took := runWorkers(t, q, n)
				checkTally(t, r, rows, n*workerUnflushed*workerBatch)
				t.Logf("%d worker(s): %v, %.0f rows/s", n, took.Round(time.Millisecond), float64(rows)/took.Seconds())
				if w, ok := wall[n]; !ok || took < w {
					wall[n] = took
				}
			}
			for n, w := range wall {
				if n > 1 {
					t.Logf("wall(1)/wall(%d) = %.2f (the fastest run of each)", n, float64(wall[1])/float64(w))
				}
			}
			ratio := float64(wall[1]) / float64(wall[3])
			if ratio < 2.4 {
				t.Errorf("three workers were %.2f times as fast as one, want at least 2.4", ratio)
			}
		})
	}
}
