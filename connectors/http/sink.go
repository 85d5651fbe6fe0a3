package http

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/dataweaver/dataweaver/connectors/internal/tlsconf"
	"github.com/dataweaver/dataweaver/engine"
	"github.com/dataweaver/dataweaver/engine/spec"
)

var sinkSpec = spec.New("http").
	Summary("POSTs each batch to a URL as a JSON array, JSON Lines, Arrow IPC or Avro, with retries, a per-request timeout, a rate limit and an Idempotency-Key.").
	Description("Each batch is one request, or several when it exceeds max_rows or max_bytes; Write returns once every "+
		"request of the batch got a 2xx reply, so a batch counts as written only when the receiver accepted it. "+
		"Failures are retried by the engine with the step's retry settings (attempts, initial, max: exponential backoff "+
		"with jitter): network errors, timeouts, 408, 429 and 5xx are retried, waiting at least the reply's Retry-After "+
		"(capped by max_retry_after); any other 4xx and 3xx are permanent and go to the sink's on_error. A retried batch "+
		"resumes at the request that failed.\n\n"+
		"Every request carries an Idempotency-Key made of a random id per run, the batch number and the request's "+
		"number within the batch: a retried request sends the same key and the same body, so a receiver that "+
		"remembers keys stores it once. After a restart the source replays from its last acknowledgement with new "+
		"keys (at-least-once), so de-duplicate on a key column where that matters.").
	Field(
		spec.String("url").Desc("Where to send the batches (http or https).").Example(`"https://api.example.com/v1/events"`),
		spec.String("method").Default(http.MethodPost).OneOf(http.MethodPost, http.MethodPut).Advance().
			Desc("HTTP method."),
		spec.String("codec").Default(formatJSON).OneOf(formatJSON, formatNDJSON, formatArrow, formatAvro).
			Desc("Body format: json (an array of objects, application/json), ndjson (one object per line, "+
				"application/x-ndjson), arrow (an Arrow IPC stream, application/vnd.apache.arrow.stream) or avro "+
				"(an Avro object container, application/avro). Types map as in the file formats of the same names."),
		spec.Map("headers").Optional().
			Desc("Extra request headers; they may replace Content-Type.").
			Example(`{X-Source: weave}`),
		spec.String("auth_token").Optional().Secret().
			Desc("Sent as Authorization: Bearer <token>; give it as ${VAR} rather than in the file.").
			Example(`"${API_TOKEN}"`),
		spec.Duration("timeout").Default(30*time.Second).
			Desc("Longest a request may take, reply included; a request that takes longer is retried."),
		spec.Int("max_rows").Default(0).
			Desc("Most rows in one request; a larger batch is sent as several. 0: the whole batch (the pipeline's batch rows)."),
		spec.ByteSize("max_bytes").Default(int64(8<<20)).
			Desc("Largest body, as encoded; a larger batch is split into smaller requests (a single row larger than this is sent alone). 0: no limit."),
		spec.Object("rate_limit",
			spec.Float("requests_per_second").Desc("Sustained rate of requests, retries included.").Example("20"),
			spec.Int("burst").Default(1).Desc("Requests that may go at once after a quiet spell."),
		).Optional().Desc("Limit the request rate (a token bucket). Without it requests go as fast as replies come."),
		tlsconf.Field().Desc("TLS options for an https url (the scheme, not this object, turns TLS on): the certificate "+
			"authorities to trust and a client certificate for a server that requires one."),
		spec.String("ca_file").Optional().Advance().
			Desc("Same as tls.ca_file, kept for pipelines written before the tls object: PEM file of the certificate "+
				"authorities to trust for https, instead of the system's.").
			Example("/etc/weave/collector-ca.pem"),
		spec.String("idempotency_header").Default("Idempotency-Key").Advance().
			Desc(`Header that carries the request's key; "" sends none.`),
		spec.Duration("max_retry_after").Default(time.Minute).Advance().
			Desc("Cap on the wait a Retry-After reply header asks for."),
	).
	WithExample("Events as a JSON array with a token and a rate limit", `sinks:
  - http:
      url: https://api.example.com/v1/events
      auth_token: ${API_TOKEN}
      max_rows: 500
      rate_limit: {requests_per_second: 10, burst: 5}
    retry: {attempts: 8, initial: 200ms, max: 30s}`).
	WithExample("Arrow IPC to another weave's http source", `sinks:
  - http:
      url: http://collector:8080/ingest
      codec: arrow
      auth_token: ${WEAVE_HTTP_TOKEN}`)

func init() {
	engine.RegisterSource(sourceSpec, newSource)
	engine.RegisterSink(sinkSpec, newSink)
}

// Sink sends batches as HTTP requests.
type Sink struct {
	url           string
	method        string
	codec         string
	headers       []spec.KV
	token         string
	timeout       time.Duration
	maxRows       int
	maxBytes      int64
	rate          float64
	burst         int
	idemHeader    string
	maxRetryAfter time.Duration
	caFile        string // "": the system's roots
	mem           memory.Allocator
	clock         clock
	conf          *spec.Parsed // for the tls object, read at Open

	client    *http.Client // nil when not open
	transport *http.Transport
	enc       *encoder
	limit     *bucket
	run       string // random per Open, first part of every Idempotency-Key
	batches   int64

	// The batch being sent: a Write of the same record after a failure
	// resumes at bodies[sent] with the same keys.
	cur       arrow.RecordBatch
	bodies    [][]byte
	sent      int
	batchNo   int64
	notBefore time.Time // from Retry-After

	// requests counts requests sent, retries included (tests).
	requests int64
}

func newSink(conf *spec.Parsed, b engine.Build) (engine.Sink, error) {
	s := &Sink{
		url: conf.String("url"), method: conf.String("method"), codec: conf.String("codec"),
		headers: conf.Map("headers"), token: conf.String("auth_token"), timeout: conf.Duration("timeout"),
		maxRows: conf.Int("max_rows"), maxBytes: conf.ByteSize("max_bytes"),
		idemHeader: conf.String("idempotency_header"), maxRetryAfter: conf.Duration("max_retry_after"),
		caFile: conf.String("ca_file"), conf: conf, mem: b.Mem, clock: wallClock{},
	}
	if conf.Given("ca_file") && conf.Given("tls") && conf.Object("tls").Given("ca_file") {
		return nil, configErr(conf, "ca_file", "give tls.ca_file only (ca_file is its older name)")
	}
	if s.mem == nil {
		s.mem = memory.DefaultAllocator
	}
	u, err := url.Parse(s.url)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, configErr(conf, "url", "want an absolute http:// or https:// URL, got %q", s.url)
	}
	if s.timeout <= 0 {
		return nil, configErr(conf, "timeout", "must be positive")
	}
	if s.maxRows < 0 {
		return nil, configErr(conf, "max_rows", "must not be negative")
	}
	if s.maxBytes < 0 {
		return nil, configErr(conf, "max_bytes", "must not be negative")
	}
	if conf.Given("auth_token") && s.token == "" {
		return nil, configErr(conf, "auth_token", "is empty (an unset variable?); remove the field to send no token")
	}
	if rl := conf.Object("rate_limit"); rl != nil && conf.Given("rate_limit") {
		s.rate, s.burst = rl.Float("requests_per_second"), rl.Int("burst")
		if s.rate <= 0 {
			return nil, configErr(conf, "rate_limit", "requests_per_second must be positive")
		}
		if s.burst < 1 {
			return nil, configErr(conf, "rate_limit", "burst must be at least 1")
		}
	}
	return s, nil
}

// CheckSchema checks that the codec can encode every column.
func (s *Sink) CheckSchema(schema *arrow.Schema) error {
	if _, err := newEncoder(s.codec, schema, memory.NewGoAllocator()); err != nil {
		return fmt.Errorf("%w: http sink: codec %s: %w", engine.ErrSchema, s.codec, err)
	}
	return nil
}

func (s *Sink) Open(_ context.Context, schema *arrow.Schema) error {
	enc, err := newEncoder(s.codec, schema, s.mem)
	if err != nil {
		return fmt.Errorf("%w: http sink: codec %s: %w", engine.ErrSchema, s.codec, err)
	}
	var id [8]byte
	_, _ = rand.Read(id[:])
	s.transport = http.DefaultTransport.(*http.Transport).Clone()
	// Files are read at Open, not when the pipeline is built: building
	// does no I/O.
	tc, err := tlsconf.Config(s.conf)
	if err != nil {
		return fmt.Errorf("http sink: %w", err)
	}
	if s.caFile != "" {
		pem, err := os.ReadFile(s.caFile)
		if err != nil {
			return fmt.Errorf("http sink: ca_file: %w", err)
		}
		roots := x509.NewCertPool()
		if !roots.AppendCertsFromPEM(pem) {
			return fmt.Errorf("http sink: ca_file %s holds no PEM certificate", s.caFile)
		}
		if tc == nil {
			tc = &tls.Config{MinVersion: tls.VersionTLS12}
		}
		tc.RootCAs = roots
	}
	if tc != nil {
		s.transport.TLSClientConfig = tc
	}
	s.client = &http.Client{
		Transport: s.transport,
		// A redirected POST may turn into a GET or lose its body; a
		// pipeline should name the final address instead.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	s.enc, s.run, s.batches = enc, hex.EncodeToString(id[:]), 0
	s.cur, s.bodies, s.sent = nil, nil, 0
	if s.rate > 0 {
		s.limit = newBucket(s.rate, s.burst, s.clock.Now())
	}
	return nil
}

// Write sends rec as one or more requests and returns once each got a
// 2xx reply. After a failed Write, a Write of the same record resumes at
// the request that failed.
func (s *Sink) Write(ctx context.Context, rec arrow.RecordBatch) error {
	if s.client == nil {
		return engine.Permanent(errSinkClosed)
	}
	// The record's identity tells a retry from the next batch; it is only
	// compared, never read, once Write has returned.
	if rec != s.cur {
		bodies, err := s.enc.split(rec, s.maxRows, s.maxBytes)
		if err != nil {
			return engine.Permanent(fmt.Errorf("http sink: encode %s: %w", s.codec, err))
		}
		s.batches++
		s.cur, s.bodies, s.sent, s.batchNo = rec, bodies, 0, s.batches
	}
	for s.sent < len(s.bodies) {
		if err := s.post(ctx, s.bodies[s.sent], fmt.Sprintf("%s-%d-%d", s.run, s.batchNo, s.sent)); err != nil {
			if engine.IsPermanent(err) {
				s.cur, s.bodies = nil, nil
			}
			return err
		}
		s.sent++
	}
	s.cur, s.bodies = nil, nil
	return nil
}

// Flush has nothing to do: Write returns only once the receiver accepted
// every request.
func (s *Sink) Flush(context.Context) error {
	if s.client == nil {
		return engine.Permanent(errSinkClosed)
	}
	return nil
}

func (s *Sink) Close() error {
	if s.client == nil {
		return nil
	}
	s.transport.CloseIdleConnections()
	s.client, s.transport, s.enc, s.cur, s.bodies = nil, nil, nil, nil, nil
	return nil
}

var errSinkClosed = errors.New("http sink: not open")
