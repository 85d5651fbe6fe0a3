package e2e

import (
	"context"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/dataweaver/dataweaver/connectors/internal/msgtest"
)

// waitFor bounds every read-back from a server.
const waitFor = 30 * time.Second

// startNATS runs an in-process nats-server with JetStream on a random
// port, storing in a temporary directory, until t ends.
func startNATS(t *testing.T) string {
	t.Helper()
	return startNATSWith(t, &server.Options{JetStream: true, StoreDir: t.TempDir()})
}

// startNATSWith runs an in-process nats-server with opts (auth, TLS,
// JetStream) on a random local port until t ends.
func startNATSWith(t *testing.T, opts *server.Options) string {
	t.Helper()
	opts.Host, opts.Port, opts.NoLog, opts.NoSigs = "127.0.0.1", server.RANDOM_PORT, true, true
	srv, err := server.NewServer(opts)
	if err != nil {
		t.Fatal(err)
	}
	go srv.Start()
	if !srv.ReadyForConnections(10 * time.Second) {
		t.Fatal("nats-server did not start")
	}
	t.Cleanup(func() {
		srv.Shutdown()
		srv.WaitForShutdown()
	})
	return srv.ClientURL()
}

// jetStream connects a client of the test's own, for setting up streams
// and reading back what a pipeline published.
func jetStream(t *testing.T, url string) (*nats.Conn, jetstream.JetStream) {
	t.Helper()
	nc, err := nats.Connect(url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	return nc, js
}

// createStream makes a stream capturing subjects, with a duplicate window
// long enough to cover a test's reruns.
func createStream(t *testing.T, js jetstream.JetStream, name string, subjects ...string) {
	t.Helper()
	if _, err := js.CreateStream(context.Background(), jetstream.StreamConfig{Name: name, Subjects: subjects, Duplicates: 10 * time.Minute}); err != nil {
		t.Fatal(err)
	}
}

// streamMsgs reads every message stored in stream, in stream order.
func streamMsgs(t *testing.T, js jetstream.JetStream, stream string) []jetstream.Msg {
	t.Helper()
	ctx := context.Background()
	st, err := js.Stream(ctx, stream)
	if err != nil {
		t.Fatal(err)
	}
	total := int(st.CachedInfo().State.Msgs)
	cons, err := js.OrderedConsumer(ctx, stream, jetstream.OrderedConsumerConfig{})
	if err != nil {
		t.Fatal(err)
	}
	var out []jetstream.Msg
	for len(out) < total {
		mb, err := cons.Fetch(total-len(out), jetstream.FetchMaxWait(waitFor))
		if err != nil {
			t.Fatal(err)
		}
		n := len(out)
		for m := range mb.Messages() {
			out = append(out, m)
		}
		if len(out) == n {
			t.Fatalf("read %d of %d messages of %s: %v", n, total, stream, mb.Error())
		}
	}
	return out
}

// streamCount is how many messages stream holds.
func streamCount(t testing.TB, js jetstream.JetStream, stream string) int {
	t.Helper()
	st, err := js.Stream(context.Background(), stream)
	if err != nil {
		t.Fatal(err)
	}
	return int(st.CachedInfo().State.Msgs)
}

// startKafka runs an in-process kfake cluster with the given topics until
// t ends and returns its broker address. Its group.min.session.timeout.ms
// is 100ms rather than 6s, so that a pipeline may set a session_timeout
// short enough for a killed member's partitions to be handed over within
// a second.
func startKafka(t *testing.T, partitions int32, topics ...string) string {
	t.Helper()
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(partitions, topics...), kfake.GroupMinSessionTimeout(100*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c.ListenAddrs()[0]
}

func kafkaClient(t testing.TB, broker string, opts ...kgo.Opt) *kgo.Client {
	t.Helper()
	cl, err := kgo.NewClient(append([]kgo.Opt{kgo.SeedBrokers(broker)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return cl
}

// produce writes records synchronously with a client of the test's own.
func produce(t *testing.T, broker string, recs ...*kgo.Record) {
	t.Helper()
	cl := kafkaClient(t, broker)
	defer cl.Close()
	if err := cl.ProduceSync(context.Background(), recs...).FirstErr(); err != nil {
		t.Fatal(err)
	}
}

// topicCounter returns a function counting the records topic holds
// (msgtest.TopicRecordCount). It keeps one client for every call, as a crash test calls it
// every few milliseconds while a run goes on.
func topicCounter(t *testing.T, broker, topic string) func(testing.TB) int {
	t.Helper()
	cl := kafkaClient(t, broker)
	t.Cleanup(cl.Close)
	adm := kadm.NewClient(cl)
	return func(t testing.TB) int {
		t.Helper()
		return int(msgtest.TopicRecordCount(t, adm, topic))
	}
}

// topicRecords reads every record of topic with a group-less client.
func topicRecords(t *testing.T, broker, topic string) []*kgo.Record {
	t.Helper()
	n := topicCounter(t, broker, topic)(t)
	cl := kafkaClient(t, broker, kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), waitFor)
	defer cancel()
	var out []*kgo.Record
	for len(out) < n {
		fs := cl.PollFetches(ctx)
		if err := ctx.Err(); err != nil {
			t.Fatalf("read %d of %d records of %s: %v", len(out), n, topic, err)
		}
		out = append(out, fs.Records()...)
	}
	return out
}
