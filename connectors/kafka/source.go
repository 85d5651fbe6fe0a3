package kafka

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/memory"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/dataweaver/dataweaver/codec"
	"github.com/dataweaver/dataweaver/connectors/internal/arrowtype"
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

var sourceSpec = spec.New("kafka").
	Summary("Reads records from Kafka topics in a consumer group; commits their offsets only once every sink has flushed them.").
	Description("Each record's value is one row, decoded by codec. Batches hold up to the pipeline's batch rows "+
		"and wait at most its linger for a batch to fill. Offsets are committed (synchronously) only after every "+
		"sink has flushed the batches up to them, never automatically, so a run that fails or a process that dies "+
		"before that reads the records again from the group's last commit (at-least-once).\n\n"+
		"start_offset only applies to partitions the group has no committed offset for. With metadata: true every "+
		"row also carries _key (binary), _topic, _partition, _offset and _timestamp; header_columns turns record "+
		"headers into text columns. Records whose value does not decode are rows rejected with "+
		"\"topic/partition\" and offset and their raw bytes, and go through the source's on_error policy.").
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
		arrowtype.Field("schema").Optional().
			Desc("Columns of the rows (codec json; avro takes them from the Avro schema): an ordered mapping of "+
				"column name to Arrow type, as in the file source."),
	).
	Field(codec.Fields()...).
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
	opts    []kgo.Opt
	codec   codec.Config
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

	cl  *kgo.Client
	adm *kadm.Client
	dec codec.Decoder

	mu      sync.Mutex
	pending []held // batches read and not yet committed, in read order
	seq     int64  // checkpoint of the next batch
}

// held is one batch's next offsets, committed together.
type held struct {
	seq     int64
	offsets map[string]map[int32]int64
}

// checkpoint is what a batch hands back through Ack: the batch's number
// and, per topic and partition, the offset after its last record there —
// what a commit of this batch stores.
type checkpoint struct {
	Batch   int64
	Offsets map[string]map[int32]int64
}

func newSource(conf *spec.Parsed, b engine.Build) (engine.Source, error) {
	s := &Source{
		name: b.Name, mem: b.Mem, batch: b.BatchRows, linger: b.Linger, stop: conf.Bool("stop_at_end"),
		topics: conf.Strings("topics"), group: conf.String("group"), latest: conf.String("start_offset") == startLatest,
		meta: conf.Bool("metadata"), headers: conf.Strings("header_columns"),
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
	// Build a decoder now so a missing schema or a bad .avsc fails
	// validation, not the first read.
	dec, err := codec.NewDecoder(s.codec, b.Mem)
	if err != nil {
		return nil, configErr(conf, "codec", "%v", err)
	}
	if s.schema, err = s.outSchema(dec.Schema()); err != nil {
		return nil, configErr(conf, "header_columns", "%v", err)
	}
	reset := kgo.NewOffset().AtStart()
	if s.latest {
		reset = kgo.NewOffset().AtEnd()
	}
	s.opts = append(clientOpts(conf, b.Name),
		kgo.ConsumerGroup(s.group),
		kgo.ConsumeTopics(s.topics...),
		kgo.ConsumeResetOffset(reset),
		kgo.DisableAutoCommit(),
		kgo.FetchMaxWait(s.linger),
	)
	return s, nil
}

// Open joins the consumer group. After a Close it starts again from the
// group's committed offsets: whatever was not committed is read again.
func (s *Source) Open(ctx context.Context) (*arrow.Schema, error) {
	s.Close()
	dec, err := codec.NewDecoder(s.codec, s.mem)
	if err != nil {
		return nil, err
	}
	cl, err := kgo.NewClient(s.opts...)
	if err != nil {
		return nil, fmt.Errorf("kafka: %w", err)
	}
	s.cl, s.adm, s.dec = cl, kadm.NewClient(cl), dec
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
	deadline := time.Now().Add(s.linger)
	for {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		pctx, cancel := context.WithDeadline(ctx, deadline)
		fs := s.cl.PollRecords(pctx, s.batch-len(recs))
		cancel()
		if err := pollErr(fs); err != nil {
			return nil, err
		}
		recs = append(recs, fs.Records()...)
		if len(recs) >= s.batch {
			return s.decode(recs)
		}
		if time.Now().Before(deadline) {
			continue
		}
		if len(recs) > 0 {
			return s.decode(recs)
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
		deadline = time.Now().Add(s.linger)
	}
}

// pollErr returns the first error of a poll that is not its deadline or
// the client closing.
func pollErr(fs kgo.Fetches) error {
	var first error
	fs.EachError(func(topic string, p int32, err error) {
		if first != nil || errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) || errors.Is(err, kgo.ErrClientClosed) {
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
	if err != nil {
		return false, fmt.Errorf("kafka: committed offsets of group %q: %w", s.group, err)
	}
	polled := s.cl.UncommittedOffsets()
	done := true
	ends.Each(func(end kadm.ListedOffset) {
		pos := int64(-1)
		if eo, ok := polled[end.Topic][end.Partition]; ok {
			pos = eo.Offset
		} else if c, ok := committed.Lookup(end.Topic, end.Partition); ok && c.Err == nil && c.At >= 0 {
			pos = c.At
		} else if s.latest {
			pos = end.Offset
		} else if st, ok := starts.Lookup(end.Topic, end.Partition); ok {
			pos = st.Offset
		}
		if pos < end.Offset {
			done = false
		}
	})
	return done, nil
}

// Ack commits the offsets of every batch up to and including cp's, and
// returns once the group coordinator has stored them.
func (s *Source) Ack(ctx context.Context, cp engine.Checkpoint) error {
	c, ok := cp.(checkpoint)
	if !ok {
		return fmt.Errorf("kafka: Ack with a checkpoint of type %T", cp)
	}
	s.mu.Lock()
	offsets := map[string]map[int32]kgo.EpochOffset{}
	for len(s.pending) > 0 && s.pending[0].seq <= c.Batch {
		for t, ps := range s.pending[0].offsets {
			if offsets[t] == nil {
				offsets[t] = map[int32]kgo.EpochOffset{}
			}
			for p, o := range ps {
				offsets[t][p] = kgo.EpochOffset{Epoch: -1, Offset: o}
			}
		}
		s.pending = s.pending[1:]
	}
	cl := s.cl
	s.mu.Unlock()
	if len(offsets) == 0 {
		return nil
	}
	if cl == nil {
		return errClosed
	}
	var cerr error
	cl.CommitOffsetsSync(ctx, offsets, func(_ *kgo.Client, _ *kmsg.OffsetCommitRequest, resp *kmsg.OffsetCommitResponse, err error) {
		if err != nil {
			cerr = err
			return
		}
		for _, t := range resp.Topics {
			for _, p := range t.Partitions {
				if e := kerr.ErrorForCode(p.ErrorCode); e != nil && cerr == nil {
					cerr = fmt.Errorf("%s/%d: %w", t.Topic, p.Partition, e)
				}
			}
		}
	})
	if cerr != nil {
		return fmt.Errorf("kafka: commit offsets of batch %d for group %q: %w", c.Batch, s.group, cerr)
	}
	return nil
}

// Close leaves the group without committing: what was not acknowledged is
// read again by the next run (or by the group member that takes the
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
