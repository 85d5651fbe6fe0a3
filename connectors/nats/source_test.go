package nats

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/dataweaver/dataweaver/connectors/conformance"
	"github.com/dataweaver/dataweaver/connectors/internal/msgtest"
	"github.com/dataweaver/dataweaver/engine"
)

// TestMalformedMessageIsRejected: a message that does not decode comes
// back as a RowError with its subject, stream sequence and bytes, and the
// good messages around it are rows.
func TestMalformedMessageIsRejected(t *testing.T) {
	mem := conformance.Checked(t)
	url := startServer(t)
	js := createStream(t, url, "S", "in.>")
	publish(t, js, "in.a", []byte(`{"id": 1}`), []byte(`{"id": "one"}`), []byte(`{"id": 3`), []byte(`{"id": 4}`))
	src := mustSource(t, fmt.Sprintf("{urls: [%s], stream: S, durable: d, stop_at_end: true, schema: {id: int64}}", q(url)),
		conformance.Build(mem, 10, "source"))
	b := msgtest.ReadOneBatch(t, src)
	if b.Record.NumRows() != 2 || b.Record.Column(0).ValueStr(1) != "4" {
		t.Errorf("rows: %v", b.Record)
	}
	msgtest.WantRejects(t, b.Rejects,
		msgtest.Malformed{From: "in.a", At: 2, Raw: `{"id": "one"}`},
		msgtest.Malformed{From: "in.a", At: 3, Raw: `{"id": 3`},
	)
	msgtest.AckAndExpectEnd(t, src, b)
}

// TestMessageOverMaxRecordBytes: a message over max_record_bytes is a
// reject naming its subject, stream sequence and the limit, carrying only
// the first codec.RawPrefix bytes; the messages around it are rows.
func TestMessageOverMaxRecordBytes(t *testing.T) {
	mem := conformance.Checked(t)
	url := startServer(t)
	js := createStream(t, url, "S", "in.>")
	big := fmt.Appendf(nil, `{"id": 2, "pad": "%s"}`, strings.Repeat("x", 2000))
	publish(t, js, "in.a", []byte(`{"id": 1}`), big, []byte(`{"id": 3}`))
	src := mustSource(t, fmt.Sprintf("{urls: [%s], stream: S, durable: d, stop_at_end: true, schema: {id: int64}, max_record_bytes: 100}", q(url)),
		conformance.Build(mem, 10, "source"))
	b := msgtest.ReadOneBatch(t, src)
	if b.Record.NumRows() != 2 || b.Record.Column(0).ValueStr(0) != "1" || b.Record.Column(0).ValueStr(1) != "3" {
		t.Errorf("rows: %v", b.Record)
	}
	msgtest.WantTooLarge(t, b.Rejects, "in.a", 2, big, 100)
}

// TestDeliverPolicies: where a new durable consumer starts.
func TestDeliverPolicies(t *testing.T) {
	mem := conformance.Checked(t)
	url := startServer(t)
	js := createStream(t, url, "S", "in.>")
	for i := 1; i <= 5; i++ {
		publish(t, js, "in.a", fmt.Appendf(nil, `{"id": %d}`, i))
	}
	st, err := js.Stream(context.Background(), "S")
	if err != nil {
		t.Fatal(err)
	}
	msg, err := st.GetLastMsgForSubject(context.Background(), "in.a")
	if err != nil {
		t.Fatal(err)
	}
	startTime := msg.Time.Format("2006-01-02T15:04:05.999999999Z07:00")
	for _, tc := range []struct {
		name, conf, want string
	}{
		{"all", "deliver: all", "1 2 3 4 5"},
		{"new", "deliver: new", ""},
		{"sequence", "deliver: sequence, start_sequence: 4", "4 5"},
		{"time", "deliver: time, start_time: " + q(startTime), "5"},
	} {
		src := mustSource(t, fmt.Sprintf("{urls: [%s], stream: S, durable: %s, stop_at_end: true, schema: {id: int64}, %s}", q(url), tc.name, tc.conf),
			conformance.Build(mem, 10, "source"))
		recs := conformance.ReadAll(t, src, 10, true)
		var got []string
		for _, r := range recs {
			for i := 0; i < int(r.NumRows()); i++ {
				got = append(got, r.Column(0).ValueStr(i))
			}
		}
		conformance.Release(recs)
		if strings.Join(got, " ") != tc.want {
			t.Errorf("%s: read %q, want %q", tc.name, got, tc.want)
		}
	}
}

func TestSourceConfigErrors(t *testing.T) {
	mem := conformance.Checked(t)
	for _, tc := range []struct{ conf, want string }{
		{"{stream: S, durable: d}", "needs a schema"},
		{"{stream: S, durable: d, schema: {id: int64}, deliver: sequence}", "start_sequence"},
		{"{stream: S, durable: d, schema: {id: int64}, start_time: yesterday}", "start_time"},
		{"{stream: S, durable: d, schema: {id: int64}, start_sequence: 3}", "needs deliver: sequence"},
		{"{stream: S, durable: d, codec: avro}", "avro.schema or avro.schema_file"},
		{"{stream: S, durable: d, schema: {id: int64}, avro: {encoding: raw}}", "codec is json"},
		{"{durable: d, schema: {id: int64}}", "stream"},
		{"{stream: S, durable: d, schema: {id: int64}, max_deliver: -1}", "must not be negative"},
		{"{stream: S, durable: d, schema: {id: int64}, max_outage: -1s}", "must not be negative"},
		{"{stream: S, durable: d, schema: {id: int64}, request_timeout: 0s}", "must be positive"},
		{"{stream: S, durable: d, schema: {id: int64}, max_record_bytes: 1073741825}", "must be between 1 and"},
	} {
		_, err := build(t, engine.KindSource, tc.conf, conformance.Build(mem, 10, "source"))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want an error containing %q", tc.conf, err, tc.want)
		}
	}
}
