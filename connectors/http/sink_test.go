package http

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/dataweaver/dataweaver/connectors/conformance"
	mem "github.com/dataweaver/dataweaver/connectors/inmemory"
	"github.com/dataweaver/dataweaver/engine"
)

// fakeClock is the sink's clock in tests: Sleep records the wait and moves
// time on at once, so waits are counted, not timed.
type fakeClock struct {
	now   time.Time
	slept []time.Duration
}

func newFakeClock() *fakeClock {
	return &fakeClock{now: time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)}
}

func (c *fakeClock) Now() time.Time { return c.now }

func (c *fakeClock) Sleep(ctx context.Context, d time.Duration) error {
	if d > 0 {
		c.slept = append(c.slept, d)
		c.now = c.now.Add(d)
	}
	return ctx.Err()
}

func (c *fakeClock) total() time.Duration {
	var sum time.Duration
	for _, d := range c.slept {
		sum += d
	}
	return sum
}

// openSink builds and opens a sink on the clock given (nil: the wall clock).
func openSink(t *testing.T, m memory.Allocator, conf string, c clock, schema *arrow.Schema) *Sink {
	t.Helper()
	s := mustSink(t, conf, conformance.Build(m, 10, "sink"))
	if c != nil {
		s.clock = c
	}
	if err := s.Open(context.Background(), schema); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// TestSinkStatuses: which replies are retried and which are permanent.
func TestSinkStatuses(t *testing.T) {
	for _, tc := range []struct {
		code      int
		permanent bool
	}{
		{400, true}, {401, true}, {403, true}, {404, true}, {409, true}, {413, true}, {422, true},
		{307, true}, {301, true},
		{408, false}, {429, false}, {500, false}, {502, false}, {503, false}, {504, false},
	} {
		t.Run(fmt.Sprint(tc.code), func(t *testing.T) {
			m := conformance.Checked(t)
			rcv := newReceiver(t)
			rcv.status = func(int, received) (int, http.Header) {
				return tc.code, http.Header{"Location": {"https://elsewhere.example/in"}}
			}
			s := openSink(t, m, fmt.Sprintf("{url: %q}", rcv.URL), newFakeClock(), conformance.SampleSchema)
			rec := conformance.Sample(m, conformance.SampleSchema, 0, 3)
			defer rec.Release()
			err := s.Write(context.Background(), rec)
			var se *StatusError
			if !errors.As(err, &se) || se.Code != tc.code || !strings.Contains(err.Error(), fmt.Sprintf("reply %d", tc.code)) {
				t.Fatalf("error %v, want a StatusError %d quoting the reply", err, tc.code)
			}
			if engine.IsPermanent(err) != tc.permanent {
				t.Errorf("permanent = %v, want %v (%v)", engine.IsPermanent(err), tc.permanent, err)
			}
			if tc.code/100 == 3 && !strings.Contains(err.Error(), "elsewhere.example") {
				t.Errorf("redirect error %v does not name the new location", err)
			}
			if n := len(rcv.all()); n != 1 {
				t.Errorf("%d requests, want 1 (retrying is the engine's job)", n)
			}
		})
	}
}

// runSink runs rec through the sink on the real engine, with fast retries.
func runSink(t *testing.T, m memory.Allocator, rec arrow.RecordBatch, sink *Sink, attempts int) error {
	t.Helper()
	src := mem.NewSource(rec.Schema(), rec)
	defer src.Release()
	p := &engine.Pipeline{
		Source: engine.SourceStep{Name: "memory", Source: src},
		Sinks: []engine.SinkStep{{Name: "http", Sink: sink,
			Retry: engine.Retry{Attempts: attempts, Initial: time.Millisecond, Max: time.Millisecond}}},
		Mem: m,
	}
	_, err := p.Run(context.Background())
	return err
}

// TestSinkRetriesThenSucceeds: two 503s, then 200, through the engine's
// retry: the same body under the same Idempotency-Key each time, and the
// rows arrive.
func TestSinkRetriesThenSucceeds(t *testing.T) {
	m := conformance.Checked(t)
	rcv := newReceiver(t)
	rcv.status = func(i int, _ received) (int, http.Header) {
		if i < 2 {
			return http.StatusServiceUnavailable, nil
		}
		return http.StatusOK, nil
	}
	rec := conformance.Sample(m, conformance.SampleSchema, 0, 7)
	defer rec.Release()
	sink := mustSink(t, fmt.Sprintf("{url: %q, codec: arrow}", rcv.URL), conformance.Build(m, 10, "sink"))
	if err := runSink(t, m, rec, sink, 5); err != nil {
		t.Fatal(err)
	}
	all := rcv.all()
	if len(all) != 3 {
		t.Fatalf("%d requests, want 3", len(all))
	}
	key := all[0].header.Get("Idempotency-Key")
	for i, r := range all {
		if k := r.header.Get("Idempotency-Key"); k != key || k == "" {
			t.Errorf("request %d has key %q, want %q on every try", i, k, key)
		}
		if string(r.body) != string(all[0].body) {
			t.Errorf("request %d sent a different body", i)
		}
	}
	got := rcv.records(t, formatArrow, conformance.SampleSchema, m)
	defer conformance.Release(got)
	conformance.EqualRows(t, rec, got)
}

// TestSinkPermanentFailsRun: a 400 is not retried; the run fails with
// what the receiver said.
func TestSinkPermanentFailsRun(t *testing.T) {
	m := conformance.Checked(t)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, `{"error": "amount: not a number"}`, http.StatusBadRequest)
	}))
	defer srv.Close()
	rec := conformance.Sample(m, conformance.SampleSchema, 0, 7)
	defer rec.Release()
	sink := mustSink(t, fmt.Sprintf("{url: %q}", srv.URL), conformance.Build(m, 10, "sink"))
	err := runSink(t, m, rec, sink, 5)
	if err == nil || !strings.Contains(err.Error(), "400 Bad Request") || !strings.Contains(err.Error(), "amount: not a number") {
		t.Fatalf("run error %v, want the 400 and its body", err)
	}
	if strings.Contains(err.Error(), "attempts") {
		t.Errorf("a permanent error was retried: %v", err)
	}
	if n := sink.requests; n != 1 {
		t.Errorf("%d requests, want 1", n)
	}
}

// TestSinkRetryAfter: the try after a 429 or 503 waits what Retry-After
// asks (seconds or an HTTP date), capped by max_retry_after.
func TestSinkRetryAfter(t *testing.T) {
	m := conformance.Checked(t)
	c := newFakeClock()
	headers := []string{"7", c.now.Add(7 * time.Second).Add(3 * time.Second).Format(http.TimeFormat), "3600", ""}
	rcv := newReceiver(t)
	rcv.status = func(i int, _ received) (int, http.Header) {
		switch i {
		case 0:
			return http.StatusTooManyRequests, http.Header{"Retry-After": {headers[0]}}
		case 1:
			return http.StatusServiceUnavailable, http.Header{"Retry-After": {headers[1]}}
		case 2:
			return http.StatusServiceUnavailable, http.Header{"Retry-After": {headers[2]}}
		}
		return http.StatusOK, nil
	}
	s := openSink(t, m, fmt.Sprintf("{url: %q, max_retry_after: 1m}", rcv.URL), c, conformance.SampleSchema)
	rec := conformance.Sample(m, conformance.SampleSchema, 0, 3)
	defer rec.Release()
	for i := range 3 {
		if err := s.Write(context.Background(), rec); err == nil || engine.IsPermanent(err) {
			t.Fatalf("try %d: %v, want a retryable error", i, err)
		}
	}
	if err := s.Write(context.Background(), rec); err != nil {
		t.Fatal(err)
	}
	want := []time.Duration{7 * time.Second, 3 * time.Second, time.Minute}
	if fmt.Sprint(c.slept) != fmt.Sprint(want) {
		t.Errorf("waits %v, want %v", c.slept, want)
	}
}

func TestRetryAfterParse(t *testing.T) {
	now := time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"0", 0, true},
		{"  12 ", 12 * time.Second, true},
		{"Wed, 01 May 2024 12:00:30 GMT", 30 * time.Second, true},
		{"Wed, 01 May 2024 11:00:00 GMT", 0, true},
		{"-1", 0, false},
		{"soon", 0, false},
		{"", 0, false},
	} {
		got, ok := retryAfter(tc.in, now)
		if got != tc.want || ok != tc.ok {
			t.Errorf("retryAfter(%q) = %v, %v; want %v, %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
}

// TestSinkRateLimit: with 10 requests/s and a burst of 2, twelve requests
// wait one second in all on the sink's clock: the first two go at once,
// each later one 100ms after the one before. A retry takes a token too.
func TestSinkRateLimit(t *testing.T) {
	m := conformance.Checked(t)
	c := newFakeClock()
	rcv := newReceiver(t)
	rcv.status = func(i int, _ received) (int, http.Header) {
		if i == 12 {
			return http.StatusServiceUnavailable, nil
		}
		return http.StatusOK, nil
	}
	s := openSink(t, m, fmt.Sprintf("{url: %q, rate_limit: {requests_per_second: 10, burst: 2}}", rcv.URL), c, conformance.SampleSchema)
	rec := conformance.Sample(m, conformance.SampleSchema, 0, 1)
	defer rec.Release()
	for range 12 {
		if err := s.Write(context.Background(), rec); err != nil {
			t.Fatal(err)
		}
	}
	if n, total := len(c.slept), c.total(); n != 10 || total != time.Second {
		t.Errorf("%d waits totalling %v, want 10 totalling 1s: %v", n, total, c.slept)
	}
	if n := len(rcv.all()); n != 12 {
		t.Errorf("%d requests, want 12", n)
	}
	// A quiet spell refills the bucket; a refused request and its retry
	// take two tokens.
	c.now = c.now.Add(time.Hour)
	c.slept = nil
	if err := s.Write(context.Background(), rec); err == nil {
		t.Fatal("the 503 did not fail the Write")
	}
	if err := s.Write(context.Background(), rec); err != nil {
		t.Fatal(err)
	}
	if err := s.Write(context.Background(), rec); err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(c.slept) != "[100ms]" {
		t.Errorf("after a refill, waits %v; want only the third request to wait 100ms", c.slept)
	}
}

// TestSinkSplitsAndResumes: a batch larger than max_rows goes as several
// requests with keys <run>-<batch>-<request>; when one fails, the retried
// Write starts again at that request, with its key.
func TestSinkSplitsAndResumes(t *testing.T) {
	m := conformance.Checked(t)
	rcv := newReceiver(t)
	rcv.status = func(i int, _ received) (int, http.Header) {
		if i == 1 {
			return http.StatusBadGateway, nil
		}
		return http.StatusOK, nil
	}
	s := openSink(t, m, fmt.Sprintf("{url: %q, codec: ndjson, max_rows: 4}", rcv.URL), newFakeClock(), conformance.SampleSchema)
	rec := conformance.Sample(m, conformance.SampleSchema, 0, 10)
	defer rec.Release()
	if err := s.Write(context.Background(), rec); err == nil {
		t.Fatal("the 502 did not fail the Write")
	}
	if err := s.Write(context.Background(), rec); err != nil {
		t.Fatal(err)
	}
	next := conformance.Sample(m, conformance.SampleSchema, 10, 2)
	defer next.Release()
	if err := s.Write(context.Background(), next); err != nil {
		t.Fatal(err)
	}
	run := s.run
	var keys []string
	for _, r := range rcv.all() {
		keys = append(keys, strings.TrimPrefix(r.header.Get("Idempotency-Key"), run))
	}
	if got := strings.Join(keys, " "); got != "-1-0 -1-1 -1-1 -1-2 -2-0" || len(run) != 16 {
		t.Errorf("keys %q (run %q), want -1-0 -1-1 -1-1 -1-2 -2-0 after a 16-digit run id", got, run)
	}
	want := conformance.Sample(m, conformance.SampleSchema, 0, 12)
	defer want.Release()
	got := rcv.records(t, formatNDJSON, conformance.SampleSchema, m)
	defer conformance.Release(got)
	conformance.EqualRows(t, want, got)
	for i, g := range got {
		if n := g.NumRows(); n > 4 {
			t.Errorf("request %d holds %d rows, more than max_rows", i, n)
		}
	}
}

// TestSinkMaxBytes: bodies stay under max_bytes, and a row larger than the
// limit goes alone.
func TestSinkMaxBytes(t *testing.T) {
	m := conformance.Checked(t)
	rcv := newReceiver(t)
	s := openSink(t, m, fmt.Sprintf("{url: %q, codec: json, max_bytes: 400}", rcv.URL), nil, conformance.SampleSchema)
	rec := conformance.Sample(m, conformance.SampleSchema, 0, 40)
	defer rec.Release()
	if err := s.Write(context.Background(), rec); err != nil {
		t.Fatal(err)
	}
	all := rcv.all()
	if len(all) < 5 {
		t.Errorf("%d requests for about %d bytes of JSON, want several", len(all), 40*110)
	}
	for i, r := range all {
		if len(r.body) > 400 {
			t.Errorf("request %d is %d bytes, over max_bytes", i, len(r.body))
		}
	}
	got := rcv.records(t, formatJSON, conformance.SampleSchema, m)
	defer conformance.Release(got)
	conformance.EqualRows(t, rec, got)

	tiny := openSink(t, m, fmt.Sprintf("{url: %q, codec: ndjson, max_bytes: 10}", rcv.URL), nil, conformance.SampleSchema)
	three := rec.NewSlice(0, 3)
	defer three.Release()
	before := len(rcv.all())
	if err := tiny.Write(context.Background(), three); err != nil {
		t.Fatal(err)
	}
	if n := len(rcv.all()) - before; n != 3 {
		t.Errorf("rows larger than max_bytes went in %d requests, want one each (3)", n)
	}
}

// TestSinkTimeout: a receiver that never answers costs one timeout, and
// the error is retryable.
func TestSinkTimeout(t *testing.T) {
	m := conformance.Checked(t)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Until the client gives up; the server notices a closed
		// connection only once the body has been read.
		_, _ = io.Copy(io.Discard, r.Body)
		<-r.Context().Done()
	}))
	defer srv.Close()
	s := openSink(t, m, fmt.Sprintf("{url: %q, timeout: 20ms}", srv.URL), nil, conformance.SampleSchema)
	rec := conformance.Sample(m, conformance.SampleSchema, 0, 1)
	defer rec.Release()
	err := s.Write(context.Background(), rec)
	if err == nil || engine.IsPermanent(err) || !strings.Contains(err.Error(), "no reply within 20ms") {
		t.Fatalf("error %v, want a retryable timeout", err)
	}
}

// TestSinkHeaders: token, extra headers (which may replace Content-Type),
// and the idempotency header's name, or none.
func TestSinkHeaders(t *testing.T) {
	m := conformance.Checked(t)
	rcv := newReceiver(t)
	rec := conformance.Sample(m, conformance.SampleSchema, 0, 2)
	defer rec.Release()
	for _, conf := range []string{
		"codec: avro, auth_token: tok3n, headers: {X-Source: weave, Content-Type: avro/binary}, idempotency_header: X-Key",
		"codec: ndjson, idempotency_header: ''",
	} {
		s := openSink(t, m, fmt.Sprintf("{url: %q, %s}", rcv.URL, conf), nil, conformance.SampleSchema)
		if err := s.Write(context.Background(), rec); err != nil {
			t.Fatal(err)
		}
	}
	all := rcv.all()
	h := all[0].header
	if h.Get("Authorization") != "Bearer tok3n" || h.Get("X-Source") != "weave" || h.Get("Content-Type") != "avro/binary" ||
		!strings.HasSuffix(h.Get("X-Key"), "-1-0") || h.Get("Idempotency-Key") != "" || h.Get("User-Agent") != "dataweaver" {
		t.Errorf("headers %v", h)
	}
	h = all[1].header
	if h.Get("Authorization") != "" || h.Get("Idempotency-Key") != "" || h.Get("Content-Type") != "application/x-ndjson" {
		t.Errorf("headers %v", h)
	}
}

func TestSinkConfigErrors(t *testing.T) {
	for _, tc := range []struct{ conf, want string }{
		{"{url: example.com/in}", "absolute http"},
		{"{url: 'ftp://example.com/in'}", "absolute http"},
		{"{url: 'http://x/', auth_token: ''}", "auth_token"},
		{"{url: 'http://x/', rate_limit: {requests_per_second: 0}}", "requests_per_second"},
		{"{url: 'http://x/', rate_limit: {requests_per_second: 5, burst: 0}}", "burst"},
		{"{url: 'http://x/', max_rows: -1}", "max_rows"},
		{"{url: 'http://x/', codec: protobuf}", "protobuf"},
	} {
		_, err := conformance.BuildStep(t, engine.KindSink, "http", tc.conf, conformance.Build(memory.NewGoAllocator(), 10, "sink"))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want one mentioning %q", tc.conf, err, tc.want)
		}
	}
}
