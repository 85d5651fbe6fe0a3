package nats

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/dataweaver/dataweaver/codec"
	"github.com/dataweaver/dataweaver/connectors/internal/schemareg"
	"github.com/dataweaver/dataweaver/engine"
	"github.com/dataweaver/dataweaver/engine/spec"
)

var sinkSpec = spec.New("nats").
	Summary("Publishes each row as a message on a NATS subject: to JetStream with publish acknowledgements (default), or core NATS.").
	Description("Rows are encoded by codec, one message per row. With jetstream: true (the default) messages are "+
		"published asynchronously and Flush waits for the server's acknowledgement of every one, so a batch counts "+
		"as written only once the stream has stored it; messages the server refused are published again on the "+
		"next Flush, which the engine retries. With msg_id_column, each message carries that column's value as "+
		"Nats-Msg-Id and the stream drops a message it has already stored under the same id within its duplicate "+
		"window, so a batch replayed after a failure is not stored twice.\n\n"+
		"A lost connection does not fail the run: the client reconnects and buffers what is published meanwhile, "+
		"Flush publishes again every message whose acknowledgement was lost or timed out (request_timeout) and "+
		"retries with backoff, and the run fails only once the server has been gone for longer than max_outage. "+
		"A message published again may be stored twice unless it has an id: msg_id_column, or dedupe_retries.\n\n"+
		"With jetstream: false messages go to core NATS: Flush only waits until the server has received them; "+
		"subscribers that are not connected miss them.").
	Field(connectionFields()...).
	Field(
		spec.String("subject").Desc("Subject to publish on; with JetStream a stream must capture it.").Example("orders.created"),
		spec.Bool("jetstream").Default(true).Desc("Publish to JetStream and wait for acknowledgements; false publishes to core NATS."),
		spec.String("msg_id_column").Optional().
			Desc("Column whose value (as text) becomes each message's Nats-Msg-Id, for de-duplication by the stream (JetStream only). "+
				"A null leaves that message without an id.").
			Example("order_id"),
		spec.Bool("dedupe_retries").Default(false).
			Desc("Give each message without msg_id_column an id of its own (a random id of the run and the message's "+
				"number) as Nats-Msg-Id, so a message published again after its acknowledgement was lost (a reconnect, "+
				"a timeout) is stored once. The ids are new each run: a batch a later run replays is not de-duplicated "+
				"(msg_id_column is). Off by default: the stream keeps every id for its duplicate window (2 minutes by "+
				"default), which costs server memory at high rates."),
		spec.Int("max_pending").Default(4096).Advance().
			Desc("JetStream publishes awaiting acknowledgement before publishing blocks.").
			Validate(func(v any) error {
				if v.(int) < 1 {
					return errors.New("must be at least 1")
				}
				return nil
			}),
	).
	Field(codec.Fields()...).
	Field(schemareg.Field(true, "subject")).
	WithExample("Orders to a JetStream stream, de-duplicated by id", `sinks:
  - nats:
      urls: [nats://localhost:4222]
      subject: orders.clean
      msg_id_column: id`).
	WithExample("User and password from the environment, over TLS", `sinks:
  - nats:
      urls: [nats://nats.internal:4222]
      user: weave
      password: ${NATS_PASSWORD}
      tls: {ca_file: /etc/weave/ca.pem}
      subject: orders.clean`).
	WithExample("Core NATS, Avro", `sinks:
  - nats: {subject: metrics.cpu, jetstream: false, codec: avro}`)

func init() {
	engine.RegisterSource(sourceSpec, newSource)
	engine.RegisterSink(sinkSpec, newSink)
}

// Sink publishes rows as messages.
type Sink struct {
	conn       connConfig
	codec      codec.Config
	reg        *schemareg.Config // nil without schema_registry
	mem        memory.Allocator
	subject    string
	jetstream  bool
	idColumn   string
	maxPending int
	dedupe     bool // dedupe_retries
	link       *link

	nc      *nats.Conn
	js      jetstream.JetStream
	enc     codec.Encoder
	idCol   int // index of idColumn, -1 when none
	futures []jetstream.PubAckFuture
	retry   []*nats.Msg // refused by the server, published again on Flush
	runID   string      // prefix of dedupe_retries' ids, new each Open
	msgNum  uint64      // number of the last message given a dedupe_retries id

	// duplicates counts publishes the stream acknowledged as already stored.
	duplicates int64
}

func newSink(conf *spec.Parsed, b engine.Build) (engine.Sink, error) {
	s := &Sink{
		mem: b.Mem, subject: conf.String("subject"),
		jetstream: conf.Bool("jetstream"), idColumn: conf.String("msg_id_column"), maxPending: conf.Int("max_pending"), idCol: -1,
		dedupe: conf.Bool("dedupe_retries"), link: readLink(conf, b),
	}
	var err error
	if s.conn, err = readConnConfig(conf, b.Name); err != nil {
		return nil, err
	}
	if s.subject == "" {
		return nil, configErr(conf, "subject", "subject is empty")
	}
	if s.idColumn != "" && !s.jetstream {
		return nil, configErr(conf, "msg_id_column", "message ids de-duplicate in JetStream only; remove it or set jetstream: true")
	}
	if s.dedupe && (s.idColumn != "" || !s.jetstream) {
		return nil, configErr(conf, "dedupe_retries", "dedupe_retries gives ids to messages that have none, in JetStream only: "+
			"remove it, or msg_id_column, or set jetstream: true")
	}
	if s.codec, err = codec.FromConfig(conf, nil); err != nil {
		return nil, fmt.Errorf("%w: %w", engine.ErrInvalidConfig, err)
	}
	if s.codec.AvroSchema != "" || s.codec.AvroSchemaFile != "" {
		return nil, configErr(conf, "avro", "the sink derives the Avro schema from its columns; remove avro.schema and avro.schema_file")
	}
	if s.reg, err = schemareg.FromConfig(conf); err != nil {
		return nil, fmt.Errorf("%w: %w", engine.ErrInvalidConfig, err)
	}
	if err := s.reg.CheckSink(s.codec); err != nil {
		return nil, configErr(conf, schemareg.FieldName, "%v", err)
	}
	return s, nil
}

// CheckSchema checks that the message id column exists.
func (s *Sink) CheckSchema(schema *arrow.Schema) error {
	if s.idColumn == "" {
		return nil
	}
	if idx := schema.FieldIndices(s.idColumn); len(idx) == 0 {
		return fmt.Errorf("%w: nats sink: msg_id_column %q is not a column (have %v)", engine.ErrSchema, s.idColumn, columnNames(schema))
	}
	return nil
}

func columnNames(schema *arrow.Schema) []string {
	out := make([]string, schema.NumFields())
	for i, f := range schema.Fields() {
		out[i] = f.Name
	}
	return out
}

func (s *Sink) Open(ctx context.Context, schema *arrow.Schema) error {
	if err := s.CheckSchema(schema); err != nil {
		return err
	}
	if s.idColumn != "" {
		s.idCol = schema.FieldIndices(s.idColumn)[0]
	}
	enc, err := schemareg.NewEncoder(ctx, s.reg, s.codec, s.subject, schema, s.mem)
	if err != nil {
		return fmt.Errorf("nats sink: %w", err)
	}
	nc, err := s.conn.connect(s.link)
	if err != nil {
		return err
	}
	if s.dedupe {
		if s.runID, err = newRunID(); err != nil {
			nc.Close()
			return fmt.Errorf("nats sink: %w", err)
		}
		s.msgNum = 0
	}
	if s.jetstream {
		// The timeout fails a publish whose acknowledgement never comes
		// (lost with the stream's leader, say), so Flush publishes it
		// again instead of waiting for ever; a reconnect fails every
		// outstanding one at once.
		js, err := jetstream.New(nc, jetstream.WithPublishAsyncMaxPending(s.maxPending),
			jetstream.WithPublishAsyncTimeout(s.link.timeout))
		if err != nil {
			nc.Close()
			return fmt.Errorf("nats sink: %w", err)
		}
		s.js = js
	}
	s.nc, s.enc = nc, enc
	return nil
}

// Write publishes one message per row. JetStream acknowledgements are
// collected by Flush.
func (s *Sink) Write(ctx context.Context, rec arrow.RecordBatch) error {
	if s.nc == nil {
		return engine.Permanent(errClosed)
	}
	var ids arrow.Array
	if s.idCol >= 0 {
		ids = rec.Column(s.idCol)
	}
	// When the pipeline is traced, every JetStream message carries the
	// sink span's traceparent, so a consumer continues the trace (core
	// NATS messages are published without headers).
	tp := engine.TraceParent(ctx)
	return s.enc.Encode(rec, func(row int, data []byte) error {
		if !s.jetstream {
			return s.publishCore(ctx, data)
		}
		m := &nats.Msg{Subject: s.subject, Data: append([]byte(nil), data...)}
		switch {
		case ids != nil && ids.IsValid(row):
			m.Header = nats.Header{jetstream.MsgIDHeader: []string{idText(ids, row)}}
		case s.dedupe:
			s.msgNum++
			m.Header = nats.Header{jetstream.MsgIDHeader: []string{s.runID + strconv.FormatUint(s.msgNum, 10)}}
		}
		if tp != "" {
			if m.Header == nil {
				m.Header = nats.Header{}
			}
			m.Header["traceparent"] = []string{tp}
		}
		return s.publish(ctx, m)
	})
}

func idText(a arrow.Array, i int) string {
	if s, ok := a.(*array.String); ok {
		return s.Value(i)
	}
	return a.ValueStr(i)
}

// newRunID returns the prefix of one run's dedupe_retries ids.
func newRunID() (string, error) {
	var b [12]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	return "dataweaver-" + hex.EncodeToString(b[:]) + "-", nil
}

// publishCore publishes data to core NATS. While the client reconnects it
// buffers what is published; once that buffer is full, publishCore waits
// with backoff up to max_outage.
func (s *Sink) publishCore(ctx context.Context, data []byte) error {
	r := s.link.retrier("nats sink: publish to " + s.subject)
	for {
		err := s.nc.Publish(s.subject, data)
		if err == nil {
			return nil
		}
		if !transient(err) {
			return fmt.Errorf("nats sink: publish to %s: %w", s.subject, err)
		}
		if err := r.again(ctx, err); err != nil {
			return outageFinal(err)
		}
	}
}

// outageFinal marks an error past max_outage Permanent: the engine's own
// retries would only wait the same outage out again.
func outageFinal(err error) error {
	if errors.Is(err, ErrOutage) {
		return engine.Permanent(err)
	}
	return err
}

// publish sends m asynchronously. When too many acknowledgements are
// outstanding it waits for them (those refused wait for Flush) and tries
// again; through an outage (the reconnect buffer full, say) it tries
// again with backoff up to max_outage.
func (s *Sink) publish(ctx context.Context, m *nats.Msg) error {
	r := s.link.retrier("nats sink: publish to " + s.subject)
	for {
		f, err := s.js.PublishMsgAsync(m)
		if err == nil {
			s.futures = append(s.futures, f)
			return nil
		}
		if errors.Is(err, jetstream.ErrTooManyStalledMsgs) {
			if err = s.settle(ctx); err == nil {
				continue
			}
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if !transient(err) {
			return fmt.Errorf("nats sink: publish to %s: %w", s.subject, err)
		}
		if err := r.again(ctx, err); err != nil {
			return outageFinal(err)
		}
	}
}

// settle waits for every outstanding acknowledgement; messages the server
// refused are kept for the next Flush, and the first refusal is returned.
func (s *Sink) settle(ctx context.Context) error {
	var first error
	for _, f := range s.futures {
		select {
		case ack := <-f.Ok():
			if ack.Duplicate {
				s.duplicates++
			}
		case err := <-f.Err():
			s.retry = append(s.retry, f.Msg())
			if first == nil {
				first = fmt.Errorf("nats sink: publish to %s not acknowledged: %w", s.subject, err)
			}
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	s.futures = s.futures[:0]
	return first
}

// Flush returns once the server has every message written so far: for
// JetStream, once the stream acknowledged each; refused messages are
// published again first, so the engine's retry of a failed Flush resends
// them.
func (s *Sink) Flush(ctx context.Context) error {
	if s.nc == nil {
		return engine.Permanent(errClosed)
	}
	if !s.jetstream {
		// nats.go wants a deadline for the round trip; link.do gives
		// each try request_timeout and retries through an outage.
		// Messages published while the client reconnects wait in its
		// buffer and go out once it has; those written to a connection
		// as it died are lost (core NATS promises no more).
		return outageFinal(s.link.do(ctx, "nats sink: flush", s.nc.FlushWithContext))
	}
	r := s.link.retrier("nats sink: publish to " + s.subject)
	for {
		err := s.resend(ctx)
		if err == nil {
			err = s.settle(ctx)
		}
		if err == nil {
			s.link.ok()
			return nil
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if engine.IsPermanent(err) || !transient(err) {
			return err
		}
		if err := r.again(ctx, err); err != nil {
			return outageFinal(err)
		}
	}
}

// resend publishes again the messages refused so far.
func (s *Sink) resend(ctx context.Context) error {
	retry := s.retry
	s.retry = nil
	for i, m := range retry {
		if err := s.publish(ctx, m); err != nil {
			s.retry = append(s.retry, retry[i:]...)
			return err
		}
	}
	return nil
}

// Close disconnects; messages not yet flushed may be lost, as with any
// sink closed without Flush.
func (s *Sink) Close() error {
	if s.nc == nil {
		return nil
	}
	if s.js != nil && s.js.PublishAsyncPending() > 0 {
		// Stop waiting for acknowledgements of a failed run. Only then:
		// in nats.go v1.55 CleanupPublisher can run before the goroutine
		// the first PublishAsync started has read its status channel,
		// which it then reads as nil and blocks on forever (a goroutine
		// leaked per run, caught by the conformance leak check). Without
		// the cleanup, closing the connection sends that goroutine CLOSED.
		s.js.CleanupPublisher()
	}
	closeConn(s.nc)
	s.nc, s.js, s.enc, s.futures, s.retry = nil, nil, nil, nil, nil
	return nil
}
