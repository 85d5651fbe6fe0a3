package nats

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/dataweaver/dataweaver/codec"
	"github.com/dataweaver/dataweaver/connectors/arrowtype"
	"github.com/dataweaver/dataweaver/connectors/internal/schemareg"
	"github.com/dataweaver/dataweaver/engine"
	"github.com/dataweaver/dataweaver/engine/spec"
)

// Deliver policies (where a new durable consumer starts).
const (
	deliverAll      = "all"
	deliverNew      = "new"
	deliverSequence = "sequence"
	deliverTime     = "time"
)

// defaultLinger is the batch wait when the pipeline gives none.
const defaultLinger = 100 * time.Millisecond

var sourceSpec = spec.New("nats_jetstream").
	Summary("Reads messages from a NATS JetStream stream through a durable pull consumer; acknowledges them only once every sink has flushed them.").
	Description("Each message is one row, decoded by codec. Batches hold up to the pipeline's batch rows "+
		"and wait at most its linger for a batch to fill. A message is acknowledged only after every sink "+
		"has flushed the batch that carried it, so a run that fails or a process that dies before that gets "+
		"the message again (at-least-once): on a clean Close unacknowledged messages are nak'ed and come back "+
		"at once, after a crash they come back when ack_wait expires.\n\n"+
		"The consumer is created, or updated, with the given durable name; its start position (deliver) only "+
		"applies when it is first created, afterwards it resumes where it left off. Messages that do not decode "+
		"are rows rejected with their subject, stream sequence and raw bytes and go through the source's on_error policy; "+
		"so are messages delivered more than max_deliver times (poison messages), which are then terminated.\n\n"+
		"A lost connection does not end the run: the client reconnects, fetches and acknowledgements are retried "+
		"with backoff (each try waits at most request_timeout), and the run fails only once the server has been "+
		"gone for longer than max_outage. An acknowledgement retried after a reconnect is sent again in full, so "+
		"none is lost with the old connection. A server killed without saving its consumer's state forgets what it "+
		"delivered last and ignores the acknowledgements of those messages: the source sees that, goes on, and "+
		"gets them again.\n\n"+
		"The position the engine saves (stream and sequence, shown as \"stream ORDERS seq 1,234\") is only "+
		"reported on the next run: the durable consumer in the server is authoritative for where reading resumes, "+
		"and neither a consumer ahead of the saved position nor --from-start moves it (use a new durable name to "+
		"read again from deliver's start).").
	Field(connectionFields()...).
	Field(
		spec.String("stream").Desc("The JetStream stream to read.").Example("ORDERS"),
		spec.String("durable").Desc("Durable consumer name: the position survives restarts under this name.").Example("weave-orders"),
		spec.String("filter_subject").Optional().Desc("Only messages on this subject (wildcards allowed).").Example("orders.created"),
		spec.String("deliver").Default(deliverAll).OneOf(deliverAll, deliverNew, deliverSequence, deliverTime).
			Desc("Where a new consumer starts: all (the first message), new (messages published from now on), "+
				"sequence (start_sequence), time (start_time)."),
		spec.Int("start_sequence").Optional().Desc("First stream sequence to read, with deliver: sequence.").Example("1000"),
		spec.String("start_time").Optional().Desc("RFC 3339 time to start from, with deliver: time.").Example(`"2024-05-01T00:00:00Z"`).
			Validate(func(v any) error { _, err := time.Parse(time.RFC3339Nano, v.(string)); return err }),
		spec.Duration("ack_wait").Default(30*time.Second).
			Desc("How long the server waits for an acknowledgement before it hands a message to another worker on the "+
				"same durable (or the next run): the lease of a worker that died. While the source holds a message "+
				"it tells the server every third of ack_wait that the message is in progress, so a sink that takes "+
				"longer (one that commits at checkpoints or on close) causes no redelivery; a process that dies "+
				"stops, and its messages come back ack_wait later. Shorter hands a dead worker's messages over "+
				"sooner, for more in-progress messages sent. At least 100ms."),
		spec.Int("max_deliver").Default(0).
			Desc("How many times a message may be delivered to the pipeline; 0 means no limit. A message delivered "+
				"once more than that (the runs that read it failed or crashed before acknowledging it) is not decoded "+
				"again: it goes with its raw bytes to the source's on_error policy (dead_letter keeps it, skip counts "+
				"it) and is then terminated, so the server stops redelivering it. Every message of a batch that keeps "+
				"failing is counted, not only the culprit.").
			Example("5").
			Validate(func(v any) error {
				if v.(int) < 0 {
					return errors.New("must not be negative")
				}
				return nil
			}),
		spec.Int("max_ack_pending").Default(0).Advance().
			Desc("Messages delivered but not yet acknowledged that the server allows; 0 means 250,000 or 16 batches' "+
				"worth, whichever is more. The source holds each one's reply subject (about 100 bytes) until it is "+
				"acknowledged. With a sink that publishes at checkpoints (a directory of part files, Postgres "+
				"exactly_once) acknowledgements come at checkpoints only, so the source reads at most this many "+
				"messages per checkpoint_every; a single-file sink acknowledges only when the run ends."),
		spec.Bool("stop_at_end").Default(false).
			Desc("End the input once the consumer has nothing left to deliver (for backfills, tests and benchmarks); "+
				"by default the source waits for new messages until the pipeline is stopped."),
		arrowtype.Field("schema").Optional().
			Desc("Columns of the rows (codec json; avro takes them from the Avro schema): an ordered mapping of "+
				"column name to Arrow type, as in the file source."),
	).
	Field(codec.Fields()...).
	Field(schemareg.Field(false, "subject")).
	Field(codec.MaxRecordBytesField()).
	WithExample("JSON orders from a stream", `source:
  nats_jetstream:
    urls: [nats://localhost:4222]
    stream: ORDERS
    durable: weave-orders
    filter_subject: orders.created
    schema: {id: int64, customer: utf8, amount: "decimal128(12,2)", ts: "timestamp[ms, UTC]"}`).
	WithExample("A secured cluster: a .creds file, TLS with a private CA and a client certificate", `source:
  nats_jetstream:
    urls: [tls://nats.internal:4222]
    credentials_file: /etc/weave/orders.creds
    tls: {ca_file: /etc/weave/ca.pem, cert_file: /etc/weave/weave.pem, key_file: /etc/weave/weave-key.pem}
    stream: ORDERS
    durable: weave-orders
    schema: {id: int64, customer: utf8}`).
	WithExample("Avro (single-object encoding) from a point in time", `source:
  nats_jetstream:
    stream: EVENTS
    durable: weave-events
    deliver: time
    start_time: "2024-05-01T00:00:00Z"
    codec: avro
    avro:
      encoding: single_object
      schema: '{"type": "record", "name": "event", "fields": [{"name": "kind", "type": "string"}, {"name": "at", "type": {"type": "long", "logicalType": "timestamp-millis"}}]}'`)

// Source reads a JetStream stream through a durable pull consumer.
type Source struct {
	name    string
	conn    connConfig
	codec   codec.Config
	reg     *schemareg.Config // nil without schema_registry
	mem     memory.Allocator
	batch   int
	linger  time.Duration
	stop    bool
	maxDel  int // max_deliver; 0 for no limit
	consCfg jetstream.ConsumerConfig
	stream  string
	link    *link
	resumed *checkpoint // the position an earlier run saved, for the log

	nc   *nats.Conn
	cons jetstream.Consumer
	dec  codec.Decoder
	ext  *extender // sends in-progress for held messages (progress.go)

	mu      sync.Mutex
	pending []held    // batches read and not yet acknowledged, in read order
	seq     int64     // checkpoint of the next batch
	held    int       // messages in pending
	lastSeq uint64    // stream sequence of the last message handed out
	lastOut time.Time // when Read last returned a batch

	// undelivered is the consumer's count of messages not yet delivered,
	// as of the last message fetched (its metadata carries it); -1 before.
	undelivered atomic.Int64
}

// idleEvery is how long Read waits for messages, while it holds messages
// not yet acknowledged, before it returns an empty batch. The engine
// sends a checkpoint's barrier only after a batch, and sinks that publish
// at checkpoints (a directory, Postgres exactly_once) acknowledge only
// then: a Read that waited for messages the server holds back until
// those acknowledgements (max_ack_pending) would wait until ack_wait
// redelivered them, read them twice, and crawl.
const idleEvery = time.Second

// defaultMaxAckPending bounds the messages read and not yet acknowledged
// when max_ack_pending is 0: with acknowledgements at checkpoints (every
// 10 s by default) it caps the source at 25,000 messages a second; 16
// batches of 1,000, the old default, capped it at 1,600.
const defaultMaxAckPending = 250_000

// held is one batch's messages, acknowledged together: their reply
// subjects, all an ack needs (the messages' data would stay in memory
// until the next checkpoint). poison[i] marks a message rejected for
// max_deliver, which is terminated instead.
type held struct {
	seq     int64
	replies []string
	poison  []bool // nil when the batch has none
	last    uint64 // highest stream sequence in the batch
}

// ErrMaxDeliver is wrapped by the RowError of a message the source
// rejected because it was delivered more than max_deliver times.
var ErrMaxDeliver = errors.New("nats: delivered more than max_deliver times")

func newSource(conf *spec.Parsed, b engine.Build) (engine.Source, error) {
	s := &Source{
		name: b.Name, mem: b.Mem,
		batch: b.BatchRows, linger: b.Linger, stop: conf.Bool("stop_at_end"), stream: conf.String("stream"),
		maxDel: conf.Int("max_deliver"), link: readLink(conf, b),
	}
	var err error
	if s.conn, err = readConnConfig(conf, b.Name); err != nil {
		return nil, err
	}
	if s.batch <= 0 {
		s.batch = 1000
	}
	if s.linger <= 0 {
		s.linger = defaultLinger
	}
	s.undelivered.Store(-1) // unknown until the first fetch
	var schema *arrow.Schema
	if conf.Given("schema") {
		if schema, err = arrowtype.Schema(conf.Map("schema")); err != nil {
			return nil, configErr(conf, "schema", "%v", err)
		}
	}
	if s.codec, err = codec.FromConfig(conf, schema); err != nil {
		return nil, fmt.Errorf("%w: %w", engine.ErrInvalidConfig, err)
	}
	if s.reg, err = schemareg.FromConfig(conf); err != nil {
		return nil, fmt.Errorf("%w: %w", engine.ErrInvalidConfig, err)
	}
	// Build a decoder now so a missing schema or a bad .avsc fails
	// validation, not the first read.
	if _, err := schemareg.Schema(s.reg, s.codec, b.Mem); err != nil {
		return nil, configErr(conf, "codec", "%v", err)
	}
	maxAck := conf.Int("max_ack_pending")
	if maxAck < 0 {
		return nil, configErr(conf, "max_ack_pending", "must not be negative")
	}
	if maxAck == 0 {
		maxAck = max(defaultMaxAckPending, 16*s.batch)
	}
	cc := jetstream.ConsumerConfig{
		Durable:       conf.String("durable"),
		FilterSubject: conf.String("filter_subject"),
		AckPolicy:     jetstream.AckExplicitPolicy,
		AckWait:       conf.Duration("ack_wait"),
		MaxAckPending: maxAck,
	}
	switch conf.String("deliver") {
	case deliverAll:
		cc.DeliverPolicy = jetstream.DeliverAllPolicy
	case deliverNew:
		cc.DeliverPolicy = jetstream.DeliverNewPolicy
	case deliverSequence:
		if !conf.Given("start_sequence") || conf.Int("start_sequence") < 1 {
			return nil, configErr(conf, "start_sequence", "deliver: sequence needs start_sequence (1 or more)")
		}
		cc.DeliverPolicy, cc.OptStartSeq = jetstream.DeliverByStartSequencePolicy, uint64(conf.Int("start_sequence"))
	case deliverTime:
		if !conf.Given("start_time") {
			return nil, configErr(conf, "start_time", "deliver: time needs start_time")
		}
		t, _ := time.Parse(time.RFC3339Nano, conf.String("start_time"))
		cc.DeliverPolicy, cc.OptStartTime = jetstream.DeliverByStartTimePolicy, &t
	}
	if conf.Given("start_sequence") && cc.DeliverPolicy != jetstream.DeliverByStartSequencePolicy {
		return nil, configErr(conf, "start_sequence", "start_sequence needs deliver: sequence")
	}
	if conf.Given("start_time") && cc.DeliverPolicy != jetstream.DeliverByStartTimePolicy {
		return nil, configErr(conf, "start_time", "start_time needs deliver: time")
	}
	if cc.AckWait < 100*time.Millisecond {
		return nil, configErr(conf, "ack_wait", "ack_wait must be at least 100ms, got %v", cc.AckWait)
	}
	s.consCfg = cc
	return s, nil
}

// Open connects and creates or updates the durable consumer. After a
// Close it starts again from the consumer's position: whatever was not
// acknowledged is delivered again.
func (s *Source) Open(ctx context.Context) (*arrow.Schema, error) {
	s.Close()
	dec, err := schemareg.NewDecoder(s.reg, s.codec, s.mem)
	if err != nil {
		return nil, err
	}
	nc, err := s.conn.connect(s.link)
	if err != nil {
		return nil, err
	}
	js, err := jetstream.New(nc)
	if err != nil {
		nc.Close()
		return nil, fmt.Errorf("nats: %w", err)
	}
	// JetStream answers "no responders" for a while after its server
	// starts: retried within max_outage like any outage.
	var cons jetstream.Consumer
	err = s.link.do(ctx, fmt.Sprintf("nats: stream %q, consumer %q", s.stream, s.consCfg.Durable), func(ctx context.Context) error {
		var err error
		cons, err = js.CreateOrUpdateConsumer(ctx, s.stream, s.consCfg)
		return err
	})
	if err != nil {
		nc.Close()
		return nil, err
	}
	s.logResume(cons.CachedInfo().AckFloor.Stream)
	s.nc, s.cons, s.dec = nc, cons, dec
	s.ext = s.startExtender(nc)
	return dec.Schema(), nil
}

// Read fetches up to BatchRows messages, waiting at most Linger for the
// batch to fill once the first request went out; it keeps fetching while
// nothing arrives, and through an outage up to max_outage.
func (s *Source) Read(ctx context.Context) (*engine.Batch, error) {
	if s.cons == nil {
		return nil, errClosed
	}
	r := s.link.retrier(fmt.Sprintf("nats: fetch from %q", s.stream))
	for {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if s.link.isDown() {
			// A pull request sent now would only be buffered, to reach
			// the server after the reconnect when its fetch has long
			// given up; wait instead, and keep the outage's clock.
			if err := r.again(ctx, nats.ErrConnectionReconnecting); err != nil {
				return nil, err
			}
			continue
		}
		msgs, err := s.fetch(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			if !transient(err) {
				return nil, fmt.Errorf("nats: fetch from %q: %w", s.stream, err)
			}
			if err := r.again(ctx, err); err != nil {
				return nil, err
			}
			continue
		}
		if len(msgs) > 0 {
			s.link.ok()
			s.notePending(msgs[len(msgs)-1])
			return s.decode(msgs)
		}
		if s.stop {
			done, err := s.drained(ctx)
			if err != nil {
				return nil, err
			}
			if done {
				return nil, engine.ErrEndOfInput
			}
		}
		if b := s.idle(); b != nil {
			return b, nil
		}
	}
}

// idle returns an empty batch, with a checkpoint of its own, when Read
// has held unacknowledged messages for idleEvery without a batch to
// return; else nil.
func (s *Source) idle() *engine.Batch {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.held == 0 || time.Since(s.lastOut) < idleEvery {
		return nil
	}
	cp := checkpoint{Stream: s.stream, StreamSeq: s.lastSeq, Batch: s.seq}
	s.seq++
	s.pending = append(s.pending, held{seq: cp.Batch})
	s.lastOut = time.Now()
	return &engine.Batch{Checkpoint: cp}
}

// fetch pulls up to a batch of messages. It bounds the pull by the
// server-side expiry (FetchMaxWait), not by a context: a fetch cut short by
// the client drops messages the server already sent, which then sit
// unacknowledged until ack_wait (30 s by default) redelivers them. A
// cancelled ctx therefore takes effect after at most one linger.
func (s *Source) fetch(ctx context.Context) ([]jetstream.Msg, error) {
	mb, err := s.cons.Fetch(s.batch, jetstream.FetchMaxWait(s.linger))
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, err
	}
	var msgs []jetstream.Msg
	for m := range mb.Messages() {
		msgs = append(msgs, m)
	}
	if err := mb.Error(); err != nil && !errors.Is(err, context.DeadlineExceeded) && !errors.Is(err, nats.ErrTimeout) {
		if ctx.Err() != nil {
			s.nak(replies(msgs))
			return nil, ctx.Err()
		}
		if len(msgs) == 0 {
			return nil, err
		}
	}
	return msgs, nil
}

// drained reports whether the consumer has nothing left to give: no
// undelivered messages and none awaiting acknowledgement except those this
// source holds (messages a previous run left unacknowledged count as not
// yet delivered until ack_wait hands them out again).
func (s *Source) drained(ctx context.Context) (bool, error) {
	var info *jetstream.ConsumerInfo
	err := s.link.do(ctx, "nats: consumer info", func(ctx context.Context) error {
		var err error
		info, err = s.cons.Info(ctx)
		return err
	})
	if err != nil {
		return false, err
	}
	s.mu.Lock()
	held := s.held
	s.mu.Unlock()
	return info.NumPending == 0 && info.NumAckPending <= held, nil
}

func (s *Source) decode(msgs []jetstream.Msg) (*engine.Batch, error) {
	data := make([][]byte, 0, len(msgs))
	var (
		bytes   int64
		poison  []bool
		rejects []engine.RowError
		kept    []int // index in msgs of each entry of data, once a message was left out
	)
	for i, m := range msgs {
		bytes += int64(len(m.Data()))
		if n := s.overDelivered(m); n > 0 {
			if poison == nil {
				poison = make([]bool, len(msgs))
				for j := range i {
					kept = append(kept, j)
				}
			}
			poison[i] = true
			rejects = append(rejects, engine.RowError{Row: i, Raw: m.Data(),
				Err: fmt.Errorf("%w: delivered %d times, max_deliver is %d", ErrMaxDeliver, n, s.maxDel)})
			continue
		}
		if poison != nil {
			kept = append(kept, i)
		}
		data = append(data, m.Data())
	}
	rec, bad, err := s.dec.Decode(data)
	if err != nil {
		s.nak(replies(msgs))
		return nil, fmt.Errorf("nats: decode: %w", err)
	}
	if poison != nil {
		// The decoder numbered the messages it was given; the batch's
		// rejects name their place in the batch.
		for i := range bad {
			bad[i].Row = kept[bad[i].Row]
		}
		rejects = append(rejects, bad...)
		slices.SortFunc(rejects, func(a, b engine.RowError) int { return a.Row - b.Row })
	} else {
		rejects = bad
	}
	for i := range rejects {
		m := msgs[rejects[i].Row]
		rejects[i].File = m.Subject()
		if md, err := m.Metadata(); err == nil {
			rejects[i].Line = int64(md.Sequence.Stream)
		}
	}
	cp := checkpoint{Stream: s.stream}
	if md, err := msgs[len(msgs)-1].Metadata(); err == nil {
		cp.StreamSeq = md.Sequence.Stream
	}
	h := held{replies: replies(msgs), poison: poison}
	for _, m := range msgs {
		if md, err := m.Metadata(); err == nil {
			h.last = max(h.last, md.Sequence.Stream)
		}
	}
	s.mu.Lock()
	if cp.StreamSeq == 0 {
		cp.StreamSeq = s.lastSeq
	}
	s.lastSeq, s.lastOut = cp.StreamSeq, time.Now()
	cp.Batch = s.seq
	s.seq++
	h.seq = cp.Batch
	s.pending = append(s.pending, h)
	s.held += len(msgs)
	s.mu.Unlock()
	return &engine.Batch{Record: rec, Rejects: rejects, Checkpoint: cp, Bytes: bytes, TraceParent: traceParent(msgs)}, nil
}

// traceParent is the W3C traceparent header of the first message that
// has one: a batch has one parent span, so the scan stops at the first hit.
func traceParent(msgs []jetstream.Msg) string {
	for _, m := range msgs {
		if h := m.Headers(); len(h) > 0 {
			if v := h.Get("traceparent"); v != "" {
				return v
			}
		}
	}
	return ""
}

// overDelivered returns how often m was delivered when that is more than
// max_deliver, else 0.
func (s *Source) overDelivered(m jetstream.Msg) int {
	if s.maxDel == 0 {
		return 0
	}
	md, err := m.Metadata()
	if err != nil || md.NumDelivered <= uint64(s.maxDel) {
		return 0
	}
	return int(md.NumDelivered)
}

func replies(msgs []jetstream.Msg) []string {
	out := make([]string, len(msgs))
	for i, m := range msgs {
		out[i] = m.Reply()
	}
	return out
}

// nak hands messages back to the server for redelivery at once, without
// waiting for an answer (ack_wait brings back any nak that is lost).
func (s *Source) nak(replies []string) {
	if s.nc == nil {
		return
	}
	for _, r := range replies {
		_ = s.nc.Publish(r, nakBody)
	}
}

// Close naks every message it still holds, so the next run gets them at
// once rather than after ack_wait, and disconnects.
func (s *Source) Close() error {
	s.ext.halt()
	s.ext = nil
	s.mu.Lock()
	pending := s.pending
	s.pending, s.held = nil, 0
	s.mu.Unlock()
	for _, h := range pending {
		s.nak(h.replies)
	}
	closeConn(s.nc)
	s.nc, s.cons, s.dec = nil, nil, nil
	return nil
}

// abandon drops the connection without nak'ing, as a crashed process
// would: the server redelivers after ack_wait. Tests use it.
func (s *Source) abandon() {
	s.ext.halt()
	s.ext = nil
	s.mu.Lock()
	s.pending, s.held = nil, 0
	s.mu.Unlock()
	if s.nc != nil {
		s.nc.Close()
	}
	s.nc, s.cons, s.dec = nil, nil, nil
}
