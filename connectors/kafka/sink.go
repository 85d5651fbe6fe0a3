package kafka

import (
	"context"
	"fmt"
	"slices"
	"sync"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/dataweaver/dataweaver/codec"
	"github.com/dataweaver/dataweaver/connectors/internal/schemareg"
	"github.com/dataweaver/dataweaver/engine"
	"github.com/dataweaver/dataweaver/engine/spec"
)

var sinkSpec = spec.New("kafka").
	Summary("Produces each row as a record to a Kafka topic with the idempotent producer; Flush waits for every acknowledgement.").
	Description("Rows are encoded by codec, one record per row. The producer is idempotent (the broker drops a "+
		"retried duplicate within a producer session, and keeps each partition's records in order) and waits for "+
		"all in-sync replicas. Flush returns once every record written so far is acknowledged, so a batch counts as "+
		"written only once Kafka stored it; records the broker refused are produced again on the next Flush, which "+
		"the engine retries.\n\n"+
		"key_column gives each record a key (the column's value as text; null leaves the record without one), "+
		"which picks its partition, so rows with the same key stay in order. header_columns become record headers "+
		"named after the column, and are left out of the encoded value.\n\n"+
		"With schema_registry, Open registers the schema of the value columns (Avro as the avro codec writes them, a JSON "+
		"Schema of the json codec's objects, or protobuf.proto_file's text) under the subject its strategy names, or "+
		"looks it up with auto_register: false, and every value starts with its id (and, for Protobuf, the message index). "+
		"With tls or sasl, Open connects once to check them.").
	Field(connectionFields()...).
	Field(
		spec.String("topic").Desc("Topic to produce to.").Example("orders.clean"),
		spec.String("key_column").Optional().
			Desc("Column whose value (as text) becomes each record's key; it stays in the value too.").
			Example("customer_id"),
		spec.StringList("header_columns").Optional().
			Desc("Columns sent as record headers (name = column, value = its text; a null sends no header) instead of in the value.").
			Example(`[trace_id]`),
		spec.Int("max_buffered_records").Default(10000).Advance().
			Desc("Records awaiting acknowledgement before Write blocks."),
	).
	Field(codec.Fields()...).
	Field(schemareg.Field(true, "topic")).
	WithExample("Orders keyed by customer", `sinks:
  - kafka:
      brokers: [localhost:9092]
      topic: orders.clean
      key_column: customer`).
	WithExample("Avro, with a trace header", `sinks:
  - kafka: {topic: events, codec: avro, header_columns: [trace_id]}`)

func init() {
	engine.RegisterSource(sourceSpec, newSource)
	engine.RegisterSink(sinkSpec, newSink)
}

// Sink produces rows as records.
type Sink struct {
	opts      []kgo.Opt
	sec       security
	codec     codec.Config
	reg       *schemareg.Config // nil without schema_registry
	mem       memory.Allocator
	topic     string
	keyColumn string
	headers   []string

	cl      *kgo.Client
	enc     codec.Encoder
	value   *arrow.Schema // the columns encoded in the value
	valCols []int         // their indexes in the written schema
	keyCol  int           // -1 without a key
	hdrCols []int

	mu     sync.Mutex
	failed []*kgo.Record // refused by the broker, produced again on Flush
	first  error         // first refusal since the last Flush
}

func newSink(conf *spec.Parsed, b engine.Build) (engine.Sink, error) {
	s := &Sink{
		mem: b.Mem, topic: conf.String("topic"), keyColumn: conf.String("key_column"),
		headers: conf.Strings("header_columns"), keyCol: -1,
	}
	if s.topic == "" {
		return nil, configErr(conf, "topic", "topic is empty")
	}
	if n := conf.Int("max_buffered_records"); n < 1 {
		return nil, configErr(conf, "max_buffered_records", "must be at least 1")
	}
	var err error
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
	s.sec = newSecurity(conf)
	s.opts = append(clientOpts(conf, b.Name),
		kgo.DefaultProduceTopic(s.topic),
		kgo.MaxBufferedRecords(conf.Int("max_buffered_records")),
	)
	return s, nil
}

// CheckSchema checks that the key and header columns exist and that some
// column is left for the value.
func (s *Sink) CheckSchema(schema *arrow.Schema) error {
	for _, c := range append([]string{s.keyColumn}, s.headers...) {
		if c != "" && len(schema.FieldIndices(c)) == 0 {
			return fmt.Errorf("%w: kafka sink: column %q is not a column (have %v)", engine.ErrSchema, c, columnNames(schema))
		}
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
	s.keyCol, s.hdrCols, s.valCols = -1, nil, nil
	if s.keyColumn != "" {
		s.keyCol = schema.FieldIndices(s.keyColumn)[0]
	}
	for _, h := range s.headers {
		s.hdrCols = append(s.hdrCols, schema.FieldIndices(h)[0])
	}
	var fields []arrow.Field
	for i, f := range schema.Fields() {
		if !slices.Contains(s.hdrCols, i) {
			s.valCols = append(s.valCols, i)
			fields = append(fields, f)
		}
	}
	md := schema.Metadata()
	s.value = arrow.NewSchema(fields, &md)
	enc, err := schemareg.NewEncoder(ctx, s.reg, s.codec, s.topic, s.value, s.mem)
	if err != nil {
		return fmt.Errorf("kafka sink: %w", err)
	}
	cl, err := newClient(ctx, s.sec, s.opts)
	if err != nil {
		return fmt.Errorf("kafka sink: %w", err)
	}
	s.cl, s.enc = cl, enc
	return nil
}

// Write produces one record per row; acknowledgements are collected by Flush.
func (s *Sink) Write(ctx context.Context, rec arrow.RecordBatch) error {
	if s.cl == nil {
		return engine.Permanent(errClosed)
	}
	val := rec
	if len(s.hdrCols) > 0 {
		cols := make([]arrow.Array, len(s.valCols))
		for i, c := range s.valCols {
			cols[i] = rec.Column(c)
		}
		val = array.NewRecordBatch(s.value, cols, rec.NumRows())
		defer val.Release()
	}
	// When the pipeline is traced, every record carries the sink span's
	// traceparent (one shared value), so a consumer continues the trace.
	var tp []byte
	if v := engine.TraceParent(ctx); v != "" {
		tp = []byte(v)
	}
	return s.enc.Encode(val, func(row int, data []byte) error {
		r := &kgo.Record{Value: append([]byte(nil), data...)}
		if s.keyCol >= 0 {
			if k := rec.Column(s.keyCol); k.IsValid(row) {
				r.Key = text(k, row)
			}
		}
		for i, c := range s.hdrCols {
			if h := rec.Column(c); h.IsValid(row) {
				r.Headers = append(r.Headers, kgo.RecordHeader{Key: s.headers[i], Value: text(h, row)})
			}
		}
		if tp != nil {
			r.Headers = append(r.Headers, kgo.RecordHeader{Key: "traceparent", Value: tp})
		}
		s.cl.Produce(ctx, r, s.promise)
		return nil
	})
}

// promise keeps a refused record for the next Flush.
func (s *Sink) promise(r *kgo.Record, err error) {
	if err == nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failed = append(s.failed, r)
	if s.first == nil {
		s.first = fmt.Errorf("kafka sink: produce to %s not acknowledged: %w", s.topic, err)
	}
}

// Flush returns once the broker acknowledged every record produced so far,
// or the first refusal; refused records are produced again first, so the
// engine's retry of a failed Flush resends them.
func (s *Sink) Flush(ctx context.Context) error {
	if s.cl == nil {
		return engine.Permanent(errClosed)
	}
	s.mu.Lock()
	retry := s.failed
	s.failed, s.first = nil, nil
	s.mu.Unlock()
	for _, r := range retry {
		s.cl.Produce(ctx, r, s.promise)
	}
	if err := s.cl.Flush(ctx); err != nil {
		return fmt.Errorf("kafka sink: flush: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.first
}

// Close disconnects; records not yet flushed may be lost, as with any sink
// closed without Flush.
func (s *Sink) Close() error {
	if s.cl == nil {
		return nil
	}
	s.cl.Close()
	s.cl, s.enc = nil, nil
	s.mu.Lock()
	s.failed, s.first = nil, nil
	s.mu.Unlock()
	return nil
}
