package kafka

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/dataweaver/dataweaver/connectors/conformance"
	"github.com/dataweaver/dataweaver/connectors/internal/msgtest"
	"github.com/dataweaver/dataweaver/engine"
)

// TestMalformedRecordIsRejected: a record that does not decode comes back
// as a RowError with its topic/partition, offset and bytes, the good
// records around it are rows, and their metadata columns line up.
func TestMalformedRecordIsRejected(t *testing.T) {
	mem := conformance.Checked(t)
	brokers := startCluster(t, 1, "in")
	produce(t, brokers, values("in", [][]byte{[]byte(`{"id": 1}`), []byte(`{"id": "one"}`), []byte(`{"id": 3`), []byte(`{"id": 4}`)})...)
	src := mustSource(t, fmt.Sprintf("{brokers: %s, topics: [in], group: g, stop_at_end: true, metadata: true, schema: {id: int64}}", brokers),
		conformance.Build(mem, 10, "source"))
	b := msgtest.ReadOneBatch(t, src)
	if b.Record.NumRows() != 2 || b.Record.Column(0).ValueStr(1) != "4" || b.Record.Column(4).ValueStr(1) != "3" {
		t.Errorf("rows: %v", b.Record)
	}
	msgtest.WantRejects(t, b.Rejects,
		msgtest.Malformed{From: "in/0", At: 1, Raw: `{"id": "one"}`},
		msgtest.Malformed{From: "in/0", At: 2, Raw: `{"id": 3`},
	)
	msgtest.AckAndExpectEnd(t, src, b)
}

// TestRecordOverMaxRecordBytes: a record value over max_record_bytes is a
// reject naming its topic/partition, offset and the limit, carrying only
// the first codec.RawPrefix bytes; the records around it are rows.
func TestRecordOverMaxRecordBytes(t *testing.T) {
	mem := conformance.Checked(t)
	brokers := startCluster(t, 1, "in")
	big := fmt.Appendf(nil, `{"id": 2, "pad": "%s"}`, strings.Repeat("x", 2000))
	produce(t, brokers, values("in", [][]byte{[]byte(`{"id": 1}`), big, []byte(`{"id": 3}`)})...)
	src := mustSource(t, fmt.Sprintf("{brokers: %s, topics: [in], group: g, stop_at_end: true, schema: {id: int64}, max_record_bytes: 100}", brokers),
		conformance.Build(mem, 10, "source"))
	b := msgtest.ReadOneBatch(t, src)
	if b.Record.NumRows() != 2 || b.Record.Column(0).ValueStr(0) != "1" || b.Record.Column(0).ValueStr(1) != "3" {
		t.Errorf("rows: %v", b.Record)
	}
	msgtest.WantTooLarge(t, b.Rejects, "in/0", 1, big, 100)
}

// TestStartOffset: where a group without committed offsets starts.
func TestStartOffset(t *testing.T) {
	mem := conformance.Checked(t)
	brokers := startCluster(t, 2, "in")
	var recs []*kgo.Record
	for i := 1; i <= 5; i++ {
		recs = append(recs, &kgo.Record{Topic: "in", Value: fmt.Appendf(nil, `{"id": %d}`, i)})
	}
	produce(t, brokers, recs...)
	for _, tc := range []struct{ start, want string }{{"earliest", "1 2 3 4 5"}, {"latest", ""}} {
		src := mustSource(t, fmt.Sprintf("{brokers: %s, topics: [in], group: %s, stop_at_end: true, start_offset: %s, schema: {id: int64}}",
			brokers, tc.start, tc.start), conformance.Build(mem, 10, "source"))
		got := conformance.ReadAll(t, src, 10, true)
		var ids []string
		for _, r := range got {
			for i := range int(r.NumRows()) {
				ids = append(ids, r.Column(0).ValueStr(i))
			}
		}
		conformance.Release(got)
		// Partitions interleave, so compare as a set.
		if n := len(ids); (tc.want == "" && n != 0) || (tc.want != "" && n != 5) {
			t.Errorf("%s: read %q, want %q", tc.start, ids, tc.want)
		}
	}
}

// TestAckSkipsCheckpoints: the engine may ack only the last of several
// batches; that commits the offsets of all of them, across partitions.
func TestAckSkipsCheckpoints(t *testing.T) {
	mem := conformance.Checked(t)
	brokers := startCluster(t, 3, "in")
	var recs []*kgo.Record
	for i := range 30 {
		recs = append(recs, &kgo.Record{Topic: "in", Partition: int32(i % 3), Value: fmt.Appendf(nil, `{"id": %d}`, i)})
	}
	produceManual(t, brokers, recs...)
	conf := fmt.Sprintf("{brokers: %s, topics: [in], group: g, stop_at_end: true, schema: {id: int64}}", brokers)
	src := mustSource(t, conf, conformance.Build(mem, 4, "source"))
	ctx := context.Background()
	if _, err := src.Open(ctx); err != nil {
		t.Fatal(err)
	}
	var last engine.Checkpoint
	n := 0
	for {
		b, err := src.Read(ctx)
		if errors.Is(err, engine.ErrEndOfInput) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		n += int(b.Record.NumRows())
		b.Record.Release()
		last = b.Checkpoint
	}
	if n != 30 {
		t.Fatalf("read %d rows, want 30", n)
	}
	if err := src.Ack(ctx, last); err != nil {
		t.Fatal(err)
	}
	src.Close()
	again := conformance.ReadAll(t, mustSource(t, conf, conformance.Build(mem, 4, "source")), 4, true)
	defer conformance.Release(again)
	for _, r := range again {
		if r.NumRows() > 0 {
			t.Errorf("after acking the last batch, a new run read %d rows again", r.NumRows())
		}
	}
}

// produceManual writes records to the partitions they name.
func produceManual(t testing.TB, brokers string, recs ...*kgo.Record) {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokerList(brokers)...), kgo.RecordPartitioner(kgo.ManualPartitioner()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	if err := cl.ProduceSync(context.Background(), recs...).FirstErr(); err != nil {
		t.Fatal(err)
	}
}

func TestSourceConfigErrors(t *testing.T) {
	mem := conformance.Checked(t)
	for _, tc := range []struct{ conf, want string }{
		{"{topics: [a], group: g}", "needs a schema"},
		{"{topics: [a], group: g, codec: avro}", "avro.schema or avro.schema_file"},
		{"{topics: [a], group: g, schema: {id: int64}, avro: {encoding: raw}}", "codec is json"},
		{"{topics: [], group: g, schema: {id: int64}}", "topic"},
		{"{topics: [a], schema: {id: int64}}", "group"},
		{"{topics: [a], group: g, schema: {id: int64}, start_offset: middle}", "start_offset"},
		{"{topics: [a], group: g, schema: {_offset: int64}, metadata: true}", "appears twice"},
		{"{topics: [a], group: g, schema: {id: int64}, header_columns: [id]}", "appears twice"},
		{"{topics: [a], group: g, schema: {id: int64}, max_record_bytes: 0}", "must be between 1 and"},
		{"{topics: [a], group: g, schema: {id: int64}, session_timeout: 3s}", "heartbeat_interval (3s) must be positive and below session_timeout (3s)"},
		{"{topics: [a], group: g, schema: {id: int64}, session_timeout: 2s, heartbeat_interval: 5s}", "below session_timeout"},
		{"{topics: [a], group: g, schema: {id: int64}, heartbeat_interval: 0s}", "heartbeat_interval (0s) must be positive"},
		{"{topics: [a], group: g, schema: {id: int64}, session_timeout: 0s}", "session_timeout must be positive"},
		{"{topics: [a], group: g, schema: {id: int64}, rebalance_timeout: 0s}", "rebalance_timeout must be positive"},
	} {
		_, err := build(t, engine.KindSource, tc.conf, conformance.Build(mem, 10, "source"))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want an error containing %q", tc.conf, err, tc.want)
		}
	}
}
