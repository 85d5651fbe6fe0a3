package kafka

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/dataweaver/dataweaver/codec"
	"github.com/dataweaver/dataweaver/connectors/arrowtype"
	"github.com/dataweaver/dataweaver/connectors/internal/schemareg"
	"github.com/dataweaver/dataweaver/engine"
	"github.com/dataweaver/dataweaver/engine/spec"
)

// Start offsets (where a group with no committed offset begins).
const (
	startEarliest = "earliest"
	startLatest   = "latest"
)

// defaultLinger is the batch wait when the pipeline gives none.
const defaultLinger = 100 * time.Millisecond

// Group timing defaults. The session timeout is Kafka's default before 3.0
// (10 s), not kgo's and the Java client's 45 s: kgo heartbeats from a
// goroutine of its own, so a slow sink never misses a heartbeat, and a
// worker that dies holds its partitions unread for this long (RATIONALE.md,
// "Kafka: a 10 s session").
const (
	defaultSessionTimeout    = 10 * time.Second
	defaultHeartbeatInterval = 3 * time.Second
	defaultRebalanceTimeout  = 60 * time.Second
)

var sourceSpec = spec.New("kafka").
	Summary("Reads records from Kafka topics in a consumer group; commits their offsets only once every sink has flushed them.").
	Description("Each record's value is one row, decoded by codec. Batches hold up to the pipeline's batch rows "+
		"and wait at most its linger for a batch to fill. Offsets are committed (synchronously) only after every "+
		"sink has flushed the batches up to them, never automatically, so a run that fails or a process that dies "+
		"before that reads the records again from the group's last commit (at-least-once).\n\n"+
		"Several pipelines in one group share the topics' partitions. When a rebalance takes partitions from a "+
		"member, it commits what its sinks have acknowledged and drops the rest: the new owner reads those records "+
		"again. A member that dies keeps its partitions, unread, until its session times out (10 s by default): lower "+
		"session_timeout (and heartbeat_interval with it) to hand them over sooner. With instance_id (static membership) "+
		"a member restarted within session_timeout gets its partitions back without a rebalance of the others.\n\n"+
		"The position saved at each checkpoint (offset per partition, shown as \"orders: p0@120, p1@98\") is a record "+
		"for people: where a run starts is always the group's committed offsets, which every member of the group "+
		"shares, so a group ahead of the saved position is normal. --from-start does not rewind a group; reset its "+
		"offsets with Kafka's tools, or use a new group.\n\n"+
		"start_offset only applies to partitions the group has no committed offset for. With metadata: true every "+
		"row also carries _key (binary), _topic, _partition, _offset and _timestamp; header_columns turns record "+
		"headers into text columns. Records whose value does not decode are rows rejected with "+
		"\"topic/partition\" and offset and their raw bytes, and go through the source's on_error policy.\n\n"+
		"With schema_registry, values are in the Confluent wire format (magic byte, schema id, payload). Each id is looked "+
		"up once and its schema mapped onto the source's columns (avro.schema, else schema; the protobuf message; json's "+
		"schema). Avro: by name; a writer field the columns lack is dropped, a nullable column the writer lacks is null, "+
		"a type that differs (beyond Avro's promotions: int to long, float or double, long or float to double, bytes to string and back), "+
		"a column that may not be null but could be, or an id the registry does not know makes "+
		"the record a rejected row naming the id. Protobuf: the id's message must be the configured one, with the same "+
		"kind for every field number both declare. JSON Schema: each column's property, where typed, must hold JSON the "+
		"column reads. A registry that does not answer fails the batch.\n\n"+
		"With tls or sasl, Open connects once to check them: a wrong password or an untrusted certificate fails the step "+
		"naming the brokers and the mechanism, never the password.").
	Field(connectionFields()...).
	Field(
		spec.StringList("topics").Desc("Topics to consume.").Example(`[orders]`),
		spec.String("group").Desc("Consumer group: committed offsets survive restarts under this name, and "+
			"several pipelines in one group share the partitions.").Example("weave-orders"),
		spec.String("start_offset").Default(startEarliest).OneOf(startEarliest, startLatest).
			Desc("Where a partition without a committed offset starts: earliest (the oldest record kept) or latest "+
				"(records produced from now on)."),
		spec.Bool("metadata").Default(false).
			Desc("Add the columns _key (binary, null without a key), _topic (utf8), _partition (int32), _offset "+
				"(int64) and _timestamp (timestamp[ms, UTC]) after the decoded ones."),
		spec.StringList("header_columns").Optional().
			Desc("Record headers to add as utf8 columns of the same name (null where a record lacks the header).").
			Example(`[trace_id, source]`),
		spec.Bool("stop_at_end").Default(false).
			Desc("End the input once the group has consumed every partition up to its end offset (for backfills, "+
				"tests and benchmarks); by default the source waits for new records until the pipeline is stopped."),
		spec.Duration("max_outage").Default(2*time.Minute).
			Desc("How long the source waits for brokers it cannot reach (not started yet, restarting) before the run "+
				"fails with an error naming the request and how long it has failed; 0 waits for ever. Polls and the "+
				"group's join are retried by the client for as long as it takes; this bounds the source's own "+
				"requests (stop_at_end's end-offset checks).").
			Validate(func(v any) error {
				if v.(time.Duration) < 0 {
					return errors.New("must not be negative")
				}
				return nil
			}),
		spec.Duration("session_timeout").Default(defaultSessionTimeout).Advance().
			Desc("How long the group waits for a member's heartbeat before it takes the member's partitions away and "+
				"gives them to the others: how long a dead or hung pipeline holds its partitions unread, and how long a "+
				"member with instance_id may take to restart without a rebalance. A slow sink does not count: heartbeats "+
				"go from a goroutine of their own. Brokers accept "+
				"values within their group.min.session.timeout.ms and group.max.session.timeout.ms (6s and 30m by "+
				"default)."),
		spec.String("instance_id").Optional().Advance().
			Desc("Static membership (KIP-345): a name unique to this process in the group, the same across its "+
				"restarts, such as ${HOSTNAME} of a Kubernetes StatefulSet pod or %i of a systemd template unit. A member "+
				"restarted under the same name within session_timeout takes its partitions back and the others keep "+
				"theirs: a rolling restart moves nothing. Such a member does not leave the group when it stops, so its "+
				"partitions wait session_timeout before the others get them; two processes under one name fence each "+
				"other, and the older one fails.").
			Example(`"${HOSTNAME}"`),
		spec.Duration("heartbeat_interval").Default(defaultHeartbeatInterval).Advance().
			Desc("How often the member tells the group it is alive; also how soon it notices a rebalance. Must be "+
				"below session_timeout, and at most a third of it so that one lost heartbeat is not fatal."),
		spec.Duration("rebalance_timeout").Default(defaultRebalanceTimeout).Advance().
			Desc("How long a rebalance waits for every member to rejoin, which includes committing the offsets of "+
				"partitions it gives up; a member slower than this is removed from the group."),
		arrowtype.Field("schema").Optional().
			Desc("Columns of the rows (codec json; avro takes them from the Avro schema, or with schema_registry "+
				"from this when avro.schema is not given): an ordered mapping of column name to Arrow type, as in the file source."),
	).
	Field(codec.Fields()...).
	Field(schemareg.Field(false, "topic")).
	Field(codec.MaxRecordBytesField()).
	WithExample("JSON orders with their keys and offsets", `source:
  kafka:
    brokers: [localhost:9092]
    topics: [orders]
    group: weave-orders
    metadata: true
    schema: {id: int64, customer: utf8, amount: "decimal128(12,2)", ts: "timestamp[ms, UTC]"}`).
	WithExample("Avro from new records only", `source:
  kafka:
    topics: [events]
    group: weave-events
    start_offset: latest
    codec: avro
    avro:
      schema: '{"type": "record", "name": "event", "fields": [{"name": "kind", "type": "string"}, {"name": "at", "type": {"type": "long", "logicalType": "timestamp-millis"}}]}'`)

// Source reads Kafka topics in a consumer group.
type Source struct {
	name    string
	log     *slog.Logger
	opts    []kgo.Opt
	sec     security
	codec   codec.Config
	reg     *schemareg.Config // nil without schema_registry
	mem     memory.Allocator
	batch   int
	linger  time.Duration
	stop    bool
	topics  []string
	group   string
	latest  bool
	meta    bool
	headers []string
	schema  *arrow.Schema

	sessionTimeout   time.Duration
	rebalanceTimeout time.Duration
	instanceID       string      // static membership; "" for a dynamic member
	outage           outage      // stop_at_end's requests failing in a row (outage.go)
	resumed          *Checkpoint // the position an earlier run saved (Resume), logged at Open

	cl  *kgo.Client
	adm *kadm.Client
	dec codec.Decoder

	// commitMu and mu: see group.go.
	commitMu sync.Mutex
	mu       sync.Mutex
	pending  []held                     // batches read and not yet acknowledged, in read order
	seq      int64                      // checkpoint of the next batch
	acked    map[tp]int64               // acknowledged offsets not yet committed
	owned    map[tp]bool                // partitions assigned to this member
	gone     map[tp]uint64              // epoch at which a partition was last revoked or lost
	epoch    uint64                     // bumped by every revoke or loss
	read     map[string]map[int32]int64 // next offset per owned partition read from: the position
	lag      map[tp]int64               // per owned partition: high watermark minus the next offset, as of its last records polled or the broker's figure (lag.go)
	lagAsked map[tp]bool                // owned partitions whose lag was looked up since their assignment (lag.go)

	// beforeCommit, set by tests only, runs in Ack between gathering the
	// offsets and committing them: the window commitMu closes.
	beforeCommit func()
}

// held is one batch's next offsets (per topic and partition, the offset
// after its last record there), committed together.
type held struct {
	seq     int64
	offsets map[string]map[int32]int64
}

func newSource(conf *spec.Parsed, b engine.Build) (engine.Source, error) {
	s := &Source{
		name: b.Name, log: b.Logger, mem: b.Mem, batch: b.BatchRows, linger: b.Linger, stop: conf.Bool("stop_at_end"),
		topics: conf.Strings("topics"), group: conf.String("group"), latest: conf.String("start_offset") == startLatest,
		meta: conf.Bool("metadata"), headers: conf.Strings("header_columns"),
		sessionTimeout: conf.Duration("session_timeout"), rebalanceTimeout: conf.Duration("rebalance_timeout"),
		instanceID: conf.String("instance_id"),
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	s.outage = outage{log: s.log, bound: conf.Duration("max_outage")}
	heartbeat := conf.Duration("heartbeat_interval")
	if s.sessionTimeout <= 0 {
		return nil, configErr(conf, "session_timeout", "session_timeout must be positive, got %v", s.sessionTimeout)
	}
	if heartbeat <= 0 || heartbeat >= s.sessionTimeout {
		return nil, configErr(conf, "heartbeat_interval", "heartbeat_interval (%v) must be positive and below session_timeout (%v)",
			heartbeat, s.sessionTimeout)
	}
	if s.rebalanceTimeout <= 0 {
		return nil, configErr(conf, "rebalance_timeout", "rebalance_timeout must be positive, got %v", s.rebalanceTimeout)
	}
	if s.batch <= 0 {
		s.batch = 1000
	}
	if s.linger <= 0 {
		s.linger = defaultLinger
	}
	if len(s.topics) == 0 {
		return nil, configErr(conf, "topics", "give at least one topic")
	}
	if s.group == "" {
		return nil, configErr(conf, "group", "group is empty: the source commits its offsets in a consumer group")
	}
	var schema *arrow.Schema
	if conf.Given("schema") {
		var err error
		if schema, err = arrowtype.Schema(conf.Map("schema")); err != nil {
			return nil, configErr(conf, "schema", "%v", err)
		}
	}
	var err error
	if s.codec, err = codec.FromConfig(conf, schema); err != nil {
		return nil, fmt.Errorf("%w: %w", engine.ErrInvalidConfig, err)
	}
	if s.reg, err = schemareg.FromConfig(conf); err != nil {
		return nil, fmt.Errorf("%w: %w", engine.ErrInvalidConfig, err)
	}
	// Build a decoder now so a missing schema or a bad .avsc fails
	// validation, not the first read.
	decoded, err := schemareg.Schema(s.reg, s.codec, b.Mem)
	if err != nil {
		return nil, configErr(conf, "codec", "%v", err)
	}
	if s.schema, err = s.outSchema(decoded); err != nil {
		return nil, configErr(conf, "header_columns", "%v", err)
	}
	reset := kgo.NewOffset().AtStart()
	if s.latest {
		reset = kgo.NewOffset().AtEnd()
	}
	s.sec = newSecurity(conf)
	s.opts = append(clientOpts(conf, b.Name),
		kgo.ConsumerGroup(s.group),
		kgo.ConsumeTopics(s.topics...),
		kgo.ConsumeResetOffset(reset),
		kgo.DisableAutoCommit(),
		kgo.FetchMaxWait(s.linger),
		kgo.SessionTimeout(s.sessionTimeout),
		kgo.HeartbeatInterval(heartbeat),
		kgo.RebalanceTimeout(s.rebalanceTimeout),
		kgo.OnPartitionsAssigned(s.onAssigned),
		kgo.OnPartitionsRevoked(s.onRevoked),
		kgo.OnPartitionsLost(s.onLost),
	)
	if conf.Given("instance_id") {
		if s.instanceID == "" {
			return nil, configErr(conf, "instance_id", "instance_id is empty (an unset ${VAR}?): give each process its own name, or leave the field out")
		}
		s.opts = append(s.opts, kgo.InstanceID(s.instanceID))
	}
	return s, nil
}

// Open joins the consumer group. After a Close it starts again from the
// group's committed offsets: whatever was not committed is read again.
func (s *Source) Open(ctx context.Context) (*arrow.Schema, error) {
	s.Close()
	dec, err := schemareg.NewDecoder(s.reg, s.codec, s.mem)
	if err != nil {
		return nil, fmt.Errorf("kafka: %w", err)
	}
	s.mu.Lock()
	s.pending, s.acked, s.owned, s.gone, s.read = nil, map[tp]int64{}, map[tp]bool{}, map[tp]uint64{}, map[string]map[int32]int64{}
	s.lag, s.lagAsked = map[tp]int64{}, map[tp]bool{}
	s.mu.Unlock()
	cl, err := newClient(ctx, s.sec, s.opts)
	if err != nil {
		return nil, fmt.Errorf("kafka: %w", err)
	}
	s.mu.Lock()
	s.cl, s.adm, s.dec = cl, kadm.NewClient(cl), dec
	s.mu.Unlock()
	if s.resumed != nil {
		s.compareResumed(ctx)
	}
	return s.schema, nil
}

// Read returns up to BatchRows records, waiting at most Linger for the
// batch to fill once the first poll went out; it keeps polling while
// nothing arrives.
func (s *Source) Read(ctx context.Context) (*engine.Batch, error) {
	if s.cl == nil {
		return nil, errClosed
	}
	var recs []*kgo.Record
	// since is the epoch (see group.go) before the poll that returned the
	// batch's first records: a partition revoked after it has its offsets
	// left out of the batch's checkpoint.
	var since uint64
	deadline := time.Now().Add(s.linger)
	for {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if len(recs) == 0 {
			s.mu.Lock()
			since = s.epoch
			s.mu.Unlock()
		}
		pctx, cancel := context.WithDeadline(ctx, deadline)
		fs := s.cl.PollRecords(pctx, s.batch-len(recs))
		cancel()
		if err := s.pollErr(fs); err != nil {
			return nil, err
		}
		s.noteLag(fs)
		s.fillLag(ctx)
		recs = append(recs, fs.Records()...)
		if len(recs) >= s.batch {
			return s.decode(recs, since)
		}
		if time.Now().Before(deadline) {
			continue
		}
		if len(recs) > 0 {
			return s.decode(recs, since)
		}
		if s.stop {
			done, err := s.drained(ctx)
			if err != nil {
				if !unreachable(err) {
					return nil, err
				}
				if err := s.outage.again(ctx, "end offsets", err); err != nil {
					return nil, err
				}
				deadline = time.Now().Add(s.linger)
				continue
			}
			s.outage.ok()
			if done {
				return nil, engine.ErrEndOfInput
			}
		}
		deadline = time.Now().Add(s.linger)
	}
}

// pollErr returns the first error of a poll that is not its deadline, the
// client closing or a group session kgo rejoins after (groupErr).
func (s *Source) pollErr(fs kgo.Fetches) error {
	var first error
	fs.EachError(func(topic string, p int32, err error) {
		if first != nil || errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) || errors.Is(err, kgo.ErrClientClosed) {
			return
		}
		var gs *kgo.ErrGroupSession
		if errors.As(err, &gs) {
			first = s.groupErr(gs) // nil: kgo rejoins
			return
		}
		first = fmt.Errorf("kafka: fetch %s/%d: %w", topic, p, err)
	})
	return first
}

// drained reports whether the group has nothing left to read: for every
// partition of the topics, the position (what this client polled, else the
// group's committed offset, else where start_offset puts it) has reached
// the end offset.
func (s *Source) drained(ctx context.Context) (bool, error) {
	ends, err := s.adm.ListEndOffsets(ctx, s.topics...)
	if err != nil {
		return false, fmt.Errorf("kafka: end offsets: %w", err)
	}
	if err := ends.Error(); err != nil {
		return false, fmt.Errorf("kafka: end offsets: %w", err)
	}
	starts, err := s.adm.ListStartOffsets(ctx, s.topics...)
	if err != nil {
		return false, fmt.Errorf("kafka: start offsets: %w", err)
	}
	committed, err := s.adm.FetchOffsetsForTopics(ctx, s.group, s.topics...)
	if errors.Is(err, kerr.GroupIDNotFound) {
		// The group has not joined yet (a race with the first join): it
		// has committed nothing.
		committed, err = kadm.OffsetResponses{}, nil
	}
	if err != nil {
		return false, fmt.Errorf("kafka: committed offsets of group %q: %w", s.group, err)
	}
	polled := s.cl.UncommittedOffsets()
	done := true
	ends.Each(func(end kadm.ListedOffset) {
		pos := s.groupPosition(end.Topic, end.Partition, end, starts, committed)
		if eo, ok := polled[end.Topic][end.Partition]; ok {
			pos = eo.Offset
		}
		if pos < end.Offset {
			done = false
		}
	})
	return done, nil
}

// Close leaves the group. It commits what was acknowledged and not yet
// committed (onRevoked), never more: what was not acknowledged is read
// again by the next run (or by the group member that takes the
// partitions over).
func (s *Source) Close() error {
	s.mu.Lock()
	s.pending = nil
	cl := s.cl
	s.cl, s.adm, s.dec = nil, nil, nil
	s.mu.Unlock()
	if cl != nil {
		cl.Close()
	}
	return nil
}
