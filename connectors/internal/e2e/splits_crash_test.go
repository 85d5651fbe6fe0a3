package e2e

import (
	"context"
	"fmt"
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
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

// TestSplitsLeaderStopped stops the server leading the splits stream of
// a 3-node cluster (R3 stream and buckets) a third of the way through:
// no worker exits non-zero and the parts hold every row once.
func TestSplitsLeaderStopped(t *testing.T) {
	crashtest.Suite(t)
	servers, urls := startCluster(t, 3)
	j := newSplitsJob(t, strings.Join(urls, ","), 12, 400)
	j.p.Set = []string{"coordinator.replicas=3"}
	ws := j.start(t, 3)
	j.waitRows(t, int64(j.rows/3), ws)
	nc, err := nats.Connect(strings.Join(urls, ","))
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, _ := jetstream.New(nc)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	st, err := js.Stream(ctx, "WEAVE_SPLITS")
	if err != nil {
		t.Fatal(err)
	}
	leader := st.CachedInfo().Cluster.Leader
	for _, s := range servers {
		if s.Name() == leader {
			t.Logf("stopping %s, the splits stream's leader", leader)
			s.Shutdown()
		}
	}
	for _, w := range ws {
		w.Wait(t)
	}
	j.checkExact(t)
}

// startCluster runs n clustered in-process nats-servers with JetStream
// and waits until JetStream has a leader.
func startCluster(t *testing.T, n int) ([]*server.Server, []string) {
	t.Helper()
	ports := make([]int, n)
	routes := make([]string, n)
	for i := range ports {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		ports[i] = l.Addr().(*net.TCPAddr).Port
		l.Close()
		routes[i] = fmt.Sprintf("nats://127.0.0.1:%d", ports[i])
	}
	servers := make([]*server.Server, n)
	urls := make([]string, n)
	for i := range servers {
		opts := &server.Options{ServerName: fmt.Sprintf("n%d", i+1), Host: "127.0.0.1", Port: server.RANDOM_PORT,
			NoLog: true, NoSigs: true, JetStream: true, StoreDir: filepath.Join(t.TempDir(), "js"),
			Cluster: server.ClusterOpts{Name: "weave", Host: "127.0.0.1", Port: ports[i]},
			Routes:  server.RoutesFromStr(strings.Join(routes, ","))}
		s, err := server.NewServer(opts)
		if err != nil {
			t.Fatal(err)
		}
		go s.Start()
		t.Cleanup(func() { s.Shutdown(); s.WaitForShutdown() })
		servers[i] = s
	}
	for i, s := range servers {
		if !s.ReadyForConnections(10 * time.Second) {
			t.Fatal("nats-server did not start")
		}
		urls[i] = s.ClientURL()
	}
	deadline := time.Now().Add(waitFor)
	for {
		nc, err := nats.Connect(strings.Join(urls, ","))
		if err == nil {
			js, _ := jetstream.New(nc)
			ctx, cancel := context.WithTimeout(context.Background(), time.Second)
			_, err = js.AccountInfo(ctx)
			cancel()
			nc.Close()
		}
		if err == nil {
			return servers, urls
		}
		if time.Now().After(deadline) {
			t.Fatalf("JetStream cluster has no leader: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
