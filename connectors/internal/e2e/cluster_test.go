package e2e

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go/jetstream"
)

// natsCluster is three in-process nats-servers routed into one JetStream
// cluster (R3 streams), for tests that stop one of them mid-run.
type natsCluster struct {
	servers []*server.Server
	url     string // every server's client URL, comma-separated
}

// startNATSCluster starts the cluster and waits until JetStream answers
// through it; the servers stop when t ends.
func startNATSCluster(t *testing.T) *natsCluster {
	t.Helper()
	c := &natsCluster{}
	// JetStream refuses to cluster without routes configured, so every
	// server is given the three route ports, taken from ports the kernel
	// handed out a moment ago.
	ports := freePorts(t, 3)
	var routes []*url.URL
	for _, p := range ports {
		u, err := url.Parse(fmt.Sprintf("nats-route://127.0.0.1:%d", p))
		if err != nil {
			t.Fatal(err)
		}
		routes = append(routes, u)
	}
	var urls []string
	for i := range 3 {
		srv, err := server.NewServer(&server.Options{
			ServerName: fmt.Sprintf("n%d", i), JetStream: true, StoreDir: t.TempDir(),
			Host: "127.0.0.1", Port: server.RANDOM_PORT, NoLog: true, NoSigs: true,
			Cluster: server.ClusterOpts{Name: "dw", Host: "127.0.0.1", Port: ports[i]},
			Routes:  routes,
		})
		if err != nil {
			t.Fatal(err)
		}
		go srv.Start()
		if !srv.ReadyForConnections(10 * time.Second) {
			t.Fatalf("nats-server n%d did not start", i)
		}
		t.Cleanup(func() {
			srv.Shutdown()
			srv.WaitForShutdown()
		})
		c.servers = append(c.servers, srv)
		urls = append(urls, srv.ClientURL())
	}
	c.url = strings.Join(urls, ",")
	_, js := jetStream(t, c.url)
	// The meta leader is elected a moment after the routes form; until
	// then JetStream requests fail. Bounded by the test's -timeout.
	for {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		_, err := js.AccountInfo(ctx)
		cancel()
		if err == nil {
			return c
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// replicasAt is the stream replicas for the servers at url: 3 for a
// cluster, 1 for a single server.
func replicasAt(url string) int {
	if strings.Contains(url, ",") {
		return 3
	}
	return 1
}

// stopLeader shuts down the server leading stream's durable consumer
// (the one acks and fetches go to) and returns its name.
func (c *natsCluster) stopLeader(t *testing.T, js jetstream.JetStream, stream, durable string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitFor)
	defer cancel()
	cons, err := js.Consumer(ctx, stream, durable)
	if err != nil {
		t.Fatal(err)
	}
	info, err := cons.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if info.Cluster == nil || info.Cluster.Leader == "" {
		t.Fatalf("consumer %s of %s has no leader: %+v", durable, stream, info.Cluster)
	}
	for _, srv := range c.servers {
		if srv.Name() == info.Cluster.Leader {
			srv.Shutdown()
			srv.WaitForShutdown()
			return srv.Name()
		}
	}
	t.Fatal(errors.New("the consumer's leader " + info.Cluster.Leader + " is none of the cluster's servers"))
	return ""
}

// stopStreamLeader shuts down the server leading stream (where its
// publishes, and a key-value bucket's updates, go) and returns its name.
func (c *natsCluster) stopStreamLeader(t *testing.T, js jetstream.JetStream, stream string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitFor)
	defer cancel()
	st, err := js.Stream(ctx, stream)
	if err != nil {
		t.Fatal(err)
	}
	info, err := st.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if info.Cluster == nil || info.Cluster.Leader == "" {
		t.Fatalf("stream %s has no leader: %+v", stream, info.Cluster)
	}
	for _, srv := range c.servers {
		if srv.Name() == info.Cluster.Leader {
			srv.Shutdown()
			srv.WaitForShutdown()
			return srv.Name()
		}
	}
	t.Fatal(errors.New("the stream's leader " + info.Cluster.Leader + " is none of the cluster's servers"))
	return ""
}

// freePorts returns n TCP ports on 127.0.0.1 that were free a moment ago.
func freePorts(t *testing.T, n int) []int {
	t.Helper()
	var ports []int
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
		defer l.Close()
	}
	return ports
}
