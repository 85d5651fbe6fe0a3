package kafka

import (
	"context"
	"errors"
	"fmt"
	"net"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/dataweaver/dataweaver/connectors/conformance"
	"github.com/dataweaver/dataweaver/engine"
)

// freePort is a TCP port on 127.0.0.1 that was free a moment ago.
func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// TestStopAtEndWaitsForBrokers: a worker started before its broker (a pod
// scheduled first) waits for it with stop_at_end, reads everything once
// it is up, and ends; with no broker at all it fails after max_outage,
// naming it.
func TestStopAtEndWaitsForBrokers(t *testing.T) {
	mem := conformance.Checked(t)
	port := freePort(t)
	src := mustSource(t, fmt.Sprintf(`{brokers: ["127.0.0.1:%d"], topics: [in], group: g, stop_at_end: true, schema: {id: int64}, max_outage: 1m}`, port),
		conformance.Build(mem, 100, "source"))
	ctx := context.Background()
	if _, err := src.Open(ctx); err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	// The broker comes up half a second into the first Read, with the 10
	// records already in it: they were written to a data directory by a
	// broker on another port before, so the source cannot find the topic
	// empty between the broker's start and a produce. Errors are t.Error:
	// Fatal belongs to the test's own goroutine.
	dir := t.TempDir()
	seed, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.DataDir(dir), kfake.SyncWrites(), kfake.SeedTopics(1, "in"))
	if err != nil {
		t.Fatal(err)
	}
	cl, err := kgo.NewClient(kgo.SeedBrokers(seed.ListenAddrs()...))
	if err != nil {
		t.Fatal(err)
	}
	var recs []*kgo.Record
	for i := range 10 {
		recs = append(recs, &kgo.Record{Topic: "in", Value: fmt.Appendf(nil, `{"id": %d}`, i)})
	}
	if err := cl.ProduceSync(ctx, recs...).FirstErr(); err != nil {
		t.Fatal(err)
	}
	cl.Close()
	seed.Close()
	began := time.Now()
	started := make(chan *kfake.Cluster, 1)
	go func() {
		time.Sleep(500 * time.Millisecond)
		c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.Ports(port), kfake.DataDir(dir))
		if err != nil {
			t.Errorf("start the broker: %v", err)
			close(started)
			return
		}
		started <- c
		t.Logf("broker up at %v", time.Since(began).Round(time.Millisecond))
	}()
	defer func() {
		if c := <-started; c != nil {
			c.Close()
		}
	}()
	rows := 0
	for {
		b, err := src.Read(ctx)
		if errors.Is(err, engine.ErrEndOfInput) {
			break
		}
		if err != nil {
			t.Fatalf("read while the broker starts: %v", err)
		}
		rows += int(b.Record.NumRows())
		b.Record.Release()
		if err := src.Ack(ctx, b.Checkpoint); err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("read to the end at %v", time.Since(began).Round(time.Millisecond))
	if rows != 10 {
		t.Errorf("read %d rows, want the 10 the broker got once it was up", rows)
	}

	gone := mustSource(t, fmt.Sprintf(`{brokers: ["127.0.0.1:%d"], topics: [in], group: g, stop_at_end: true, schema: {id: int64}, max_outage: 300ms}`, freePort(t)),
		conformance.Build(mem, 100, "source"))
	if _, err := gone.Open(ctx); err != nil {
		t.Fatal(err)
	}
	defer gone.Close()
	if _, err := gone.Read(ctx); !errors.Is(err, ErrOutage) {
		t.Fatalf("read with no broker: %v, want ErrOutage after max_outage", err)
	}
}
