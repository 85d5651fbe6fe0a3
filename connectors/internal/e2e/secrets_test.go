package e2e

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/sr/srfake"

	httpconn "github.com/dataweaver/dataweaver/connectors/http"
	"github.com/dataweaver/dataweaver/internal/crashtest"
	"github.com/dataweaver/dataweaver/internal/syncbuf"
)

// secretPipeline is one pipeline file of TestSecretsNeverPrinted. Every
// value its file or environment gives a secret field must be in secrets
// (made with secretSet.add); the test then looks for each in everything
// weave prints. To cover another connector, append a pipeline to the list
// in TestSecretsNeverPrinted.
type secretPipeline struct {
	name string
	yaml string
	env  map[string]string
	// runErr, when set, must be in the stderr of `weave run`, which must
	// fail; without it the run must succeed.
	runErr string
	// drive, when set, runs once `weave run` has logged that it is up, with
	// what it wrote so far (it sends requests to an http source).
	drive func(t *testing.T, stderr string)
	// wantMetric, when set, must be in the run's /metrics (the scrape is
	// real).
	wantMetric string
}

// secretSet holds every secret the test hands weave.
type secretSet struct{ values []string }

// add makes a secret value that no other text contains by chance.
func (s *secretSet) add(name string) string {
	v := fmt.Sprintf("dw-secret-%s-%d", name, time.Now().UnixNano()%1e9)
	s.values = append(s.values, v)
	return v
}

// check fails t for every secret that appears in text.
func (s *secretSet) check(t *testing.T, where, text string) {
	t.Helper()
	for _, v := range s.values {
		if strings.Contains(text, v) {
			t.Errorf("%s shows the secret %q:\n%s", where, v, text)
		}
	}
}

// TestSecretsNeverPrinted runs a real `weave` binary over pipelines whose
// NATS, HTTP and Kafka connectors (and a schema registry) get secrets (tokens, passwords, credentials in
// a URL), inline in the file and through ${VAR}s: `weave validate`,
// `weave run` succeeding and failing at authentication (with the servers'
// refusals, one quoting the token back) and `weave connectors describe`,
// all at --log-level debug, with --http metrics scraped. No secret may
// appear in stdout, stderr or /metrics.
func TestSecretsNeverPrinted(t *testing.T) {
	var secrets secretSet
	natsPassword := secrets.add("nats-password")
	natsToken := secrets.add("nats-token")
	wrongPassword := secrets.add("wrong-nats-password")
	wrongToken := secrets.add("wrong-nats-token")
	wrongInURL := secrets.add("wrong-nats-password-in-url")
	sourceToken := secrets.add("http-source-token")
	sinkToken := secrets.add("http-sink-token")
	quotedToken := secrets.add("http-sink-token-quoted")
	kafkaPassword := secrets.add("kafka-password")
	wrongKafkaPassword := secrets.add("wrong-kafka-password")
	registryPassword := secrets.add("registry-password")

	// NATS with user and password (core), and NATS with a token
	// (JetStream) holding two messages for a source.
	withPassword := startNATSWith(t, &server.Options{Username: "weave", Password: natsPassword})
	withToken := startNATSWith(t, &server.Options{Authorization: natsToken, JetStream: true, StoreDir: t.TempDir()})
	nc, err := nats.Connect(withToken, nats.Token(natsToken))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	createStream(t, js, "S", "in.>")
	for _, m := range []string{`{"id": 1}`, `{"id": 2}`} {
		if _, err := js.Publish(context.Background(), "in.a", []byte(m)); err != nil {
			t.Fatal(err)
		}
	}
	urlWithPassword := strings.Replace(withPassword, "nats://", "nats://weave:"+natsPassword+"@", 1)

	accepting := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
	}))
	t.Cleanup(accepting.Close)
	// Some servers quote the credentials they refuse.
	quoting := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "refused: "+r.Header.Get("Authorization")+" is revoked", http.StatusForbidden)
	}))
	t.Cleanup(quoting.Close)

	// Kafka with SCRAM users, and a schema registry behind basic auth.
	kc, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(1, "t"), kfake.EnableSASL(),
		kfake.Superuser("SCRAM-SHA-256", "weave", kafkaPassword))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(kc.Close)
	broker := kc.ListenAddrs()[0]
	reg := srfake.New(srfake.WithAuth("Basic " + base64.StdEncoding.EncodeToString([]byte("sr:"+registryPassword))))
	t.Cleanup(reg.Close)

	pipelines := []secretPipeline{
		{
			name: "kafka with scram and a registry behind basic auth",
			yaml: fmt.Sprintf(`name: kafka_out
source:
  generate: {rows: 3, preset: orders}
sinks:
  - kafka:
      brokers: [%q]
      topic: t
      codec: avro
      sasl: {mechanism: SCRAM-SHA-256, username: weave, password: "${KAFKA_PASSWORD}"}
      schema_registry: {url: %q, basic_auth: {username: sr, password: %q}}
`, broker, reg.URL(), registryPassword),
			env:        map[string]string{"KAFKA_PASSWORD": kafkaPassword},
			wantMetric: `weave_rows_out_total{kind="sink",pipeline="kafka_out",step="sinks[0].kafka"} 3`,
		},
		{
			name: "wrong kafka password inline",
			yaml: fmt.Sprintf(`source:
  generate: {rows: 3, preset: orders}
sinks:
  - kafka: {brokers: [%q], topic: t, sasl: {mechanism: SCRAM-SHA-256, username: weave, password: %q}}
`, broker, wrongKafkaPassword),
			runErr: "check mechanism, username and password",
		},
		{
			name: "http source to nats and http",
			yaml: fmt.Sprintf(`name: http_in
source:
  http: {address: "127.0.0.1:0", path: /in, auth_token: "${SOURCE_TOKEN}", allow_end_of_input: true, schema: {id: int64}}
sinks:
  - nats: {urls: [%q], user: weave, password: %q, subject: out.a, jetstream: false}
  - http: {url: %q, auth_token: %q}
`, withPassword, natsPassword, accepting.URL, sinkToken),
			env:        map[string]string{"SOURCE_TOKEN": sourceToken},
			drive:      postRows(sourceToken),
			wantMetric: `weave_source_requests_total{code="200",pipeline="http_in",step="source.http"} 1`,
		},
		{
			name: "jetstream with a token to nats with a password in the url",
			yaml: fmt.Sprintf(`name: js_in
source:
  nats_jetstream: {urls: [%q], token: "${NATS_TOKEN}", stream: S, durable: d, stop_at_end: true, schema: {id: int64}}
sinks:
  - nats: {urls: [%q], subject: out.b, jetstream: false}
`, withToken, urlWithPassword),
			env:        map[string]string{"NATS_TOKEN": natsToken},
			wantMetric: `weave_rows_out_total{kind="sink",pipeline="js_in",step="sinks[0].nats"} 2`,
		},
		{
			name: "wrong nats password inline",
			yaml: fmt.Sprintf(`source:
  generate: {rows: 3, preset: orders}
sinks:
  - nats: {urls: [%q], user: weave, password: %q, subject: out.c, jetstream: false}
`, withPassword, wrongPassword),
			runErr: `with user "weave" and password: the server refused the credentials`,
		},
		{
			name: "wrong nats password in the url",
			yaml: fmt.Sprintf(`source:
  generate: {rows: 3, preset: orders}
sinks:
  - nats: {urls: [%q], subject: out.c, jetstream: false}
`, strings.Replace(withPassword, "nats://", "nats://weave:"+wrongInURL+"@", 1)),
			runErr: "with credentials in the URL: the server refused the credentials",
		},
		{
			name: "wrong nats token through the environment",
			yaml: fmt.Sprintf(`source:
  nats_jetstream: {urls: [%q], token: "${WRONG_TOKEN}", stream: S, durable: d2, stop_at_end: true, schema: {id: int64}}
sinks:
  - discard: {}
`, withToken),
			env:    map[string]string{"WRONG_TOKEN": wrongToken},
			runErr: "with token: the server refused the credentials",
		},
		{
			name: "http sink refused by a server quoting the token",
			yaml: fmt.Sprintf(`source:
  generate: {rows: 3, preset: orders}
sinks:
  - http: {url: %q, auth_token: "${QUOTED_TOKEN}"}
`, quoting.URL),
			env:    map[string]string{"QUOTED_TOKEN": quotedToken},
			runErr: "refused: Bearer [redacted] is revoked",
		},
	}

	for _, c := range [][2]string{{"sink", "nats"}, {"source", "nats_jetstream"}, {"source", "http"}, {"sink", "http"},
		{"sink", "kafka"}, {"source", "kafka"}, {"source", "postgres"}, {"source", "postgres_cdc"}, {"sink", "s3"}, {"source", "s3"}} {
		out := weaveOnce(t, nil, "--log-level", "debug", "connectors", "describe", "--kind", c[0], c[1])
		if out.code != 0 || !strings.Contains(out.stdout, "secret") {
			t.Errorf("weave connectors describe --kind %s %s exited %d without marking a secret field:\n%s", c[0], c[1], out.code, out.all())
		}
		secrets.check(t, "connectors describe "+c[0]+" "+c[1], out.all())
	}
	for _, p := range pipelines {
		t.Run(p.name, func(t *testing.T) {
			file := filepath.Join(t.TempDir(), "p.yaml")
			if err := os.WriteFile(file, []byte(p.yaml), 0o600); err != nil {
				t.Fatal(err)
			}
			for _, format := range []string{"text", "json"} {
				v := weaveOnce(t, p.env, "--log-level", "debug", "--log-format", format, "validate", file)
				if p.runErr == "" && v.code != 0 {
					t.Errorf("weave validate (%s logs) exited %d:\n%s", format, v.code, v.all())
				}
				secrets.check(t, "weave validate ("+format+" logs)", v.all())
			}
			r := runScraped(t, p, file)
			secrets.check(t, "weave run", r.all())
			secrets.check(t, "/metrics of weave run", r.metrics)
			if p.runErr == "" && r.code != 0 || p.runErr != "" && r.code == 0 {
				t.Errorf("weave run exited %d, want failure %t:\n%s", r.code, p.runErr != "", r.all())
			}
			if p.runErr != "" {
				t.Logf("weave run failed as it should:\n%s", r.stderr)
			}
			if p.runErr != "" && !strings.Contains(r.stderr, p.runErr) {
				t.Errorf("weave run's stderr lacks %q:\n%s", p.runErr, r.stderr)
			}
			if p.wantMetric != "" && !strings.Contains(r.metrics, p.wantMetric) {
				t.Errorf("/metrics lacks %s:\n%s", p.wantMetric, r.metrics)
			}
		})
	}
}

// weaveResult is what one weave process printed.
type weaveResult struct {
	stdout, stderr, metrics string
	code                    int
}

func (r weaveResult) all() string { return r.stdout + r.stderr }

// weaveOnce runs weave to its end with env added to the test's own.
func weaveOnce(t *testing.T, env map[string]string, args ...string) weaveResult {
	t.Helper()
	cmd := weaveCommand(t, env, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("weave %s: %v", strings.Join(args, " "), err)
	}
	return weaveResult{stdout: stdout.String(), stderr: stderr.String(), code: code}
}

func weaveCommand(t *testing.T, env map[string]string, args ...string) *exec.Cmd {
	cmd := exec.Command(crashtest.Weave(t), args...)
	cmd.Env = os.Environ()
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	return cmd
}

var (
	metricsAddrLine = regexp.MustCompile(`msg="serving metrics and health" addr=(\S+)`)
	runEnded        = "msg=\"run ended; serving metrics before exit\""
)

// runScraped runs `weave run --http` over file at --log-level debug,
// drives it once it serves, scrapes /metrics once the run has ended
// (--http-linger keeps the endpoint up), and stops it with SIGINT.
func runScraped(t *testing.T, p secretPipeline, file string) weaveResult {
	t.Helper()
	cmd := weaveCommand(t, p.env, "--log-level", "debug", "run", "--state", t.TempDir(),
		"--http", "127.0.0.1:0", "--http-linger", "1h", file)
	var stdout, stderr syncbuf.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		cmd.Process.Kill()
	})
	result := func(err error) weaveResult {
		r := weaveResult{stdout: stdout.String(), stderr: stderr.String()}
		if ee, ok := err.(*exec.ExitError); ok {
			r.code = ee.ExitCode()
		}
		return r
	}
	// Wait for the metrics address, and for the http source to listen
	// when the test drives it.
	var addr string
	for addr == "" || p.drive != nil && !strings.Contains(stderr.String(), "msg=listening") {
		select {
		case err := <-exited:
			return result(err)
		case <-time.After(5 * time.Millisecond):
		}
		if m := metricsAddrLine.FindStringSubmatch(stderr.String()); m != nil {
			addr = m[1]
		}
	}
	if p.drive != nil {
		p.drive(t, stderr.String())
	}
	for !strings.Contains(stderr.String(), runEnded) {
		select {
		case err := <-exited:
			return result(err)
		case <-time.After(5 * time.Millisecond):
		}
	}
	metrics := scrapeText(t, addr)
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	r := result(<-exited)
	r.metrics = metrics
	return r
}

func scrapeText(t *testing.T, addr string) string {
	t.Helper()
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// postRows sends the http source two rows with the token, ending its
// input, and a request with a wrong token.
func postRows(token string) func(t *testing.T, stderr string) {
	return func(t *testing.T, stderr string) {
		m := listeningLine.FindStringSubmatch(stderr)
		if m == nil {
			t.Fatalf("no listening url in:\n%s", stderr)
		}
		send := func(auth string, end bool) int {
			h := map[string]string{"Content-Type": "application/x-ndjson", "Authorization": "Bearer " + auth}
			if end {
				h[httpconn.EndOfInputHeader] = "true"
			}
			return postStatus(t, m[1], h, []byte("{\"id\": 1}\n{\"id\": 2}\n"))
		}
		if code := send("not-"+token, false); code != http.StatusUnauthorized {
			t.Errorf("a wrong token got %d, want 401", code)
		}
		if code := send(token, true); code != http.StatusOK {
			t.Errorf("the rows got %d, want 200", code)
		}
	}
}

// postStatus POSTs body with the given headers and returns the status.
func postStatus(t *testing.T, url string, header map[string]string, body []byte) int {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}
