package kafka

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"gopkg.in/yaml.v3"

	"github.com/dataweaver/dataweaver/connectors/conformance"
	"github.com/dataweaver/dataweaver/connectors/internal/msgtest"
	"github.com/dataweaver/dataweaver/engine"
)

// startCluster runs an in-process kfake cluster (the Kafka protocol,
// groups and idempotent producers included) with the given topics, until
// t ends, and returns its brokers as a YAML list.
func startCluster(t testing.TB, partitions int32, topics ...string) string {
	t.Helper()
	_, brokers := startClusterWith(t, kfake.NumBrokers(1), kfake.SeedTopics(partitions, topics...))
	return brokers
}

// startClusterWith runs a kfake cluster built with opts until t ends, and
// returns it and its brokers as a YAML list.
func startClusterWith(t testing.TB, opts ...kfake.Opt) (*kfake.Cluster, string) {
	t.Helper()
	c, err := kfake.NewCluster(opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	addrs := c.ListenAddrs()
	for i, a := range addrs {
		addrs[i] = fmt.Sprintf("%q", a)
	}
	return c, "[" + strings.Join(addrs, ", ") + "]"
}

func brokerList(brokers string) []string {
	var out []string
	if err := yaml.Unmarshal([]byte(brokers), &out); err != nil {
		panic(err)
	}
	return out
}

// produce writes records synchronously with a client of the test's own.
func produce(t testing.TB, brokers string, recs ...*kgo.Record) {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokerList(brokers)...))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	if err := cl.ProduceSync(context.Background(), recs...).FirstErr(); err != nil {
		t.Fatal(err)
	}
}

func values(topic string, msgs [][]byte) []*kgo.Record {
	out := make([]*kgo.Record, len(msgs))
	for i, m := range msgs {
		out[i] = &kgo.Record{Topic: topic, Value: m}
	}
	return out
}

// consumeAll reads every record of topic (which holds n) with a
// group-less client.
func consumeAll(t testing.TB, brokers, topic string, n int) []*kgo.Record {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokerList(brokers)...), kgo.ConsumeTopics(topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	var out []*kgo.Record
	// No deadline and no error check: kgo retries fetch errors itself, and
	// records that never come hang the test, which go test's -timeout
	// reports with this stack.
	ctx := context.Background()
	for len(out) < n {
		out = append(out, cl.PollFetches(ctx).Records()...)
	}
	return out
}

func build(t testing.TB, kind, text string, b engine.Build) (any, error) {
	t.Helper()
	const name = "kafka"
	return conformance.BuildStep(t, kind, name, text, b)
}

func mustSource(t testing.TB, text string, b engine.Build) *Source {
	t.Helper()
	return conformance.MustBuild[*Source](t, engine.KindSource, "kafka", text, b)
}

func mustSink(t testing.TB, text string, b engine.Build) *Sink {
	t.Helper()
	return conformance.MustBuild[*Sink](t, engine.KindSink, "kafka", text, b)
}

var groups atomic.Int64

// endOffset is the number of records topic holds (see
// msgtest.TopicRecordCount), with a client of its own.
func endOffset(t testing.TB, brokers, topic string) int64 {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokerList(brokers)...))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	return msgtest.TopicRecordCount(t, kadm.NewClient(cl), topic)
}
