package e2e

import (
	"context"
	"errors"
	"fmt"
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
// through it; the servers stop when t ends. The second and third route to
// the first, and learn of each other from it, so losing any one leaves the
// other two connected.
func startNATSCluster(t *testing.T) *natsCluster {
	t.Helper()
	c := &natsCluster{}
	var urls []string
	for i := range 3 {
		opts := &server.Options{
			ServerName: fmt.Sprintf("n%d", i), JetStream: true, StoreDir: t.TempDir(),
			Host: "127.0.0.1", Port: server.RANDOM_PORT, NoLog: true, NoSigs: true,
			Cluster: server.ClusterOpts{Name: "dw", Host: "127.0.0.1", Port: server.RANDOM_PORT},
		}
		if i > 0 {
			seed, err := url.Parse("nats-route://" + c.servers[0].ClusterAddr().String())
			if err != nil {
				t.Fatal(err)
			}
			opts.Routes = []*url.URL{seed}
		}
		srv, err := server.NewServer(opts)
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
