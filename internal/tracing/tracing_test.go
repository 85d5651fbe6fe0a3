package tracing

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/dataweaver/dataweaver/connectors/conformance"
	weavehttp "github.com/dataweaver/dataweaver/connectors/http"
	mem "github.com/dataweaver/dataweaver/connectors/inmemory"
	"github.com/dataweaver/dataweaver/engine"
	"github.com/dataweaver/dataweaver/engine/config"
	"github.com/dataweaver/dataweaver/internal/tracing/otlptest"

	_ "github.com/dataweaver/dataweaver/connectors/columns"
	_ "github.com/dataweaver/dataweaver/connectors/discard"
	_ "github.com/dataweaver/dataweaver/connectors/generate"
)

// env looks up vars only, so a test never sees the machine's OTEL_*
// variables.
func env(vars map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := vars[k]; return v, ok }
}

// build makes a pipeline from a pipeline file's text, as weave run does.
func build(t *testing.T, m memory.Allocator, text string) *engine.Pipeline {
	t.Helper()
	opts := config.Options{Mem: m, Logger: slog.New(slog.DiscardHandler), Lookup: func(string) (string, bool) { return "", false }}
	f, err := config.Parse([]byte(text), "pipeline.yaml", opts)
	if err != nil {
		t.Fatal(err)
	}
	p, err := config.Build(f, opts)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// startTracing sets up tracing for p from vars as weave run does and returns
// the function that flushes the spans.
func startTracing(t *testing.T, p *engine.Pipeline, vars map[string]string) (flush func()) {
	t.Helper()
	stop, err := Trace(context.Background(), p, env(vars), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(stop) // a second stop does nothing
	return stop
}

// TestSpansOfARun: generate (250 rows in batches of 100) → select →
// two sinks, exported to a real OTLP/HTTP endpoint: one root "batch" span
// per batch with its rows and sequence number, and under it exactly one
// span per stage and sink, in the same trace, with their row counts.
func TestSpansOfARun(t *testing.T) {
	m := conformance.Checked(t)
	rc := otlptest.Start(t)
	p := build(t, m, `
name: traced
batch: {rows: 100}
source: {name: gen, generate: {preset: orders, rows: 250}}
stages:
  - name: pick
    select: {columns: [id, amount]}
sinks:
  - name: keep
    memory: {name: tracing-test}
  - name: drop
    discard: {}
`)
	flush := startTracing(t, p, map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": rc.URL})
	if p.Tracer == nil {
		t.Fatal("OTEL_EXPORTER_OTLP_ENDPOINT is set but the pipeline has no tracer")
	}
	if _, err := p.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	mem.Lookup("tracing-test").Release()
	flush()

	spans := rc.Spans()
	kids := otlptest.ByParent(spans)
	roots := kids[""]
	if len(roots) != 3 {
		t.Fatalf("%d root spans, want one per batch (3); got %+v", len(roots), spans)
	}
	sort.Slice(roots, func(i, j int) bool { return fmt.Sprint(roots[i].Attrs[keySeq]) < fmt.Sprint(roots[j].Attrs[keySeq]) })
	traces := map[string]bool{}
	for i, root := range roots {
		want := map[string]any{keyPipeline: "traced", keySource: "gen", keySeq: int64(i), keyRows: []int64{100, 100, 50}[i], keyRejects: int64(0)}
		if root.Name != "batch" || fmt.Sprint(root.Attrs) != fmt.Sprint(want) {
			t.Errorf("root %d: %s %v, want batch %v", i, root.Name, root.Attrs, want)
		}
		if root.ServiceName != "weave" {
			t.Errorf("root %d: service.Name %q, want weave", i, root.ServiceName)
		}
		traces[root.TraceID] = true
		steps := kids[root.SpanID]
		sort.Slice(steps, func(i, j int) bool { return steps[i].Name > steps[j].Name })
		var names []string
		for _, s := range steps {
			names = append(names, s.Name)
			if s.TraceID != root.TraceID {
				t.Errorf("batch %d: %s is in trace %s, its batch in %s", i, s.Name, s.TraceID, root.TraceID)
			}
			rows := root.Attrs[keyRows]
			want := map[string]any{keyStep: s.Attrs[keyStep], keyKind: s.Attrs[keyKind], keyRowsIn: rows, keyRowsOut: rows, keyRejects: int64(0)}
			if fmt.Sprint(s.Attrs) != fmt.Sprint(want) {
				t.Errorf("batch %d: %s %v, want %v", i, s.Name, s.Attrs, want)
			}
			if s.Start < root.Start || s.End > root.End {
				t.Errorf("batch %d: %s is not within its batch's span", i, s.Name)
			}
		}
		if got := strings.Join(names, ","); got != "stage pick,sink keep,sink drop" {
			t.Errorf("batch %d: steps %s, want stage pick,sink keep,sink drop", i, got)
		}
	}
	if len(traces) != 3 {
		t.Errorf("%d traces for 3 batches without a parent, want one each", len(traces))
	}
	if len(spans) != 3*4 {
		t.Errorf("%d spans, want 12 (3 batches × (batch + 3 steps))", len(spans))
	}
}

// TestTraceParentFromHTTP: rows POSTed to the http source with a W3C
// traceparent make a batch whose span is a child of the caller's span, in
// the caller's trace.
func TestTraceParentFromHTTP(t *testing.T) {
	m := conformance.Checked(t)
	rc := otlptest.Start(t)
	p := build(t, m, `
name: from-http
source:
  name: in
  http: {address: 127.0.0.1:0, path: /rows, allow_end_of_input: true, schema: {id: int64}}
sinks: [{name: out, discard: {}}]
`)
	flush := startTracing(t, p, map[string]string{"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": rc.URL + "/v1/traces"})
	done := make(chan error, 1)
	go func() { _, err := p.Run(context.Background()); done <- err }()
	src := p.Source.Source.(*weavehttp.Source)
	for src.Addr() == "" {
		time.Sleep(2 * time.Millisecond)
	}
	const traceID, parent = "4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7"
	req, err := http.NewRequest(http.MethodPost, "http://"+src.Addr()+"/rows", strings.NewReader("{\"id\": 1}\n{\"id\": 2}\n"))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-ndjson")
	req.Header.Set("traceparent", "00-"+traceID+"-"+parent+"-01")
	req.Header.Set(weavehttp.EndOfInputHeader, "true")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("POST: %d %s", resp.StatusCode, body)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	http.DefaultClient.CloseIdleConnections()
	flush()

	kids := otlptest.ByParent(rc.Spans())
	batches := kids[parent]
	if len(batches) != 1 {
		t.Fatalf("%d spans are children of the request's span, want the batch's; got %+v", len(batches), rc.Spans())
	}
	b := batches[0]
	if b.Name != "batch" || b.TraceID != traceID || b.Attrs[keyRows] != int64(2) {
		t.Errorf("batch span %s in trace %s with %v, want batch in trace %s with 2 rows", b.Name, b.TraceID, b.Attrs, traceID)
	}
	if steps := kids[b.SpanID]; len(steps) != 1 || steps[0].Name != "sink out" || steps[0].TraceID != traceID {
		t.Errorf("under the batch: %+v, want sink out in trace %s", steps, traceID)
	}
}

// TestOff: without an endpoint, or with tracing turned off by the
// standard variables, no tracer is set, so the engine makes no span.
func TestOff(t *testing.T) {
	const url = "http://127.0.0.1:4318"
	for _, tc := range []struct {
		name string
		vars map[string]string
	}{
		{"no variables", nil},
		{"other OTEL variables only", map[string]string{"OTEL_SERVICE_NAME": "x", "OTEL_EXPORTER_OTLP_HEADERS": "a=b"}},
		{"SDK disabled", map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": url, "OTEL_SDK_DISABLED": "true"}},
		{"exporter none", map[string]string{"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": url, "OTEL_TRACES_EXPORTER": "none"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := &engine.Pipeline{Name: "off"}
			stop, err := Trace(context.Background(), p, env(tc.vars), slog.New(slog.DiscardHandler))
			if err != nil {
				t.Fatal(err)
			}
			stop()
			if p.Tracer != nil {
				t.Fatalf("Tracer = %v, want nil", p.Tracer)
			}
		})
	}
}

// TestConfigErrors: settings weave cannot honour are refused by name
// rather than sending spans nowhere.
func TestConfigErrors(t *testing.T) {
	const url = "http://127.0.0.1:4318"
	for _, tc := range []struct {
		name string
		vars map[string]string
		want string
	}{
		{"grpc", map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": url, "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc"}, "OTEL_EXPORTER_OTLP_PROTOCOL=grpc"},
		{"traces protocol first", map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": url, "OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf", "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL": "http/json"}, "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL=http/json"},
		{"no scheme", map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "localhost:4318"}, "OTEL_EXPORTER_OTLP_ENDPOINT=localhost:4318: want a URL"},
		{"traces endpoint not a URL", map[string]string{"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "collector"}, "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT=collector: want a URL"},
		{"console exporter", map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": url, "OTEL_TRACES_EXPORTER": "console"}, "OTEL_TRACES_EXPORTER=console"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := &engine.Pipeline{Name: "bad"}
			_, err := Trace(context.Background(), p, env(tc.vars), slog.New(slog.DiscardHandler))
			if !errors.Is(err, ErrConfig) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want ErrConfig naming %s", err, tc.want)
			}
			if p.Tracer != nil {
				t.Fatal("a refused configuration set a tracer")
			}
		})
	}
}

// TestTraceAcrossPipelines: pipeline a (generate → http sink) posts to
// pipeline b (http source → discard), both traced to one endpoint: the
// sink's requests carry its span's traceparent, so every batch of b is a
// child of a sink span of a, in a's trace.
func TestTraceAcrossPipelines(t *testing.T) {
	m := conformance.Checked(t)
	rc := otlptest.Start(t)
	vars := map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": rc.URL}
	b := build(t, m, `
name: b
source: {name: in, http: {address: 127.0.0.1:0, path: /in, allow_end_of_input: true, schema: {id: int64}}}
sinks: [{name: drop, discard: {}}]
`)
	flushB := startTracing(t, b, vars)
	done := make(chan error, 1)
	go func() { _, err := b.Run(context.Background()); done <- err }()
	src := b.Source.Source.(*weavehttp.Source)
	for src.Addr() == "" {
		time.Sleep(2 * time.Millisecond)
	}
	url := "http://" + src.Addr() + "/in"
	a := build(t, m, fmt.Sprintf(`
name: a
batch: {rows: 10}
source: {name: gen, generate: {rows: 30, schema: {id: int64}}}
sinks: [{name: post, http: {url: %q, codec: ndjson}}]
`, url))
	flushA := startTracing(t, a, vars)
	if _, err := a.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	req, err := http.NewRequest(http.MethodPost, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set(weavehttp.EndOfInputHeader, "true")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	http.DefaultClient.CloseIdleConnections()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	flushA()
	flushB()

	sinkSpans := map[string]otlptest.Span{}
	var batchesB []otlptest.Span
	for _, s := range rc.Spans() {
		switch {
		case s.Name == "sink post":
			sinkSpans[s.SpanID] = s
		case s.Name == "batch" && s.Attrs[keyPipeline] == "b" && s.Attrs[keyRows] != int64(0):
			batchesB = append(batchesB, s)
		}
	}
	if len(sinkSpans) != 3 || len(batchesB) == 0 {
		t.Fatalf("%d sink spans of a (want 3), %d batch spans of b with rows (want some)", len(sinkSpans), len(batchesB))
	}
	for _, s := range batchesB {
		parent, ok := sinkSpans[s.ParentSpanID]
		if !ok || parent.TraceID != s.TraceID {
			t.Errorf("batch of b (%v rows) in trace %s has parent %q, want a sink span of a, in its trace", s.Attrs[keyRows], s.TraceID, s.ParentSpanID)
		}
	}
}
