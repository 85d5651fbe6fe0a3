package kafka

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/dataweaver/dataweaver/connectors/conformance"
	"github.com/dataweaver/dataweaver/engine"
)

// TestKeysAndHeadersRoundTrip: the sink's key column and header columns
// come back through the source's _key and header columns, and the
// header column is not in the value.
func TestKeysAndHeadersRoundTrip(t *testing.T) {
	mem := conformance.Checked(t)
	brokers := startCluster(t, 3, "t")
	rec := conformance.Sample(mem, conformance.SampleSchema, 0, 40)
	defer rec.Release()
	sink := mustSink(t, fmt.Sprintf("{brokers: %s, topic: t, key_column: name, header_columns: [note]}", brokers), conformance.Build(mem, 10, "sink"))
	ctx := context.Background()
	if err := sink.Open(ctx, rec.Schema()); err != nil {
		t.Fatal(err)
	}
	if err := sink.Write(ctx, rec); err != nil {
		t.Fatal(err)
	}
	if err := sink.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if err := sink.Close(); err != nil {
		t.Fatal(err)
	}
	for _, r := range consumeAll(t, brokers, "t", 40) {
		if strings.Contains(string(r.Value), `"note"`) {
			t.Fatalf("header column in the value: %s", r.Value)
		}
	}
	src := mustSource(t, fmt.Sprintf("{brokers: %s, topics: [t], group: g, stop_at_end: true, metadata: true, header_columns: [note], schema: %s}",
		brokers, `{id: int64, name: utf8, score: float64, ok: bool, ts: "timestamp[us, UTC]"}`), conformance.Build(mem, 16, "source"))
	got := conformance.ReadAll(t, src, 16, true)
	defer conformance.Release(got)
	seen := 0
	for _, g := range got {
		s := g.Schema()
		id := g.Column(s.FieldIndices("id")[0]).(*array.Int64)
		name := g.Column(s.FieldIndices("name")[0]).(*array.String)
		key := g.Column(s.FieldIndices("_key")[0]).(*array.Binary)
		note := g.Column(s.FieldIndices("note")[0]).(*array.String)
		for i := range int(g.NumRows()) {
			row := int(id.Value(i))
			if string(key.Value(i)) != name.Value(i) {
				t.Errorf("row %d: key %q, want the name %q", row, key.Value(i), name.Value(i))
			}
			wantNote := rec.Column(4)
			if wantNote.IsNull(row) != note.IsNull(i) || (!note.IsNull(i) && wantNote.ValueStr(row) != note.Value(i)) {
				t.Errorf("row %d: note header %q (null %v), want %q", row, note.Value(i), note.IsNull(i), wantNote.ValueStr(row))
			}
			seen++
		}
	}
	if seen != 40 {
		t.Errorf("read %d rows, want 40", seen)
	}
}

// TestOrderWithinPartition: rows produced with a key land on one
// partition per key, in the order written, and the source reads each
// partition in offset order.
func TestOrderWithinPartition(t *testing.T) {
	mem := conformance.Checked(t)
	brokers := startCluster(t, 4, "t")
	schema := arrow.NewSchema([]arrow.Field{{Name: "k", Type: arrow.BinaryTypes.String}, {Name: "n", Type: arrow.PrimitiveTypes.Int64}}, nil)
	b := array.NewRecordBuilder(mem, schema)
	for i := range 1000 {
		b.Field(0).(*array.StringBuilder).Append(fmt.Sprintf("key%d", i%7))
		b.Field(1).(*array.Int64Builder).Append(int64(i))
	}
	rec := b.NewRecordBatch()
	b.Release()
	defer rec.Release()
	sink := mustSink(t, fmt.Sprintf("{brokers: %s, topic: t, key_column: k}", brokers), conformance.Build(mem, 100, "sink"))
	ctx := context.Background()
	if err := sink.Open(ctx, schema); err != nil {
		t.Fatal(err)
	}
	for off := int64(0); off < 1000; off += 100 {
		part := rec.NewSlice(off, off+100)
		err := sink.Write(ctx, part)
		part.Release()
		if err != nil {
			t.Fatal(err)
		}
	}
	if err := sink.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	sink.Close()
	src := mustSource(t, fmt.Sprintf("{brokers: %s, topics: [t], group: g, stop_at_end: true, metadata: true, schema: {k: utf8, n: int64}}", brokers),
		conformance.Build(mem, 64, "source"))
	got := conformance.ReadAll(t, src, 64, true)
	defer conformance.Release(got)
	lastN := map[string]int64{}
	lastOff := map[int32]int64{}
	partOf := map[string]int32{}
	total := 0
	for _, g := range got {
		k, n := g.Column(0).(*array.String), g.Column(1).(*array.Int64)
		p, o := g.Column(4).(*array.Int32), g.Column(5).(*array.Int64)
		for i := range int(g.NumRows()) {
			key := k.Value(i)
			if prev, ok := lastN[key]; ok && n.Value(i) <= prev {
				t.Fatalf("key %s: row %d after row %d", key, n.Value(i), prev)
			}
			if prev, ok := partOf[key]; ok && prev != p.Value(i) {
				t.Fatalf("key %s on partitions %d and %d", key, prev, p.Value(i))
			}
			if prev, ok := lastOff[p.Value(i)]; ok && o.Value(i) != prev+1 {
				t.Fatalf("partition %d: offset %d after %d", p.Value(i), o.Value(i), prev)
			}
			lastN[key], partOf[key], lastOff[p.Value(i)] = n.Value(i), p.Value(i), o.Value(i)
			total++
		}
	}
	if total != 1000 {
		t.Errorf("read %d rows, want 1000", total)
	}
}

// TestFlushReportsProduceError: a record the broker refuses (larger than
// its max message size) fails Flush, and the next Flush tries it again.
func TestFlushReportsProduceError(t *testing.T) {
	mem := conformance.Checked(t)
	brokers := startCluster(t, 1, "t")
	schema := arrow.NewSchema([]arrow.Field{{Name: "s", Type: arrow.BinaryTypes.String}}, nil)
	b := array.NewRecordBuilder(mem, schema)
	b.Field(0).(*array.StringBuilder).Append(strings.Repeat("x", 2<<20))
	rec := b.NewRecordBatch()
	b.Release()
	defer rec.Release()
	sink := mustSink(t, fmt.Sprintf("{brokers: %s, topic: t}", brokers), conformance.Build(mem, 1, "sink"))
	ctx := context.Background()
	if err := sink.Open(ctx, schema); err != nil {
		t.Fatal(err)
	}
	defer sink.Close()
	if err := sink.Write(ctx, rec); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if err := sink.Flush(ctx); err == nil || !strings.Contains(err.Error(), "not acknowledged") {
			t.Errorf("Flush of a record too large: %v, want a produce error", err)
		}
	}
}

func TestSinkConfigErrors(t *testing.T) {
	mem := conformance.Checked(t)
	for _, tc := range []struct{ conf, want string }{
		{"{codec: avro, avro: {schema: x}, topic: a}", "derives the Avro schema"},
		{"{brokers: [x]}", "topic"},
		{"{topic: a, max_buffered_records: 0}", "at least 1"},
	} {
		_, err := build(t, engine.KindSink, tc.conf, conformance.Build(mem, 10, "sink"))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want an error containing %q", tc.conf, err, tc.want)
		}
	}
	s := mustSink(t, "{topic: a, key_column: nope}", conformance.Build(mem, 10, "sink"))
	if err := s.CheckSchema(conformance.SampleSchema); err == nil || !strings.Contains(err.Error(), `"nope" is not a column`) {
		t.Errorf("CheckSchema: %v", err)
	}
}
