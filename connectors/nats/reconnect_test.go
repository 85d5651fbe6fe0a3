package nats

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/dataweaver/dataweaver/codec"
	"github.com/dataweaver/dataweaver/connectors/conformance"
	mem "github.com/dataweaver/dataweaver/connectors/inmemory"
	"github.com/dataweaver/dataweaver/engine"
	"github.com/dataweaver/dataweaver/internal/crashtest"
)

// hangGuard only fails a run that hangs; no test here limits how long a
// reconnect may take.
const hangGuard = 10 * time.Minute

// downtimes are how long the server stays down in the restart tests: one
// shorter than the client's ReconnectWait, one several times longer.
var downtimes = []time.Duration{500 * time.Millisecond, 5 * time.Second}

// longOutage leaves the outages longer than the client's ReconnectWait to
// make test-crash: each keeps the server down 5 s (make test runs the
// 500 ms ones).
func longOutage(t *testing.T, down time.Duration) {
	t.Helper()
	if down > time.Second {
		crashtest.Suite(t)
	}
}

// logBuffer collects a step's log for a test to read.
type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func (l *logBuffer) logger() *slog.Logger { return slog.New(slog.NewTextHandler(l, nil)) }

// wantLogged fails t unless the log has a line containing every part.
func (l *logBuffer) wantLogged(t *testing.T, parts ...string) {
	t.Helper()
	for _, line := range strings.Split(l.String(), "\n") {
		ok := true
		for _, p := range parts {
			ok = ok && strings.Contains(line, p)
		}
		if ok {
			return
		}
	}
	t.Errorf("no log line with %q in:\n%s", parts, l.String())
}

// hookSink runs hook before the at-th Write (from 1) reaches the sink it
// wraps: the server restarts at a known point of the run.
type hookSink struct {
	engine.Sink
	at     int
	hook   func()
	writes int
}

func (h *hookSink) Write(ctx context.Context, rec arrow.RecordBatch) error {
	h.writes++
	if h.writes == h.at {
		h.hook()
	}
	return h.Sink.Write(ctx, rec)
}

// restartAt returns a hook that stops srv and starts it again, on the same
// port and store, after down.
func restartAt(srv *restartable, down time.Duration) (hook func(), restarted <-chan struct{}) {
	done := make(chan struct{})
	return func() {
		srv.stop()
		go func() {
			defer close(done)
			time.Sleep(down)
			srv.start()
		}()
	}, done
}

// publishIDs stores {"id": i} for i in [1, n] on subject.
func publishIDs(t *testing.T, js jetstream.JetStream, subject string, n int) {
	t.Helper()
	for i := 1; i <= n; i++ {
		if _, err := js.PublishAsync(subject, fmt.Appendf(nil, `{"id": %d}`, i)); err != nil {
			t.Fatal(err)
		}
	}
	select {
	case <-js.PublishAsyncComplete():
	case <-time.After(hangGuard):
		t.Fatal("publishing hangs")
	}
}

// idCounts counts how often each id of recs' first column occurs.
func idCounts(recs []arrow.RecordBatch) map[int64]int {
	n := map[int64]int{}
	for _, r := range recs {
		ids := r.Column(0).(*array.Int64)
		for i := range ids.Len() {
			n[ids.Value(i)]++
		}
	}
	return n
}

// wantEachOnce fails t unless counts holds every id in [1, n] exactly once.
func wantEachOnce(t *testing.T, counts map[int64]int, n int) {
	t.Helper()
	var missing, twice []int64
	for i := int64(1); i <= int64(n); i++ {
		switch c := counts[i]; {
		case c == 0:
			missing = append(missing, i)
		case c > 1:
			twice = append(twice, i)
		}
	}
	if len(missing) > 0 || len(twice) > 0 || len(counts) != n {
		t.Errorf("%d distinct ids, want %d; missing %d (%v), more than once %d (%v)",
			len(counts), n, len(missing), head(missing), len(twice), head(twice))
	}
}

func head(ids []int64) []int64 { return ids[:min(len(ids), 10)] }

// TestSourceRidesOutRestart: the server restarts (same port, same store)
// while a pipeline reads a stream through a memory sink: the run finishes
// without error, every message exactly once, and the log names the
// disconnect and the reconnect with the server. Exactly once holds here
// because nothing is redelivered: the acknowledgements in flight at the
// restart are sent again in full after it, and ack_wait is longer than
// the outage.
func TestSourceRidesOutRestart(t *testing.T) {
	for _, down := range downtimes {
		t.Run(down.String(), func(t *testing.T) {
			longOutage(t, down)
			checked := conformance.Checked(t)
			srv := startRestartable(t)
			js := createStream(t, srv.url, "ORDERS", "orders.>")
			const n = 3000
			publishIDs(t, js, "orders.new", n)

			var log logBuffer
			b := conformance.Build(checked, 50, "source")
			b.Logger = log.logger().With("step", b.Name)
			src := mustSource(t, fmt.Sprintf(`{urls: [%s], stream: ORDERS, durable: d, stop_at_end: true, ack_wait: 30s,
				max_outage: 5m, request_timeout: 1s, schema: {id: int64}}`, q(srv.url)), b)
			out := mem.NewSink()
			defer out.Release()
			hook, restarted := restartAt(srv, down)
			// Batch 10 of 60: the source has most of the stream to read
			// and earlier batches to acknowledge across the restart.
			p := &engine.Pipeline{
				Name:   "restart",
				Source: engine.SourceStep{Name: "source", Source: src},
				Sinks:  []engine.SinkStep{{Name: "sink", Sink: &hookSink{Sink: out, at: 10, hook: hook}}},
				Logger: log.logger(),
			}
			ctx, cancel := context.WithTimeout(context.Background(), hangGuard)
			defer cancel()
			if _, err := p.Run(ctx); err != nil {
				t.Fatalf("run: %v\nlog:\n%s", err, log.String())
			}
			<-restarted
			wantEachOnce(t, idCounts(out.Records()), n)
			log.wantLogged(t, "nats: disconnected", "step=source", "server="+srv.url)
			log.wantLogged(t, "nats: reconnected", "step=source", "server="+srv.url)
		})
	}
}

// TestSourceOutageOverMaxOutage: a server that stays down fails Read and
// Ack once max_outage has passed, with ErrOutage and a message naming the
// server and how long it has been gone.
func TestSourceOutageOverMaxOutage(t *testing.T) {
	checked := conformance.Checked(t)
	srv := startRestartable(t)
	js := createStream(t, srv.url, "S", "in.>")
	publishIDs(t, js, "in.a", 5)
	src := mustSource(t, fmt.Sprintf("{urls: [%s], stream: S, durable: d, max_outage: 1s, request_timeout: 200ms, schema: {id: int64}}", q(srv.url)),
		conformance.Build(checked, 10, "source"))
	ctx := context.Background()
	if _, err := src.Open(ctx); err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	b, err := src.Read(ctx)
	if err != nil {
		t.Fatal(err)
	}
	b.Record.Release()
	srv.stop()

	// Read may first return empty batches (it holds messages not yet
	// acknowledged, and lets the engine checkpoint), never rows.
	for {
		var e *engine.Batch
		if e, err = src.Read(ctx); err != nil {
			break
		}
		if e.Record != nil {
			e.Record.Release()
			t.Fatal("read rows from a stopped server")
		}
	}
	wantOutage(t, "read", err, srv.url, `fetch from "S"`)
	err = src.Ack(ctx, b.Checkpoint)
	wantOutage(t, "ack", err, srv.url, "ack up to stream sequence 5")
}

func wantOutage(t *testing.T, what string, err error, url, op string) {
	t.Helper()
	if !errors.Is(err, ErrOutage) {
		t.Fatalf("%s: %v, want ErrOutage", what, err)
	}
	msg := err.Error()
	for _, want := range []string{op, "disconnected from " + url + " for ", "(max_outage 1s)"} {
		if !strings.Contains(msg, want) {
			t.Errorf("%s: %q does not say %q", what, msg, want)
		}
	}
}

// idRecords returns the ids [1, n] as records of batch rows.
func idRecords(t *testing.T, alloc memory.Allocator, n, batch int) (*arrow.Schema, []arrow.RecordBatch) {
	t.Helper()
	schema := arrow.NewSchema([]arrow.Field{{Name: "id", Type: arrow.PrimitiveTypes.Int64}}, nil)
	var recs []arrow.RecordBatch
	for from := 1; from <= n; from += batch {
		bld := array.NewRecordBuilder(alloc, schema)
		for i := from; i < from+batch && i <= n; i++ {
			bld.Field(0).(*array.Int64Builder).Append(int64(i))
		}
		recs = append(recs, bld.NewRecordBatch())
		bld.Release()
	}
	return schema, recs
}

// TestSinkRidesOutRestart: the server restarts while a pipeline publishes
// through the JetStream sink: the run finishes without error, and the
// stream holds every row exactly once with dedupe_retries (a publish
// retried after the reconnect carries the id of its first try), at least
// once without. The engine does not retry the sink's writes and flushes
// here (Retry.Attempts 1): the sink rides out the outage by itself.
func TestSinkRidesOutRestart(t *testing.T) {
	for _, tc := range []struct {
		down   time.Duration
		dedupe bool
	}{{downtimes[0], true}, {downtimes[1], true}, {downtimes[1], false}} {
		t.Run(fmt.Sprintf("%s dedupe_retries %t", tc.down, tc.dedupe), func(t *testing.T) {
			longOutage(t, tc.down)
			checked := conformance.Checked(t)
			srv := startRestartable(t)
			createStream(t, srv.url, "OUT", "out.>")
			const n = 3000
			schema, recs := idRecords(t, checked, n, 50)
			in := mem.NewSource(schema, recs...)
			conformance.Release(recs)
			defer in.Release()

			var log logBuffer
			b := conformance.Build(checked, 50, "sink")
			b.Logger = log.logger().With("step", b.Name)
			sink := mustSink(t, fmt.Sprintf("{urls: [%s], subject: out.rows, dedupe_retries: %t, max_outage: 5m, request_timeout: 1s}",
				q(srv.url), tc.dedupe), b)
			hook, restarted := restartAt(srv, tc.down)
			p := &engine.Pipeline{
				Name:   "restart",
				Source: engine.SourceStep{Name: "source", Source: in},
				Sinks: []engine.SinkStep{{Name: "sink", Sink: &hookSink{Sink: sink, at: 10, hook: hook},
					Retry: engine.Retry{Attempts: 1}}},
				Logger: log.logger(),
			}
			ctx, cancel := context.WithTimeout(context.Background(), hangGuard)
			defer cancel()
			if _, err := p.Run(ctx); err != nil {
				t.Fatalf("run: %v\nlog:\n%s", err, log.String())
			}
			<-restarted

			nc, err := nats.Connect(srv.url)
			if err != nil {
				t.Fatal(err)
			}
			defer nc.Close()
			js, err := jetstream.New(nc)
			if err != nil {
				t.Fatal(err)
			}
			got := readStream(t, js, "OUT", codec.Config{Name: codec.JSON, Schema: schema}, checked)
			defer conformance.Release(got)
			counts := idCounts(got)
			if tc.dedupe {
				wantEachOnce(t, counts, n)
			} else {
				wantEachAtLeastOnce(t, counts, n)
			}
			log.wantLogged(t, "nats: reconnected", "step=sink", "server="+srv.url)
		})
	}
}

// wantEachAtLeastOnce fails t unless counts holds every id in [1, n] and
// no other; it logs how many came more than once.
func wantEachAtLeastOnce(t *testing.T, counts map[int64]int, n int) {
	t.Helper()
	var missing []int64
	twice := 0
	for i := int64(1); i <= int64(n); i++ {
		if counts[i] == 0 {
			missing = append(missing, i)
		}
		if counts[i] > 1 {
			twice++
		}
	}
	if len(missing) > 0 || len(counts) != n {
		t.Errorf("%d distinct ids, want %d; missing %d (%v)", len(counts), n, len(missing), head(missing))
	}
	t.Logf("%d of %d ids stored more than once", twice, n)
}
