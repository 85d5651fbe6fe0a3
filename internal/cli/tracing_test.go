package cli_test

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"

	"github.com/dataweaver/dataweaver/internal/cli"
	"github.com/dataweaver/dataweaver/internal/tracing/otlptest"
)

// TestRunTraced: weave run with OTEL_EXPORTER_OTLP_ENDPOINT set sends
// its spans to that OTLP endpoint before it exits: a batch span per batch
// with its stage and sink under it; a sink that fails marks its span and
// the batch's as errors.
func TestRunTraced(t *testing.T) {
	for _, tc := range []struct {
		name   string
		sink   string
		code   int
		status tracepb.Status_StatusCode
	}{
		{"ok", "{}", 0, tracepb.Status_STATUS_CODE_UNSET},
		{"sink fails", "{fail: true}", 1, tracepb.Status_STATUS_CODE_ERROR},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rc := otlptest.Start(t)
			path := writeFile(t, "p.yaml", "name: traced\nsource: {counter: {batches: 3}}\nstages: [{name: p, pass: {}}]\nsinks: [{name: out, collect: "+tc.sink+"}]\n")
			lookup := func(k string) (string, bool) {
				return rc.URL, k == "OTEL_EXPORTER_OTLP_ENDPOINT"
			}
			r := run(t, cli.Options{Lookup: lookup}, "run", path)
			if r.code != tc.code {
				t.Fatalf("exit code %d, want %d; stderr:\n%s", r.code, tc.code, r.stderr)
			}
			spans := rc.Spans()
			kids := otlptest.ByParent(spans)
			roots := kids[""]
			// The first failed write ends the run: later batches may not
			// have been read, and those read end with the run's error.
			if n := len(roots); n == 0 || n > 3 || (tc.code == 0 && n != 3) {
				t.Fatalf("%d batch spans, want 3 (1 to 3 on failure); got %+v", n, spans)
			}
			ids := map[string]bool{"": true}
			for _, b := range roots {
				ids[b.SpanID] = true
				if b.Name != "batch" || b.Attrs["weave.pipeline"] != "traced" || b.Status != tc.status {
					t.Errorf("%s %v status %s, want batch of pipeline traced, %s", b.Name, b.Attrs, b.Status, tc.status)
				}
				var names []string
				for _, s := range kids[b.SpanID] {
					names = append(names, s.Name)
					if s.Name == "sink out" && s.Status != tc.status {
						t.Errorf("%s: status %s, want %s", s.Name, s.Status, tc.status)
					}
				}
				if tc.code == 0 && strings.Join(names, ",") != "stage p,sink out" {
					t.Errorf("batch with children %v, want stage p,sink out", names)
				}
			}
			for _, s := range spans {
				if !ids[s.ParentSpanID] {
					t.Errorf("%s: its batch's span was never sent", s.Name)
				}
			}
		})
	}
}

// TestRunTracingMisconfigured: an OTEL_* setting weave cannot honour is a
// configuration mistake (exit 2) named in the message, before anything runs.
func TestRunTracingMisconfigured(t *testing.T) {
	path := writeFile(t, "p.yaml", "source: {counter: {batches: 1}}\nsinks: [collect]\n")
	lookup := func(k string) (string, bool) {
		v, ok := map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "localhost:4318"}[k]
		return v, ok
	}
	r := run(t, cli.Options{Lookup: lookup}, "run", path)
	if r.code != 2 || !strings.Contains(r.stderr, "OTEL_EXPORTER_OTLP_ENDPOINT=localhost:4318: want a URL") {
		t.Errorf("exit code %d; stderr:\n%s", r.code, r.stderr)
	}
}

// TestServeTraced: weave serve traces every pipeline it runs, as weave run
// does: a bounded pipeline's three batches reach the OTLP endpoint, each
// with its steps under it, when its run ends (not only when serve exits).
func TestServeTraced(t *testing.T) {
	rc := otlptest.Start(t)
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "traced.yaml"), []byte("name: traced\nsource: {counter: {batches: 3}}\nstages: [{name: p, pass: {}}]\nsinks: [{name: out, collect: {}}]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	lookup := func(k string) (string, bool) { return rc.URL, k == "OTEL_EXPORTER_OTLP_ENDPOINT" }
	sigs := make(chan os.Signal, 2)
	done := make(chan result, 1)
	go func() { done <- run(t, cli.Options{Lookup: lookup, Signals: sigs}, "serve", dir) }()
	// The spans arrive when the pipeline's run ends and its tracer
	// flushes; serve is still running then.
	for len(otlptest.ByParent(rc.Spans())[""]) < 3 {
		time.Sleep(10 * time.Millisecond)
	}
	sigs <- syscall.SIGTERM
	if r := <-done; r.code != 143 {
		t.Fatalf("exit %d after SIGTERM, want 143:\n%s", r.code, r.stderr)
	}
	kids := otlptest.ByParent(rc.Spans())
	for _, b := range kids[""] {
		var names []string
		for _, s := range kids[b.SpanID] {
			names = append(names, s.Name)
		}
		if b.Name != "batch" || b.Attrs["weave.pipeline"] != "traced" || strings.Join(names, ",") != "stage p,sink out" {
			t.Errorf("%s %v with children %v, want a batch of pipeline traced with stage p,sink out", b.Name, b.Attrs, names)
		}
	}
}
