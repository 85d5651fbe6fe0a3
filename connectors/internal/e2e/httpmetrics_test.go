package e2e

import (
	"bytes"
	"compress/gzip"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil/promlint"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/dataweaver/dataweaver/internal/syncbuf"
)

var listeningLine = regexp.MustCompile(`msg=listening .*url=(\S+)`)

// TestHTTPSourceMetricsScraped runs `weave run --http` (the binary) with an
// http source, sends it requests that are taken and refused, and scrapes
// /metrics: every reply is counted under its status code and every
// refusal under its reason, with the pipeline and step labels, and the
// body bytes received are those sent.
func TestHTTPSourceMetricsScraped(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "p.yaml")
	if err := os.WriteFile(file, []byte(`name: ingest
source:
  http: {address: "127.0.0.1:0", path: /in, schema: {id: int64}, max_body_bytes: 1KiB, bad_rows: reject, auth_token: "${TOKEN}"}
  name: orders_in
sinks:
  - discard: {}
`), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := weaveCommand(t, map[string]string{"TOKEN": "metrics-token-1"}, "run", "--http", "127.0.0.1:0",
		"--state", filepath.Join(dir, "state"), file)
	var stderr syncbuf.Buffer
	cmd.Stdout, cmd.Stderr = io.Discard, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() {
		cmd.Wait()
		close(exited)
	}()
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGINT)
		<-exited
	})
	var metricsAddr, url string
	for metricsAddr == "" || url == "" {
		select {
		case <-exited:
			t.Fatalf("weave exited:\n%s", stderr.String())
		case <-time.After(5 * time.Millisecond):
		}
		if m := metricsAddrLine.FindStringSubmatch(stderr.String()); m != nil {
			metricsAddr = m[1]
		}
		if m := listeningLine.FindStringSubmatch(stderr.String()); m != nil {
			url = m[1]
		}
	}

	var zipped bytes.Buffer
	zw := gzip.NewWriter(&zipped)
	zw.Write([]byte("{\"id\": 1}\n{\"id\": 2}\n"))
	zw.Close()
	bad := []byte("{\"id\": 1}\n{oops\n")
	send := func(path, token, ct, encoding string, body []byte) int {
		h := map[string]string{"Content-Type": ct}
		if token != "" {
			h["Authorization"] = "Bearer " + token
		}
		if encoding != "" {
			h["Content-Encoding"] = encoding
		}
		return postStatus(t, strings.TrimSuffix(url, "/in")+path, h, body)
	}
	const tok, nd = "metrics-token-1", "application/x-ndjson"
	for _, c := range []struct {
		path, token, ct, encoding string
		body                      []byte
		want                      int
	}{
		{"/in", tok, nd, "gzip", zipped.Bytes(), 200},
		{"/in", tok, nd, "gzip", zipped.Bytes(), 200},
		{"/in", "", nd, "", []byte(`{"id": 3}`), 401},
		{"/in", "wrong-token", nd, "", []byte(`{"id": 3}`), 401},
		{"/elsewhere", tok, nd, "", []byte(`{"id": 3}`), 404},
		{"/in", tok, nd, "zstd", []byte(`{"id": 3}`), 415},
		{"/in", tok, nd, "", bytes.Repeat([]byte("{\"id\": 3}\n"), 200), 413}, // refused on its Content-Length, unread
		{"/in", tok, nd, "", bad, 400},
	} {
		if got := send(c.path, c.token, c.ct, c.encoding, c.body); got != c.want {
			t.Fatalf("POST %s: %d, want %d", c.path, got, c.want)
		}
	}

	text := []byte(scrapeText(t, metricsAddr))
	// promlint is Prometheus's own check of names, units and help.
	problems, err := promlint.New(bytes.NewReader(text)).Lint()
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		if strings.HasPrefix(p.Metric, "weave_source_request") {
			t.Errorf("promlint: %s: %s", p.Metric, p.Text)
		}
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(bytes.NewReader(text))
	if err != nil {
		t.Fatal(err)
	}
	// series flattens a family into "label=value,…" → value, labels sorted
	// as Prometheus sends them.
	series := func(name string) map[string]float64 {
		out := map[string]float64{}
		f := families[name]
		if f == nil {
			t.Errorf("no %s in /metrics", name)
			return out
		}
		for _, m := range f.Metric {
			var ls []string
			for _, l := range m.Label {
				ls = append(ls, l.GetName()+"="+l.GetValue())
			}
			out[strings.Join(ls, ",")] = m.GetCounter().GetValue()
		}
		return out
	}
	same := func(name string, got, want map[string]float64) {
		t.Helper()
		if len(got) != len(want) {
			t.Errorf("%s = %v, want %v", name, got, want)
			return
		}
		for k, v := range want {
			if got[k] != v {
				t.Errorf("%s = %v, want %v", name, got, want)
				return
			}
		}
	}
	const at = "pipeline=ingest,step=orders_in"
	same("weave_source_requests_total", series("weave_source_requests_total"), map[string]float64{
		"code=200," + at: 2, "code=401," + at: 2, "code=404," + at: 1, "code=415," + at: 1, "code=413," + at: 1, "code=400," + at: 1,
	})
	same("weave_source_requests_refused_total", series("weave_source_requests_refused_total"), map[string]float64{
		"pipeline=ingest,reason=unauthorized,step=orders_in": 2, "pipeline=ingest,reason=not_found,step=orders_in": 1, "pipeline=ingest,reason=media_type,step=orders_in": 1, "pipeline=ingest,reason=too_large,step=orders_in": 1, "pipeline=ingest,reason=bad_request,step=orders_in": 1,
	})
	same("weave_source_request_body_bytes_total", series("weave_source_request_body_bytes_total"), map[string]float64{
		at: float64(2*zipped.Len() + len(bad)),
	})
}
