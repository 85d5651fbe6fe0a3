package kafka

import (
	"fmt"
	"slices"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/dataweaver/dataweaver/engine"
)

// Metadata columns, in the order metadata: true appends them.
var metaFields = []arrow.Field{
	{Name: "_key", Type: arrow.BinaryTypes.Binary, Nullable: true},
	{Name: "_topic", Type: arrow.BinaryTypes.String},
	{Name: "_partition", Type: arrow.PrimitiveTypes.Int32},
	{Name: "_offset", Type: arrow.PrimitiveTypes.Int64},
	{Name: "_timestamp", Type: &arrow.TimestampType{Unit: arrow.Millisecond, TimeZone: "UTC"}},
}

// outSchema is the codec's schema followed by the metadata and header
// columns; a name used twice is an error.
func (s *Source) outSchema(decoded *arrow.Schema) (*arrow.Schema, error) {
	fields := slices.Clone(decoded.Fields())
	if s.meta {
		fields = append(fields, metaFields...)
	}
	for _, h := range s.headers {
		fields = append(fields, arrow.Field{Name: h, Type: arrow.BinaryTypes.String, Nullable: true})
	}
	seen := map[string]bool{}
	for _, f := range fields {
		if seen[f.Name] {
			return nil, fmt.Errorf("column %q appears twice (a decoded column, a metadata column or a header column)", f.Name)
		}
		seen[f.Name] = true
	}
	md := decoded.Metadata()
	return arrow.NewSchema(fields, &md), nil
}

// decode turns records into a batch: their values through the codec, then
// the metadata and header columns of the rows that decoded. since is the
// epoch before the records were polled (see owns).
func (s *Source) decode(recs []*kgo.Record, since uint64) (*engine.Batch, error) {
	data := make([][]byte, len(recs))
	var bytes int64
	for i, r := range recs {
		data[i] = r.Value
		bytes += int64(len(r.Value))
	}
	rec, rejects, err := s.dec.Decode(data)
	if err != nil {
		return nil, fmt.Errorf("kafka: decode: %w", err)
	}
	for i := range rejects {
		r := recs[rejects[i].Row]
		rejects[i].File = fmt.Sprintf("%s/%d", r.Topic, r.Partition)
		rejects[i].Line = r.Offset
	}
	if s.meta || len(s.headers) > 0 {
		kept := recs
		if len(rejects) > 0 {
			kept = make([]*kgo.Record, 0, len(recs)-len(rejects))
			j := 0
			for i, r := range recs {
				if j < len(rejects) && rejects[j].Row == i {
					j++
					continue
				}
				kept = append(kept, r)
			}
		}
		full := s.addColumns(rec, kept)
		rec.Release()
		rec = full
	}
	offsets := map[string]map[int32]int64{}
	for _, r := range recs {
		if offsets[r.Topic] == nil {
			offsets[r.Topic] = map[int32]int64{}
		}
		offsets[r.Topic][r.Partition] = r.Offset + 1
	}
	s.mu.Lock()
	// Offsets of partitions given up since the poll are left out: the
	// rows still go to the sinks (at-least-once), but a commit of this
	// batch must not touch a partition another member owns now.
	for t, ps := range offsets {
		for p, o := range ps {
			if !s.owns(tp{t, p}, since) {
				delete(ps, p)
				continue
			}
			if s.read[t] == nil {
				s.read[t] = map[int32]int64{}
			}
			s.read[t][p] = o
		}
	}
	cp := Checkpoint{Batch: s.seq, Offsets: copyOffsets(s.read)}
	s.seq++
	s.pending = append(s.pending, held{seq: cp.Batch, offsets: offsets})
	s.mu.Unlock()
	return &engine.Batch{Record: rec, Rejects: rejects, Checkpoint: cp, Bytes: bytes, TraceParent: traceParent(recs)}, nil
}

// traceParent is the W3C traceparent header of the first record that has
// one: a batch has one parent span, and the scan stops at the first hit
// (records without headers cost one length check).
func traceParent(recs []*kgo.Record) string {
	for _, r := range recs {
		for _, h := range r.Headers {
			if h.Key == "traceparent" {
				return string(h.Value)
			}
		}
	}
	return ""
}

// addColumns returns rec with the metadata and header columns of recs
// (one per row of rec) appended.
func (s *Source) addColumns(rec arrow.RecordBatch, recs []*kgo.Record) arrow.RecordBatch {
	n := int(rec.NumCols())
	b := array.NewRecordBuilder(s.mem, arrow.NewSchema(s.schema.Fields()[n:], nil))
	defer b.Release()
	col := 0
	if s.meta {
		key := b.Field(col).(*array.BinaryBuilder)
		topic := b.Field(col + 1).(*array.StringBuilder)
		part := b.Field(col + 2).(*array.Int32Builder)
		off := b.Field(col + 3).(*array.Int64Builder)
		ts := b.Field(col + 4).(*array.TimestampBuilder)
		for _, r := range recs {
			if r.Key == nil {
				key.AppendNull()
			} else {
				key.Append(r.Key)
			}
			topic.Append(r.Topic)
			part.Append(r.Partition)
			off.Append(r.Offset)
			ts.Append(arrow.Timestamp(r.Timestamp.UnixMilli()))
		}
		col += len(metaFields)
	}
	for h, name := range s.headers {
		hb := b.Field(col + h).(*array.StringBuilder)
		for _, r := range recs {
			i := slices.IndexFunc(r.Headers, func(kh kgo.RecordHeader) bool { return kh.Key == name })
			if i < 0 {
				hb.AppendNull()
			} else {
				hb.Append(string(r.Headers[i].Value))
			}
		}
	}
	extra := b.NewRecordBatch()
	defer extra.Release()
	cols := make([]arrow.Array, 0, s.schema.NumFields())
	cols = append(cols, rec.Columns()...)
	cols = append(cols, extra.Columns()...)
	return array.NewRecordBatch(s.schema, cols, int64(len(recs)))
}
