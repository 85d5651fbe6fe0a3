package telemetry_test

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/dataweaver/dataweaver/engine"
	"github.com/dataweaver/dataweaver/internal/telemetry"
	"github.com/dataweaver/dataweaver/internal/wait"
)

var xSchema = arrow.NewSchema([]arrow.Field{{Name: "x", Type: arrow.PrimitiveTypes.Int64}}, nil)

// gatedSource's Open waits for open; it then yields one-row batches until
// the run drains it.
type gatedSource struct {
	engine.NoAck
	mem  memory.Allocator
	open chan struct{}
}

func (s *gatedSource) Open(ctx context.Context) (*arrow.Schema, error) {
	select {
	case <-s.open:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	return xSchema, nil
}

func (s *gatedSource) Read(ctx context.Context) (*engine.Batch, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	b := array.NewInt64Builder(s.mem)
	defer b.Release()
	b.Append(1)
	a := b.NewArray()
	defer a.Release()
	return &engine.Batch{Record: array.NewRecordBatch(xSchema, []arrow.Array{a}, 1)}, nil
}

func (s *gatedSource) Close() error { return nil }

// slowSink blocks each Write until it is let through.
type slowSink struct{ next chan struct{} }

func (s *slowSink) Open(context.Context, *arrow.Schema) error { return nil }
func (s *slowSink) Write(ctx context.Context, _ arrow.RecordBatch) error {
	select {
	case <-s.next:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
func (s *slowSink) Flush(context.Context) error { return nil }
func (s *slowSink) Close() error                { return nil }

// TestReadyz: /readyz is 503 while the source is still opening, 200 while
// batches flow, 503 once the run drains and after it ended; /healthz is 200
// throughout.
func TestReadyz(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	src := &gatedSource{mem: mem, open: make(chan struct{})}
	sink := &slowSink{next: make(chan struct{})}
	drain := make(chan struct{})
	p := &engine.Pipeline{
		Name:   "gated",
		Source: engine.SourceStep{Name: "src", Source: src},
		Sinks:  []engine.SinkStep{{Name: "out", Sink: sink}},
		Drain:  drain,
	}
	p.Metrics = p.NewMetrics()
	c := telemetry.NewCollector()
	srv, err := telemetry.Listen("127.0.0.1:0", c, slog.Default())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	want := func(code int, reason string) {
		t.Helper()
		got, body := get(t, srv.Addr(), "/readyz")
		if got != code || !strings.Contains(body, reason) {
			t.Errorf("/readyz = %d %q, want %d %q", got, body, code, reason)
		}
		if got, body := get(t, srv.Addr(), "/healthz"); got != http.StatusOK {
			t.Errorf("/healthz = %d %q", got, body)
		}
	}
	want(http.StatusServiceUnavailable, "no pipeline")
	c.Add(p)
	done := make(chan error, 1)
	go func() { _, err := p.Run(context.Background()); done <- err }()
	want(http.StatusServiceUnavailable, "pipeline gated: starting")

	close(src.open)
	sink.next <- struct{}{} // one batch written: the run is moving
	want(http.StatusOK, "ready")
	// The engine counts a batch once the sink's Write has returned, after
	// the write this test let through: poll for it (go test's -timeout
	// reports a count that never comes).
	for scrapeMetrics(t, srv.Addr()).value(t, "weave_rows_out_total", map[string]string{"step": "out"}) < 1 {
		if err := wait.For(t.Context(), 5*time.Millisecond); err != nil {
			t.Fatal(err)
		}
	}

	close(drain)
	// The source sees the drain on its own goroutine: poll until the run
	// has stopped reading (it stays ready until then), then check why.
	for {
		if code, _ := get(t, srv.Addr(), "/readyz"); code != http.StatusOK {
			break
		}
		if err := wait.For(t.Context(), 5*time.Millisecond); err != nil {
			t.Fatal(err)
		}
	}
	want(http.StatusServiceUnavailable, "pipeline gated: draining")
	close(sink.next)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	want(http.StatusServiceUnavailable, "pipeline gated: ended")

	final := scrapeMetrics(t, srv.Addr()).value(t, "weave_rows_in_total", map[string]string{"step": "out"})
	c.Remove(p)
	// A removed run's counters stay at their final values; its gauges go.
	s := scrapeMetrics(t, srv.Addr())
	if got := s.value(t, "weave_rows_in_total", map[string]string{"step": "out"}); got != final {
		t.Errorf("sink rows in after Remove = %v, want the run's final %v", got, final)
	}
	if s["weave_pipeline_phase"] != nil || s["weave_queue_batches"] != nil {
		t.Error("a removed run's gauges are still exported")
	}
}

// TestCountersAcrossRuns: under weave serve a pipeline runs several times
// in one process (restarts, reloads); its counters and histograms go on
// from one run to the next instead of resetting, and a step the second
// run no longer has keeps its final count.
func TestCountersAcrossRuns(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	c := telemetry.NewCollector()
	srv, err := telemetry.Listen("127.0.0.1:0", c, slog.Default())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	// runOnce runs pipeline "twice" until its sink has written n batches.
	runOnce := func(sinkName string, n int) {
		src := &gatedSource{mem: mem, open: make(chan struct{})}
		close(src.open)
		sink := &slowSink{next: make(chan struct{})}
		drain := make(chan struct{})
		p := &engine.Pipeline{
			Name:   "twice",
			Source: engine.SourceStep{Name: "src", Source: src},
			Sinks:  []engine.SinkStep{{Name: sinkName, Sink: sink}},
			Drain:  drain,
		}
		p.Metrics = p.NewMetrics()
		c.Add(p)
		done := make(chan error, 1)
		go func() { _, err := p.Run(context.Background()); done <- err }()
		for range n {
			sink.next <- struct{}{}
		}
		close(drain)
		close(sink.next) // the batches in flight go through
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		c.Remove(p)
	}
	runOnce("out", 3)
	first := scrapeMetrics(t, srv.Addr())
	l := map[string]string{"pipeline": "twice", "step": "out"}
	out1 := first.value(t, "weave_rows_out_total", l)
	src1 := first.value(t, "weave_rows_out_total", map[string]string{"step": "src"})
	hist1 := first.histCount(t, "weave_batch_duration_seconds", l)
	if out1 < 3 || hist1 != uint64(out1) {
		t.Fatalf("after run 1: out %v, %d batches timed", out1, hist1)
	}
	runOnce("out", 2)
	runOnce("renamed", 1)
	end := scrapeMetrics(t, srv.Addr())
	out2 := end.value(t, "weave_rows_out_total", l)
	if out2 < out1+2 {
		t.Errorf("sink rows out after two runs = %v, want at least %v + 2", out2, out1)
	}
	if got := end.histCount(t, "weave_batch_duration_seconds", l); got != uint64(out2) {
		t.Errorf("batches timed over two runs = %d, want %v", got, out2)
	}
	if got := end.value(t, "weave_rows_out_total", map[string]string{"step": "renamed"}); got < 1 {
		t.Errorf("the third run's sink wrote %v rows", got)
	}
	if got := end.value(t, "weave_rows_out_total", map[string]string{"step": "src"}); got <= src1 {
		t.Errorf("source rows out went from %v to %v over three runs", src1, got)
	}
}

// TestNamesFollowConventions runs promlint (Prometheus's own naming and
// help checks) over everything the collector exports for a finished run
// with every kind of step.
func TestNamesFollowConventions(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	src := &gatedSource{mem: mem, open: make(chan struct{})}
	close(src.open)
	drain := make(chan struct{})
	close(drain)
	through := make(chan struct{})
	close(through) // every write goes through at once
	p := &engine.Pipeline{
		Name:   "lint",
		Source: engine.SourceStep{Name: "src", Source: src},
		Sinks:  []engine.SinkStep{{Name: "out", Sink: &slowSink{next: through}}},
		Drain:  drain,
	}
	p.Metrics = p.NewMetrics()
	if _, err := p.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	c := telemetry.NewCollector()
	c.Add(p)
	problems, err := testutil.CollectAndLint(c)
	if err != nil {
		t.Fatal(err)
	}
	for _, pr := range problems {
		t.Errorf("%s: %s", pr.Metric, pr.Text)
	}
}

// TestDefinitionsDescribeTheCollector: every series the collector sends
// is one of Definitions (the table docs/metrics.md is generated from).
func TestDefinitionsDescribeTheCollector(t *testing.T) {
	c := telemetry.NewCollector()
	want := map[string]bool{}
	for _, d := range telemetry.Definitions() {
		want[d.Name] = true
	}
	if n := testutil.CollectAndCount(c); n != 0 {
		t.Errorf("a collector without pipelines sent %d series", n)
	}
	// A pedantic registry checks each collected metric against its
	// description; TestScrapeRun and TestScrapeTrappingGuest collect every
	// kind of series through it.
	if problems, err := testutil.CollectAndLint(c); err != nil || len(problems) > 0 {
		t.Fatalf("lint: %v %v", problems, err)
	}
	var sb strings.Builder
	if err := telemetry.WriteDocs(&sb); err != nil {
		t.Fatal(err)
	}
	for name := range want {
		if !strings.Contains(sb.String(), "`"+name+"`") {
			t.Errorf("docs do not list %s", name)
		}
	}
}

// selfRetryingSink reports retries it made on its own (engine.RetryCounter).
type selfRetryingSink struct {
	slowSink
	retries int64
}

func (s *selfRetryingSink) Retries() int64 { return s.retries }

// TestSinkOwnRetriesAdded: weave_sink_retries_total adds what a sink
// retried by itself to the engine's retries of its writes, for the sinks
// and the dead-letter sink alike.
func TestSinkOwnRetriesAdded(t *testing.T) {
	through := make(chan struct{})
	close(through)
	p := &engine.Pipeline{
		Name:       "retrying",
		Source:     engine.SourceStep{Name: "src", Source: &gatedSource{}},
		Sinks:      []engine.SinkStep{{Name: "out", Sink: &selfRetryingSink{slowSink{through}, 3}}},
		DeadLetter: &selfRetryingSink{slowSink{through}, 5},
	}
	p.Metrics = p.NewMetrics()
	p.Metrics.Step("out").Retries.Store(2) // as the engine's withRetry would
	c := telemetry.NewCollector()
	c.Add(p)
	srv, err := telemetry.Listen("127.0.0.1:0", c, slog.Default())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	s := scrapeMetrics(t, srv.Addr())
	for step, want := range map[string]float64{"out": 5, "dead_letter": 5} {
		if got := s.value(t, "weave_sink_retries_total", map[string]string{"step": step}); got != want {
			t.Errorf("weave_sink_retries_total{step=%q} = %v, want %v", step, got, want)
		}
	}
}

// TestSupervised: weave serve's figures per pipeline follow Prometheus's
// conventions and say what the list says: one state at 1, the others 0.
func TestSupervised(t *testing.T) {
	c := telemetry.NewCollector()
	c.Supervise(func() []telemetry.Supervised {
		return []telemetry.Supervised{{Pipeline: "a", State: "restarting", Restarts: 3, Reloads: 1}, {Pipeline: "b", State: "failed"}}
	})
	if problems, err := testutil.CollectAndLint(c); err != nil || len(problems) > 0 {
		t.Fatalf("lint: %v %v", problems, err)
	}
	want := `# HELP weave_pipeline_restarts_total Runs weave serve started again after the pipeline failed.
# TYPE weave_pipeline_restarts_total counter
weave_pipeline_restarts_total{pipeline="a"} 3
weave_pipeline_restarts_total{pipeline="b"} 0
`
	if err := testutil.CollectAndCompare(c, strings.NewReader(want), "weave_pipeline_restarts_total"); err != nil {
		t.Error(err)
	}
	var states strings.Builder
	states.WriteString("# HELP weave_pipeline_state 1 for the state weave serve has the pipeline in (starting, running, restarting, finished, failed, stopped), 0 for the others.\n# TYPE weave_pipeline_state gauge\n")
	for _, p := range []struct{ name, state string }{{"a", "restarting"}, {"b", "failed"}} {
		for _, st := range telemetry.ServeStates {
			v := 0
			if st == p.state {
				v = 1
			}
			fmt.Fprintf(&states, "weave_pipeline_state{pipeline=%q,state=%q} %d\n", p.name, st, v)
		}
	}
	if err := testutil.CollectAndCompare(c, strings.NewReader(states.String()), "weave_pipeline_state"); err != nil {
		t.Error(err)
	}
}
