package nats

import (
	"context"
	"fmt"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/dataweaver/dataweaver/connectors/conformance"
	"github.com/dataweaver/dataweaver/engine"
)

// startServer runs an in-process nats-server with JetStream on a random
// port, storing in a temporary directory, until t ends.
func startServer(t testing.TB) string {
	t.Helper()
	return startRestartable(t).url
}

// restartable is an in-process nats-server that a test can stop and start
// again on the same port with the same store, as a restarted server.
type restartable struct {
	t    testing.TB
	dir  string
	port int
	url  string

	mu  sync.Mutex
	srv *server.Server
}

func startRestartable(t testing.TB) *restartable {
	t.Helper()
	r := &restartable{t: t, dir: t.TempDir(), port: server.RANDOM_PORT}
	r.start()
	r.port = r.srv.Addr().(*net.TCPAddr).Port
	r.url = r.srv.ClientURL()
	t.Cleanup(r.stop)
	return r
}

// start starts the server; it may run on another goroutine than the test.
func (r *restartable) start() {
	srv, err := server.NewServer(&server.Options{
		Host: "127.0.0.1", Port: r.port, JetStream: true, StoreDir: r.dir,
		NoLog: true, NoSigs: true,
	})
	if err != nil {
		r.t.Error(err)
		return
	}
	go srv.Start()
	// The wait only needs an upper bound for the API: a server that never
	// starts is a hang for go test's -timeout, not a failure of ours.
	if !srv.ReadyForConnections(time.Hour) {
		r.t.Error("nats-server did not start")
		return
	}
	r.mu.Lock()
	r.srv = srv
	r.mu.Unlock()
}

// stop shuts the server down (its clients see the connection close).
func (r *restartable) stop() {
	r.mu.Lock()
	srv := r.srv
	r.srv = nil
	r.mu.Unlock()
	if srv != nil {
		srv.Shutdown()
		srv.WaitForShutdown()
	}
}

// createStream makes stream name capturing subjects, and returns a
// JetStream client for the test's own publishing and inspection.
func createStream(t testing.TB, url, name string, subjects ...string) jetstream.JetStream {
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
	if _, err := js.CreateStream(context.Background(), jetstream.StreamConfig{Name: name, Subjects: subjects, Duplicates: time.Minute}); err != nil {
		t.Fatal(err)
	}
	return js
}

func publish(t testing.TB, js jetstream.JetStream, subject string, msgs ...[]byte) {
	t.Helper()
	for _, m := range msgs {
		if _, err := js.Publish(context.Background(), subject, m); err != nil {
			t.Fatal(err)
		}
	}
}

func build(t testing.TB, kind, text string, b engine.Build) (any, error) {
	t.Helper()
	name := "nats"
	if kind == engine.KindSource {
		name = "nats_jetstream"
	}
	return conformance.BuildStep(t, kind, name, text, b)
}

func mustSource(t testing.TB, text string, b engine.Build) *Source {
	t.Helper()
	return conformance.MustBuild[*Source](t, engine.KindSource, "nats_jetstream", text, b)
}

func mustSink(t testing.TB, text string, b engine.Build) *Sink {
	t.Helper()
	return conformance.MustBuild[*Sink](t, engine.KindSink, "nats", text, b)
}

func q(s string) string { return fmt.Sprintf("%q", s) }
