package http

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/dataweaver/dataweaver/connectors/conformance"
	"github.com/dataweaver/dataweaver/connectors/generate"
	mem "github.com/dataweaver/dataweaver/connectors/inmemory"
	"github.com/dataweaver/dataweaver/engine"
	"github.com/dataweaver/dataweaver/engine/config"

	_ "github.com/dataweaver/dataweaver/connectors/file"
	_ "github.com/dataweaver/dataweaver/connectors/generate"
	_ "github.com/dataweaver/dataweaver/format/parquet"
)

// startPipeline builds a pipeline file's text as `weave run` does
// (validate, then run) and runs it in the background; wait returns its
// error. The http source it starts is returned so the test can find its
// port.
func startPipeline(t *testing.T, m memory.Allocator, text string, vars map[string]string) (src *Source, metrics *engine.Metrics, wait func() error) {
	t.Helper()
	opts := config.Options{Mem: m, Logger: slog.New(slog.DiscardHandler),
		Lookup: func(k string) (string, bool) { v, ok := vars[k]; return v, ok }}
	f, err := config.Parse([]byte(text), "pipeline.yaml", opts)
	if err != nil {
		t.Fatal(err)
	}
	p, err := config.Build(f, opts)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.Validate(context.Background()); err != nil {
		t.Fatal(err)
	}
	p.Metrics = p.NewMetrics()
	done := make(chan error, 1)
	go func() {
		_, err := p.Run(context.Background())
		done <- err
	}()
	src = p.Source.Source.(*Source)
	waitFor(t, "the http source to listen", func() bool { return src.Addr() != "" })
	return src, p.Metrics, func() error { return <-done }
}

// TestHTTPToParquet runs testdata/pipelines/http_to_parquet.yaml: orders
// POSTed as NDJSON (with one bad line) and then as Arrow IPC carrying the
// end of input; both requests are answered 200 once the Parquet file is
// committed, and the file holds exactly the good rows, the dead-letter
// file the bad one with its request id and line.
func TestHTTPToParquet(t *testing.T) {
	m := conformance.Checked(t)
	text, err := os.ReadFile(filepath.Join("..", "..", "testdata", "pipelines", "http_to_parquet.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	out := t.TempDir()
	src, metrics, wait := startPipeline(t, m, string(text),
		map[string]string{"HTTP_ADDRESS": "127.0.0.1:0", "WEAVE_HTTP_TOKEN": "s3cret", "OUT": out})
	url := "http://" + src.Addr() + "/orders"
	auth := map[string]string{"Authorization": "Bearer s3cret"}

	want := generate.Orders(m, 1000, 3)
	defer want.Release()
	head, tail := want.NewSlice(0, 600), want.NewSlice(600, 1000)
	defer head.Release()
	defer tail.Release()

	if r := post(context.Background(), url, ctNDJSON, ndjsonBody(t, head), nil); r.status != 401 {
		t.Fatalf("request without the token: %d %q", r.status, r.body)
	}
	bad := `{"id": "not a number", "customer": "x"}` + "\n"
	first := postAsync(t, url, ctNDJSON, append(ndjsonBody(t, head), bad...), map[string]string{"Authorization": "Bearer s3cret", "X-Request-Id": "orders-1"})
	// The end must come after the first request was taken, or it would
	// refuse it.
	waitFor(t, "the NDJSON request to be read", func() bool { return metrics.Steps[0].RowsIn.Load() == 601 })
	last := postAsync(t, url, ctArrow, arrowBody(t, tail), map[string]string{"Authorization": auth["Authorization"], EndOfInputHeader: "true"})

	var ok1, ok2 okBody
	if r := recv(t, first); r.status != 200 {
		t.Fatalf("NDJSON request: %d %q", r.status, r.body)
	} else {
		r.json(t, &ok1)
	}
	if r := recv(t, last); r.status != 200 {
		t.Fatalf("Arrow request: %d %q", r.status, r.body)
	} else {
		r.json(t, &ok2)
	}
	if err := wait(); err != nil {
		t.Fatal(err)
	}
	if ok1.Rows != 600 || ok1.Rejected != 1 || len(ok1.Errors) != 1 || ok1.Errors[0].Line != 601 || ok1.Errors[0].Column != "id" {
		t.Errorf("NDJSON reply %+v, want 600 rows and line 601 column id rejected", ok1)
	}
	if ok2.Rows != 400 || !ok2.Ended {
		t.Errorf("Arrow reply %+v, want 400 rows and the end", ok2)
	}

	conformance.RunPipeline(t, m, fmt.Sprintf(`
source: {file: %q}
sinks: [{memory: {name: http-to-parquet}}]
`, filepath.Join(out, "orders.parquet")))
	got := mem.Lookup("http-to-parquet")
	defer got.Release()
	conformance.EqualRows(t, want, got.Records())

	dl, err := os.ReadFile(filepath.Join(out, "rejected.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	if lines := strings.Split(strings.TrimSpace(string(dl)), "\n"); len(lines) != 1 ||
		!strings.Contains(lines[0], `"file":"orders-1"`) || !strings.Contains(lines[0], `"line":601`) || !strings.Contains(lines[0], "not a number") {
		t.Errorf("dead letters:\n%s\nwant the bad line, from orders-1 line 601, with its bytes", dl)
	}
}

// TestHTTPSinkToHTTPSource: generate → http sink → (HTTP) → http source →
// memory, two pipelines: every row arrives once, in order, whatever the
// codec and however the sink cuts batches into requests.
func TestHTTPSinkToHTTPSource(t *testing.T) {
	for _, codec := range []string{formatArrow, formatNDJSON, formatJSON} {
		t.Run(codec, func(t *testing.T) {
			m := conformance.Checked(t)
			name := "http-e2e-" + codec
			src, _, wait := startPipeline(t, m, fmt.Sprintf(`
batch: {rows: 1000}
source:
  http:
    address: 127.0.0.1:0
    path: /in
    auth_token: ${TOKEN}
    allow_end_of_input: true
    schema: %s
sinks: [{memory: {name: %s}}]
`, conformance.SchemaYAML(generate.OrdersSchema), name), map[string]string{"TOKEN": "t0k"})
			url := "http://" + src.Addr() + "/in"
			conformance.RunPipeline(t, m, fmt.Sprintf(`
batch: {rows: 700}
source:
  generate: {preset: orders, rows: 5003, seed: 1}
sinks:
  - http: {url: %q, codec: %s, max_rows: 300, auth_token: t0k}
`, url, codec))
			if r := post(context.Background(), url, "", nil, map[string]string{"Authorization": "Bearer t0k", EndOfInputHeader: "true"}); r.status != 200 {
				t.Fatalf("end of input: %d %q", r.status, r.body)
			}
			if err := wait(); err != nil {
				t.Fatal(err)
			}
			got := mem.Lookup(name)
			defer got.Release()
			want := generate.Orders(m, 5003, 1)
			defer want.Release()
			conformance.EqualRows(t, want, got.Records())
			for i, r := range got.Records() {
				if r.NumRows() > 300 {
					t.Errorf("batch %d has %d rows: the sink's max_rows was not applied", i, r.NumRows())
				}
			}
		})
	}
}
