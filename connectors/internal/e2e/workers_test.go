package e2e

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/dataweaver/dataweaver/internal/crashtest"
)

// N workers: kafka_workers.yaml and jetstream_workers.yaml run by several
// `weave run` processes at once, sharing a consumer group or a durable
// consumer, each posting its batches to one HTTP receiver.

// receiver is the workers' HTTP sink's endpoint: it takes NDJSON batches,
// waits pace for each (a slow downstream system: an API, a warehouse
// load), then counts every id and which worker (X-Worker) sent it. The
// sink's Write returns only once its request is answered, so each worker
// spends at least pace per batch: the test's stand-in for a sink that
// waits 20 ms a batch, with no pacing option in the product.
type receiver struct {
	url  string
	pace time.Duration

	mu   sync.Mutex
	seen map[int64][]string // id -> the workers that posted it, in order
}

func newReceiver(t *testing.T, pace time.Duration) *receiver {
	t.Helper()
	r := &receiver{pace: pace, seen: map[int64][]string{}}
	srv := httptest.NewServer(r)
	t.Cleanup(srv.Close)
	r.url = srv.URL + "/orders"
	return r
}

func (r *receiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	var ids []int64
	sc := bufio.NewScanner(req.Body)
	for sc.Scan() {
		var row struct {
			ID int64 `json:"id"`
		}
		if err := json.Unmarshal(sc.Bytes(), &row); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		ids = append(ids, row.ID)
	}
	if err := sc.Err(); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	time.Sleep(r.pace)
	worker := req.Header.Get("X-Worker")
	r.mu.Lock()
	for _, id := range ids {
		r.seen[id] = append(r.seen[id], worker)
	}
	r.mu.Unlock()
}

// stored is how many distinct ids arrived.
func (r *receiver) stored(testing.TB) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.seen)
}

// posted reports whether worker has posted anything.
func (r *receiver) posted(worker string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, ws := range r.seen {
		for _, w := range ws {
			if w == worker {
				return true
			}
		}
	}
	return false
}

// tally is what arrived against ids 0 to n-1.
type tally struct {
	lost       int            // ids that never arrived
	duplicates int            // deliveries beyond the first
	repeatedBy map[string]int // per worker: its deliveries of ids that arrived more than once
}

func (r *receiver) tally(n int) tally {
	r.mu.Lock()
	defer r.mu.Unlock()
	c := tally{repeatedBy: map[string]int{}}
	for id := range int64(n) {
		ws := r.seen[id]
		if len(ws) == 0 {
			c.lost++
			continue
		}
		c.duplicates += len(ws) - 1
		if len(ws) > 1 {
			for _, w := range ws {
				c.repeatedBy[w]++
			}
		}
	}
	return c
}

// workerRows is the input of the N-worker tests, and workerPace the time
// the receiver takes per batch: one worker needs 300 batches × 20 ms,
// enough for a third of the input to come well after every worker has
// joined.
const (
	workerRows = 30_000
	workerPace = 20 * time.Millisecond
)

// workerBatch is the batch rows the tests run with (the files' own), and
// workerUnflushed the batches one worker's sink may have written and not
// yet flushed, so not acknowledged: the engine flushes a sink when its
// queue runs dry or every 16 batches (engine's flushEvery), and a slow
// receiver keeps the queue full. A worker killed repeats at most those.
const (
	workerBatch     = 100
	workerUnflushed = 16
)

// orderJSON is order id's message: the files' schema {id, customer}.
func orderJSON(id int) []byte {
	return fmt.Appendf(nil, `{"id": %d, "customer": "c%d"}`, id, id%97)
}

// kafkaWorkers is kafka_workers.yaml against a new kfake cluster whose
// topic orders (6 partitions) holds rows orders, posting to r. Workers
// are told apart by WORKER (instance_id and X-Worker); the session is
// sessionTimeout, with a heartbeat every heartbeat.
func kafkaWorkers(t *testing.T, r *receiver, rows int, sessionTimeout, heartbeat time.Duration) crashtest.Pipeline {
	t.Helper()
	broker := startKafka(t, 6, "orders")
	recs := make([]*kgo.Record, rows)
	for i := range recs {
		recs[i] = &kgo.Record{Topic: "orders", Key: []byte(strconv.Itoa(i)), Value: orderJSON(i)}
	}
	produce(t, broker, recs...)
	return crashtest.Pipeline{
		File:  pipelineFile(t, "kafka_workers.yaml"),
		State: t.TempDir(),
		Env:   map[string]string{"KAFKA_BROKER": broker, "HTTP_URL": r.url},
		Set: []string{
			"source.kafka.session_timeout=" + sessionTimeout.String(),
			"source.kafka.heartbeat_interval=" + heartbeat.String(),
		},
		Finish: []string{"source.kafka.stop_at_end=true"},
		Rows:   rows,
		Stored: r.stored,
	}
}

// jetStreamWorkers is jetstream_workers.yaml against the NATS servers at
// url (comma-separated), whose stream ORDERS gets rows orders, posting to
// r, with ack_wait as the lease.
func jetStreamWorkers(t *testing.T, url string, r *receiver, rows int, ackWait time.Duration) crashtest.Pipeline {
	t.Helper()
	_, js := jetStream(t, url)
	ctx := context.Background()
	if _, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: "ORDERS", Subjects: []string{"orders.>"}, Replicas: replicasAt(url)}); err != nil {
		t.Fatal(err)
	}
	// In rounds of 1,000: the client stalls a publisher far ahead of its
	// acknowledgements.
	for from := 0; from < rows; from += 1000 {
		for i := from; i < min(from+1000, rows); i++ {
			if _, err := js.PublishAsync("orders.new", orderJSON(i)); err != nil {
				t.Fatal(err)
			}
		}
		select {
		case <-js.PublishAsyncComplete():
		case <-time.After(waitFor):
			t.Fatalf("publishing %d orders: %d still unacknowledged after %v", rows, js.PublishAsyncPending(), waitFor)
		}
	}
	return crashtest.Pipeline{
		File:   pipelineFile(t, "jetstream_workers.yaml"),
		State:  t.TempDir(),
		Env:    map[string]string{"NATS_URL": url, "HTTP_URL": r.url},
		Set:    []string{"source.nats_jetstream.ack_wait=" + ackWait.String()},
		Finish: []string{"source.nats_jetstream.stop_at_end=true"},
		Rows:   rows,
		Stored: r.stored,
	}
}

// worker is p for worker w: its own WORKER and state directory.
func worker(t *testing.T, p crashtest.Pipeline, w int) crashtest.Pipeline {
	env := map[string]string{"WORKER": strconv.Itoa(w)}
	for k, v := range p.Env {
		env[k] = v
	}
	p.Env, p.State = env, t.TempDir()
	return p
}

// startWorkers starts n workers of p, each to the end of the input.
func startWorkers(t *testing.T, p crashtest.Pipeline, n int) []*crashtest.Process {
	t.Helper()
	prs := make([]*crashtest.Process, n)
	for w := range prs {
		prs[w] = worker(t, p, w).Start(t, p.Finish...)
	}
	return prs
}

// runWorkers runs n workers of p to the end of the input and returns how
// long that took, from the first start to the last exit; every worker must
// exit 0.
func runWorkers(t *testing.T, p crashtest.Pipeline, n int) time.Duration {
	t.Helper()
	start := time.Now()
	for _, pr := range startWorkers(t, p, n) {
		pr.Wait(t)
	}
	return time.Since(start)
}

// checkTally fails t unless every one of p.Rows ids arrived and the
// duplicates stay within maxDup, and logs the figures.
func checkTally(t *testing.T, r *receiver, rows, maxDup int) tally {
	t.Helper()
	c := r.tally(rows)
	t.Logf("%d rows: %d lost, %d duplicates (per worker, deliveries of repeated ids: %v)", rows, c.lost, c.duplicates, c.repeatedBy)
	if c.lost > 0 {
		t.Errorf("%d of %d rows never arrived", c.lost, rows)
	}
	if c.duplicates > maxDup {
		t.Errorf("%d duplicates, want at most %d", c.duplicates, maxDup)
	}
	return c
}

// reset forgets every id, for the next run.
func (r *receiver) reset() {
	r.mu.Lock()
	r.seen = map[int64][]string{}
	r.mu.Unlock()
}
