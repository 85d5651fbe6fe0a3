package nats

import (
	"context"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/nats-io/nats.go"

	"github.com/dataweaver/dataweaver/codec"
	"github.com/dataweaver/dataweaver/connectors/conformance"
	"github.com/dataweaver/dataweaver/engine"
)

// TestMsgIDDeduplication: writing the same rows twice (a batch replayed
// after a failure) stores them once when msg_id_column is set, twice when
// it is not.
func TestMsgIDDeduplication(t *testing.T) {
	for _, tc := range []struct {
		name, conf string
		stored     uint64
		dups       int64
	}{
		{"with ids", "msg_id_column: id", 10, 10},
		{"without", "", 20, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			mem := conformance.Checked(t)
			url := startServer(t)
			js := createStream(t, url, "OUT", "out.>")
			rec := conformance.Sample(mem, conformance.SampleSchema, 0, 10)
			defer rec.Release()
			sink := mustSink(t, fmt.Sprintf("{urls: [%s], subject: out.x, %s}", q(url), tc.conf), conformance.Build(mem, 10, "sink"))
			ctx := context.Background()
			if err := sink.Open(ctx, rec.Schema()); err != nil {
				t.Fatal(err)
			}
			for range 2 {
				if err := sink.Write(ctx, rec); err != nil {
					t.Fatal(err)
				}
				if err := sink.Flush(ctx); err != nil {
					t.Fatal(err)
				}
			}
			dups := sink.duplicates
			if err := sink.Close(); err != nil {
				t.Fatal(err)
			}
			st, err := js.Stream(ctx, "OUT")
			if err != nil {
				t.Fatal(err)
			}
			if n := st.CachedInfo().State.Msgs; n != tc.stored || dups != tc.dups {
				t.Errorf("stream holds %d messages (want %d), sink saw %d duplicate acks (want %d)", n, tc.stored, dups, tc.dups)
			}
		})
	}
}

// TestCoreNATSSink: jetstream: false publishes plain messages a subscriber
// receives.
func TestCoreNATSSink(t *testing.T) {
	mem := conformance.Checked(t)
	url := startServer(t)
	nc, err := nats.Connect(url)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	sub, err := nc.SubscribeSync("plain.>")
	if err != nil {
		t.Fatal(err)
	}
	// Core NATS drops a message published before the server has the
	// subscription: the flush's round trip makes sure it has.
	if err := nc.Flush(); err != nil {
		t.Fatal(err)
	}
	rec := conformance.Sample(mem, conformance.SampleSchema, 0, 5)
	defer rec.Release()
	sink := mustSink(t, fmt.Sprintf("{urls: [%s], subject: plain.rows, jetstream: false}", q(url)), conformance.Build(mem, 10, "sink"))
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
	sink.Close()
	var msgs [][]byte
	for range 5 {
		// No wall-clock limit of our own: a lost message is reported by
		// go test -timeout (NextMsg needs a duration, so the longest).
		m, err := sub.NextMsg(time.Duration(math.MaxInt64))
		if err != nil {
			t.Fatal(err)
		}
		msgs = append(msgs, m.Data)
	}
	dec, _ := codec.NewDecoder(codec.Config{Schema: conformance.SampleSchema}, mem)
	got, rej, err := dec.Decode(msgs)
	if err != nil || len(rej) > 0 {
		t.Fatal(err, rej)
	}
	defer got.Release()
	if !array.RecordEqual(got, rec) {
		t.Errorf("received %v, want %v", got, rec)
	}
}

func TestSinkConfigErrors(t *testing.T) {
	mem := conformance.Checked(t)
	for _, tc := range []struct{ conf, want string }{
		{"{subject: a, jetstream: false, msg_id_column: id}", "JetStream only"},
		{"{subject: a, codec: avro, avro: {schema: x}}", "derives the Avro schema"},
		{"{jetstream: false}", "subject"},
		{"{subject: a, msg_id_column: id, dedupe_retries: true}", "dedupe_retries gives ids"},
		{"{subject: a, jetstream: false, dedupe_retries: true}", "dedupe_retries gives ids"},
		{"{subject: a, max_outage: -1s}", "must not be negative"},
		{"{subject: a, request_timeout: 0s}", "must be positive"},
	} {
		_, err := build(t, engine.KindSink, tc.conf, conformance.Build(mem, 10, "sink"))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want an error containing %q", tc.conf, err, tc.want)
		}
	}
	s := mustSink(t, "{subject: a, msg_id_column: nope}", conformance.Build(mem, 10, "sink"))
	if err := s.CheckSchema(conformance.SampleSchema); err == nil || !strings.Contains(err.Error(), `"nope" is not a column`) {
		t.Errorf("CheckSchema: %v", err)
	}
}
