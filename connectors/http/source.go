package http

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/dataweaver/dataweaver/codec"
	"github.com/dataweaver/dataweaver/connectors/arrowtype"
	"github.com/dataweaver/dataweaver/engine"
	"github.com/dataweaver/dataweaver/engine/spec"
)

// What a row that does not decode does to its request.
const (
	badRowsPolicy = "policy"
	badRowsReject = "reject"
)

var sourceSpec = spec.New("http").
	Summary("Runs an HTTP server that takes POSTed batches (JSON, NDJSON or Arrow IPC) and answers 200 only once every sink has flushed them.").
	Description("Clients POST rows to path: a JSON object or array of objects (application/json), JSON Lines "+
		"(application/x-ndjson) or an Arrow IPC stream (application/vnd.apache.arrow.stream), decoded into schema; "+
		"the body may be gzipped (Content-Encoding: gzip). "+
		"A request is held until the pipeline takes it and answered 200 only after every sink has flushed its rows, "+
		"so a client that gets no 200 (an error, a timeout, a dropped connection) must send it again: at-least-once. "+
		"Requests wait in a bounded queue (max_pending_requests); one the pipeline cannot take within max_wait gets "+
		"503 with Retry-After, so a slow sink slows clients down instead of filling memory.\n\n"+
		"A body that cannot be framed (invalid JSON around the rows, a corrupt Arrow stream) gets 400 naming where; "+
		"over max_body_bytes 413; an unknown Content-Type or Content-Encoding 415; a missing or wrong bearer token 401. A row that does "+
		"not fit the schema is, with bad_rows: policy, a row error with its raw bytes under the source's on_error "+
		"(the reply counts it); with bad_rows: reject, the whole request gets 400 naming the line and column.\n\n"+
		"A sink that commits only on close (Parquet, atomic files) acknowledges at the end of the run, so its "+
		"clients get their 200 then: stop such a pipeline with SIGINT (requests already taken finish, new ones get "+
		"503) or, with allow_end_of_input, a request carrying the header Weave-End-Of-Input: true.").
	Field(
		spec.String("address").Default("localhost:8080").
			Desc("host:port to listen on. The default accepts local clients only; \":8080\" or \"0.0.0.0:8080\" accepts any. "+
				"Port 0 picks a free port (logged) at the first Open and keeps it.").
			Example(`":8080"`),
		spec.String("path").Default("/").Desc("URL path that takes POSTs; other paths get 404.").Example("/ingest/orders"),
		arrowtype.Field("schema").Desc("Columns of the rows: an ordered mapping of column name to Arrow type, as in the file source. "+
			"JSON keys not in it are ignored; an Arrow IPC body must have exactly these columns and types."),
		spec.String("auth_token").Optional().Secret().
			Desc("Bearer token clients must send (Authorization: Bearer <token>); give it as ${VAR} rather than in the file. "+
				"Without it any client that reaches the address may post.").
			Example(`"${WEAVE_HTTP_TOKEN}"`),
		spec.String("default_format").Default(formatJSON).OneOf(formatJSON, formatNDJSON, formatArrow).
			Desc("Format of a body sent without Content-Type."),
		spec.String("bad_rows").Default(badRowsPolicy).OneOf(badRowsPolicy, badRowsReject).
			Desc("policy: rows that do not fit the schema go through the source's on_error with their raw bytes and the "+
				"rest of the request is taken; the 200 reply counts the rejected rows. Under on_error: fail (the default) one "+
				"bad row stops the server and its client, resending, stops the next run too: give a long-running server "+
				"on_error: dead_letter or skip, or use reject. reject: any such row fails the whole request with 400 naming "+
				"it, and nothing of it is taken."),
		spec.ByteSize("max_body_bytes").Default(int64(16<<20)).
			Desc("Largest request body accepted (413 beyond), as sent and, for a gzipped body, once inflated too (so a small "+
				"gzip bomb is refused after this many bytes). A request is decoded in memory, so this bounds each one's footprint."),
		codec.MaxRecordBytesField().
			Desc("Longest row of a body, in bytes: an NDJSON line without its line end, or a JSON object (alone or an "+
				"array element). A longer one is not decoded: it is rejected with its line (element) and the limit, like a "+
				"row that does not fit the schema (bad_rows); an NDJSON line is skipped to its end without being held. "+
				"max_body_bytes applies first, so only a limit below it matters."),
		spec.Int("max_pending_requests").Default(8).
			Desc("Requests being decoded or waiting for the pipeline at once; more wait for a place, up to max_wait. "+
				"Memory held is about this many bodies and their decoded rows.").
			Validate(func(v any) error {
				if v.(int) < 1 {
					return errors.New("must be at least 1")
				}
				return nil
			}),
		spec.Duration("max_wait").Default(10*time.Second).
			Desc("How long a request may wait for a place and for the pipeline to take it before it gets 503."),
		spec.Duration("retry_after").Default(time.Second).Advance().
			Desc("Retry-After sent with 503 replies (rounded up to whole seconds)."),
		spec.Duration("read_timeout").Default(time.Minute).Advance().
			Desc("How long a client may take to send a request's headers and body; slower ones get 408."),
		spec.Bool("allow_end_of_input").Default(false).
			Desc("Let a request with the header Weave-End-Of-Input: true end the input after it: later requests get 503, "+
				"and once every request taken before it has been read the pipeline finishes (a one-shot import). The request "+
				"may carry rows or none."),
		spec.Object("tls",
			spec.String("cert_file").Desc("PEM certificate (chain) the server presents."),
			spec.String("key_file").Desc("PEM private key of the certificate."),
			spec.String("client_ca_file").Optional().
				Desc("PEM file of the certificate authorities that sign client certificates: a client must present one "+
					"signed by them (mutual TLS), or the TLS handshake fails before any request is read. Combines with auth_token."),
		).Optional().Desc("Serve HTTPS instead of HTTP."),
	).
	WithExample("JSON and NDJSON orders with a bearer token", `source:
  http:
    address: ":8080"
    path: /orders
    auth_token: ${WEAVE_HTTP_TOKEN}
    schema: {id: int64, customer: utf8, amount: "decimal128(12,2)", ts: "timestamp[ms, UTC]"}
  on_error: dead_letter`).
	WithExample("A one-shot import that ends on request", `source:
  http:
    path: /import
    allow_end_of_input: true
    bad_rows: reject
    schema: {id: int64, name: utf8}`)

// Source is the HTTP server source. Each Open starts a server (a
// listener and its queue); Close stops it.
type Source struct {
	cfg serverConfig

	mu     sync.Mutex
	srv    *server // nil when closed
	picked string  // the address port 0 resolved to at the first Open
}

// serverConfig is what every server a Source starts shares.
type serverConfig struct {
	log        *slog.Logger
	mem        memory.Allocator
	schema     *arrow.Schema
	batchRows  int
	address    string
	path       string
	token      string
	tokenHash  [32]byte
	defFormat  string
	rejectBad  bool
	maxBody    int64
	maxRecord  int // max_record_bytes
	maxPending int
	maxWait    time.Duration
	retryAfter time.Duration
	readTO     time.Duration
	allowEnd   bool
	certFile   string
	keyFile    string
	clientCA   string        // client_ca_file: clients must present a certificate it signed
	stats      *requestStats // shared by every server of the Source
}

// defaultBatchRows is used when the pipeline gives none.
const defaultBatchRows = 65536

func newSource(conf *spec.Parsed, b engine.Build) (engine.Source, error) {
	schema, err := arrowtype.Schema(conf.Map("schema"))
	if err != nil {
		return nil, configErr(conf, "schema", "%v", err)
	}
	c := serverConfig{
		log: b.Logger, mem: b.Mem, schema: schema, batchRows: b.BatchRows,
		address: conf.String("address"), path: conf.String("path"), token: conf.String("auth_token"),
		defFormat: conf.String("default_format"), rejectBad: conf.String("bad_rows") == badRowsReject,
		maxBody: conf.ByteSize("max_body_bytes"), maxPending: conf.Int("max_pending_requests"),
		maxWait: conf.Duration("max_wait"), retryAfter: conf.Duration("retry_after"),
		readTO: conf.Duration("read_timeout"), allowEnd: conf.Bool("allow_end_of_input"),
		maxRecord: conf.Int("max_record_bytes"), stats: newRequestStats(),
	}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	if c.mem == nil {
		c.mem = memory.DefaultAllocator
	}
	if c.batchRows <= 0 {
		c.batchRows = defaultBatchRows
	}
	if !strings.HasPrefix(c.path, "/") {
		return nil, configErr(conf, "path", "must start with /")
	}
	if c.maxBody < 1 {
		return nil, configErr(conf, "max_body_bytes", "must be at least 1 byte")
	}
	if c.maxWait <= 0 {
		return nil, configErr(conf, "max_wait", "must be positive")
	}
	if t := conf.Object("tls"); t != nil && conf.Given("tls") {
		c.certFile, c.keyFile, c.clientCA = t.String("cert_file"), t.String("key_file"), t.String("client_ca_file")
	}
	// An empty ${VAR} would silently switch authentication off.
	if conf.Given("auth_token") && c.token == "" {
		return nil, configErr(conf, "auth_token", "is empty (an unset variable?); remove the field to accept requests without a token")
	}
	c.tokenHash = sha256.Sum256([]byte(c.token))
	return &Source{cfg: c}, nil
}

// Open starts the server. After a Close it starts a new one: requests
// that were waiting got 503 and are sent again by their clients.
func (s *Source) Open(ctx context.Context) (*arrow.Schema, error) {
	s.Close()
	cfg := s.cfg
	s.mu.Lock()
	if s.picked != "" {
		cfg.address = s.picked
	}
	s.mu.Unlock()
	srv, err := startServer(cfg, runs.Add(1))
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	s.srv = srv
	if _, port, _ := net.SplitHostPort(s.cfg.address); port == "0" {
		// Keep the port picked for port 0: validation opens the source
		// before the run does, and clients told the first port must
		// find the server there.
		s.picked = srv.addr
	}
	s.mu.Unlock()
	return s.cfg.schema, nil
}

func (s *Source) server() *server {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.srv
}

// Addr is the address the server listens on ("" when it is not open),
// which tells tests and logs the port picked for port 0.
func (s *Source) Addr() string {
	if srv := s.server(); srv != nil {
		return srv.addr
	}
	return ""
}

// Read returns the rows of the requests waiting, up to BatchRows: a
// request larger than that spans several batches, smaller ones share one.
// It waits for a request when none is waiting. A Read whose context ends
// answers the requests still waiting with 503: the pipeline is stopping.
func (s *Source) Read(ctx context.Context) (*engine.Batch, error) {
	srv := s.server()
	if srv == nil {
		return nil, errClosed
	}
	return srv.read(ctx)
}

// Ack answers 200 to every request whose last rows were in a batch up to
// and including cp's.
func (s *Source) Ack(_ context.Context, cp engine.Checkpoint) error {
	c, ok := cp.(checkpoint)
	if !ok {
		return fmt.Errorf("http source: Ack with a checkpoint of type %T", cp)
	}
	srv := s.server()
	if srv == nil || srv.run != c.Run {
		// Acks of a server already stopped: its clients got 503 and
		// retry, which is the at-least-once answer.
		return nil
	}
	srv.ack(c.Batch)
	return nil
}

// Close answers every request not yet acknowledged with 503 and stops the
// server, waiting briefly for replies to be written.
func (s *Source) Close() error {
	s.mu.Lock()
	srv := s.srv
	s.srv = nil
	s.mu.Unlock()
	if srv == nil {
		return nil
	}
	return srv.shutdown()
}

// crash stops the server the way a dying process does: connections are
// dropped and no request gets an answer. Tests use it.
func (s *Source) crash() {
	s.mu.Lock()
	srv := s.srv
	s.srv = nil
	s.mu.Unlock()
	if srv != nil {
		srv.crash()
	}
}

// runs numbers server runs across every Source of the process.
var runs atomic.Int64

// checkpoint names a batch of one server run (one Open): an Ack that
// reaches a restarted source does nothing.
type checkpoint struct {
	Run   int64
	Batch int64
}

func configErr(conf *spec.Parsed, field, msg string, args ...any) error {
	return fmt.Errorf("%w: %w", engine.ErrInvalidConfig, conf.Errorf(field, msg, args...))
}

var errClosed = errors.New("http source: closed")
