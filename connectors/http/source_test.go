package http

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/dataweaver/dataweaver/connectors/conformance"
	"github.com/dataweaver/dataweaver/engine"
)

// rowsSchema is small enough to write request bodies by hand.
const rowsSchema = "{id: int64 not null, name: utf8, amount: float64}"

func TestSourceAuth(t *testing.T) {
	mem := conformance.Checked(t)
	src := mustSource(t, "{address: 127.0.0.1:0, auth_token: s3cret, schema: "+rowsSchema+"}", conformance.Build(mem, 100, "source"))
	startReader(t, src)
	row := []byte(`{"id": 1, "name": "a"}`)
	for _, tc := range []struct {
		name, auth string
		status     int
		challenge  string
	}{
		{"no token", "", http.StatusUnauthorized, `Bearer realm="dataweaver"`},
		{"wrong token", "Bearer s3cres", http.StatusUnauthorized, `Bearer realm="dataweaver", error="invalid_token"`},
		{"token as a prefix", "Bearer s3cret2", http.StatusUnauthorized, `Bearer realm="dataweaver", error="invalid_token"`},
		{"basic scheme", "Basic czNjcmV0", http.StatusUnauthorized, `Bearer realm="dataweaver", error="invalid_token"`},
		{"right token", "Bearer s3cret", http.StatusOK, ""},
		{"scheme in lower case", "bearer s3cret", http.StatusOK, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := map[string]string{}
			if tc.auth != "" {
				h["Authorization"] = tc.auth
			}
			r := post(context.Background(), src.url(), ctJSON, row, h)
			if r.err != nil || r.status != tc.status {
				t.Fatalf("got %d %q (%v), want %d", r.status, r.body, r.err, tc.status)
			}
			if got := r.header.Get("WWW-Authenticate"); got != tc.challenge {
				t.Errorf("WWW-Authenticate %q, want %q", got, tc.challenge)
			}
		})
	}
}

// TestSourceRefusals: every way a request is refused as a whole, with
// the status and a reason that says where.
func TestSourceRefusals(t *testing.T) {
	mem := conformance.Checked(t)
	src := mustSource(t, "{address: 127.0.0.1:0, path: /in, max_body_bytes: 4000, schema: "+rowsSchema+"}", conformance.Build(mem, 100, "source"))
	r := startReader(t, src)

	good := arrow.NewSchema([]arrow.Field{
		{Name: "id", Type: arrow.PrimitiveTypes.Int64},
		{Name: "name", Type: arrow.BinaryTypes.String, Nullable: true},
		{Name: "amount", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
	}, nil)
	wrongType := arrow.NewSchema([]arrow.Field{
		{Name: "id", Type: arrow.PrimitiveTypes.Int32},
		{Name: "name", Type: arrow.BinaryTypes.String},
		{Name: "amount", Type: arrow.PrimitiveTypes.Float64},
	}, nil)
	nullID := arrowRows(t, mem, good, func(b *array.RecordBuilder) {
		b.Field(0).(*array.Int64Builder).AppendValues([]int64{1, 0}, []bool{true, false})
		b.Field(1).AppendNulls(2)
		b.Field(2).AppendNulls(2)
	})
	big := arrowRows(t, mem, good, func(b *array.RecordBuilder) {
		for i := range 1000 {
			b.Field(0).(*array.Int64Builder).Append(int64(i))
			b.Field(1).(*array.StringBuilder).Append("a name long enough to take some room")
			b.Field(2).AppendNull()
		}
	})
	int32IDs := arrowRows(t, mem, wrongType, func(b *array.RecordBuilder) {
		b.Field(0).(*array.Int32Builder).Append(1)
		b.Field(1).(*array.StringBuilder).Append("a")
		b.Field(2).(*array.Float64Builder).Append(1)
	})

	for _, tc := range []struct {
		name, method, path, ct string
		header                 map[string]string
		body                   string
		status                 int
		want                   string
		sized                  bool // send Content-Length (otherwise chunked, so limits apply while reading)
	}{
		{name: "wrong path", path: "/out", ct: ctJSON, body: `{}`, status: 404, want: "POSTed to /in"},
		{name: "GET", method: http.MethodGet, ct: ctJSON, status: 405, want: "only POST"},
		{name: "unknown type", ct: "text/csv", body: "id\n1\n", status: 415, want: "text/csv is not accepted"},
		{name: "curl's form type", ct: "application/x-www-form-urlencoded", body: `{"id":1}`, status: 415, want: "curl's default"},
		{name: "unknown encoding", ct: ctJSON, header: map[string]string{"Content-Encoding": "zstd"}, body: "x", status: 415, want: "zstd"},
		{name: "latin-1", ct: "application/json; charset=latin1", body: `{}`, status: 415, want: "charset"},
		{name: "end not allowed", ct: ctJSON, header: map[string]string{EndOfInputHeader: "true"}, body: `{}`, status: 400, want: "allow_end_of_input"},
		{name: "json: not an object", ct: ctJSON, body: `42`, status: 400, want: "must be an object or an array"},
		{name: "json: NDJSON sent as JSON array", ct: ctJSON, body: "\"a\"\n", status: 400, want: "x-ndjson"},
		{name: "json: broken element", ct: ctJSON, body: `[{"id": 1}, {"id": 2,}]`, status: 400, want: "element 1 (byte"},
		{name: "json: missing comma", ct: ctJSON, body: `[{"id": 1} {"id": 2}]`, status: 400, want: "element 1"},
		{name: "json: unclosed array", ct: ctJSON, body: `[{"id": 1}`, status: 400, want: "not closed"},
		{name: "json: data after the array", ct: ctJSON, body: `[{"id": 1}] {"id": 2}`, status: 400, want: "data after the array"},
		{name: "declared too large", ct: ctNDJSON, body: strings.Repeat("{\"id\": 1}\n", 500), status: 413, want: "max_body_bytes (4000 bytes)", sized: true},
		{name: "json: too large", ct: ctJSON, body: "[" + strings.Repeat(`{"id": 1},`, 400) + `{"id": 1}]`, status: 413, want: "max_body_bytes (4000 bytes)"},
		{name: "ndjson: too large", ct: ctNDJSON, body: strings.Repeat("{\"id\": 1}\n", 500), status: 413, want: "max_body_bytes"},
		{name: "arrow: too large", ct: ctArrow, body: string(arrowBody(t, big)), status: 413, want: "max_body_bytes"},
		{name: "arrow: not arrow", ct: ctArrow, body: "hello, this is not an Arrow stream", status: 400, want: "not an Arrow IPC stream"},
		{name: "arrow: truncated", ct: ctArrow, body: string(arrowBody(t, nullID)[:60]), status: 400, want: "malformed"},
		{name: "arrow: wrong type", ct: ctArrow, body: string(arrowBody(t, int32IDs)), status: 400, want: `column 0 is "id" int32, want "id" int64`},
		{name: "arrow: null in a not-null column", ct: ctArrow, body: string(arrowBody(t, nullID)), status: 400, want: `row 1 (Arrow batch 1, row 0): column "id" is null`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			url := "http://" + src.Addr() + "/in"
			if tc.path != "" {
				url = "http://" + src.Addr() + tc.path
			}
			method := tc.method
			if method == "" {
				method = http.MethodPost
			}
			var body io.Reader = io.NopCloser(strings.NewReader(tc.body))
			if tc.sized {
				body = strings.NewReader(tc.body)
			}
			req, _ := http.NewRequest(method, url, body)
			req.Header.Set("Content-Type", tc.ct)
			for k, v := range tc.header {
				req.Header.Set(k, v)
			}
			resp := do(t, req)
			var e errBody
			resp.json(t, &e)
			if resp.status != tc.status || !strings.Contains(e.Error, tc.want) {
				t.Errorf("got %d %q, want %d with %q", resp.status, e.Error, tc.status, tc.want)
			}
			if tc.status == 405 && resp.header.Get("Allow") != "POST" {
				t.Errorf("405 without Allow: POST")
			}
		})
	}
	if n := r.rows(); n != 0 {
		t.Errorf("refused requests put %d rows into the pipeline", n)
	}
	nullID.Release()
	int32IDs.Release()
	big.Release()
}

func arrowRows(t testing.TB, mem memory.Allocator, schema *arrow.Schema, fill func(*array.RecordBuilder)) arrow.RecordBatch {
	b := array.NewRecordBuilder(mem, schema)
	defer b.Release()
	fill(b)
	return b.NewRecordBatch()
}

func do(t testing.TB, req *http.Request) response {
	t.Helper()
	tr := &http.Transport{}
	defer tr.CloseIdleConnections()
	resp, err := (&http.Client{Transport: tr}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return response{status: resp.StatusCode, header: resp.Header, body: string(b)}
}

// TestSourceBadRows: rows that do not fit the schema. With bad_rows:
// policy the rest is taken and the rejects (with their bytes, the request
// id and the line or element) go to the engine; the reply counts them.
// With bad_rows: reject the request gets 400 naming the first one and
// none of it is taken.
func TestSourceBadRows(t *testing.T) {
	ndjson := "{\"id\": 1, \"name\": \"a\"}\n{\"id\": \"two\", \"name\": \"b\"}\n\n[3]\n{\"id\": 4}\n"
	array := `[{"id": 1}, {"id": 2, "amount": "x"}, 3, {"id": 4}]`
	for _, tc := range []struct {
		name, mode, ct, body string
		status               int
		want                 string // the reply's error (reject) or first reason (policy)
		rows                 int64
		lines                []int64 // of the rejects the engine got
	}{
		{"ndjson policy", "policy", ctNDJSON, ndjson, 200, "", 2, []int64{2, 4}},
		{"json policy", "policy", ctJSON, array, 200, "", 2, []int64{2, 3}},
		{"ndjson reject", "reject", ctNDJSON, ndjson, 400, `line 2: column "id": `, 0, nil},
		{"json reject", "reject", ctJSON, array, 400, `element 1: column "amount": `, 0, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			mem := conformance.Checked(t)
			src := mustSource(t, "{address: 127.0.0.1:0, bad_rows: "+tc.mode+", schema: "+rowsSchema+"}", conformance.Build(mem, 100, "source"))
			r := startReader(t, src)
			resp := post(context.Background(), src.url(), tc.ct, []byte(tc.body), map[string]string{"X-Request-Id": "batch-7"})
			if resp.err != nil || resp.status != tc.status {
				t.Fatalf("got %d %q (%v), want %d", resp.status, resp.body, resp.err, tc.status)
			}
			if tc.status == 400 {
				var e errBody
				resp.json(t, &e)
				if !strings.HasPrefix(e.Error, tc.want) || !strings.Contains(e.Error, "(and 1 more rows)") || e.Rejected != 2 || len(e.Errors) != 2 {
					t.Errorf("reply %+v, want an error starting %q counting 2 rejects", e, tc.want)
				}
				if n := r.rows(); n != 0 {
					t.Errorf("%d rows of a refused request were taken", n)
				}
				return
			}
			var ok okBody
			resp.json(t, &ok)
			if ok.Rows != tc.rows || ok.Rejected != 2 || len(ok.Errors) != 2 {
				t.Fatalf("reply %+v, want %d rows and 2 rejects", ok, tc.rows)
			}
			first := ok.Errors[0]
			if tc.ct == ctNDJSON && (first.Line != 2 || first.Column != "id" || first.Index != nil) {
				t.Errorf("first reason %+v, want line 2, column id", first)
			}
			if tc.ct == ctJSON && (first.Index == nil || *first.Index != 1 || first.Column != "amount" || first.Line != 0) {
				t.Errorf("first reason %+v, want index 1, column amount", first)
			}
			if n := r.rows(); n != tc.rows {
				t.Errorf("%d rows taken, want %d", n, tc.rows)
			}
			rej := r.gotRejects()
			if len(rej) != len(tc.lines) {
				t.Fatalf("engine got %d rejects, want %d", len(rej), len(tc.lines))
			}
			for i, e := range rej {
				if e.File != "batch-7" || e.Line != tc.lines[i] || len(e.Raw) == 0 || e.Err == nil {
					t.Errorf("reject %d: file %q line %d raw %q err %v; want file batch-7, line %d, the raw row", i, e.File, e.Line, e.Raw, e.Err, tc.lines[i])
				}
			}
		})
	}
}

// TestSourceSplitsAndJoins: a request larger than a batch spans batches
// and is answered only when the batch with its last rows is acked; small
// requests waiting together share a batch.
func TestSourceSplitsAndJoins(t *testing.T) {
	mem := conformance.Checked(t)
	schema := conformance.SampleSchema
	src := mustSource(t, "{address: 127.0.0.1:0, schema: "+conformance.SchemaYAML(schema)+"}", conformance.Build(mem, 10, "source"))
	ctx := context.Background()
	if _, err := src.Open(ctx); err != nil {
		t.Fatal(err)
	}
	defer src.Close()

	big := conformance.Sample(mem, schema, 0, 25)
	defer big.Release()
	ch := postAsync(t, src.url(), ctArrow, arrowBody(t, big), nil)
	var got []arrow.RecordBatch
	var cps []engine.Checkpoint
	for range 3 {
		b, err := src.Read(ctx)
		if err != nil {
			t.Fatal(err)
		}
		got, cps = append(got, b.Record), append(cps, b.Checkpoint)
	}
	defer conformance.Release(got)
	conformance.EqualRows(t, big, got)
	for i, want := range []int64{10, 10, 5} {
		if n := got[i].NumRows(); n != want {
			t.Errorf("batch %d has %d rows, want %d", i, n, want)
		}
	}
	if err := src.Ack(ctx, cps[1]); err != nil {
		t.Fatal(err)
	}
	select {
	case r := <-ch:
		t.Fatalf("answered %d before the batch with its last rows was acked", r.status)
	default:
	}
	if err := src.Ack(ctx, cps[2]); err != nil {
		t.Fatal(err)
	}
	var ok okBody
	if r := recv(t, ch); r.status != 200 {
		t.Fatalf("reply %d %q", r.status, r.body)
	} else if r.json(t, &ok); ok.Rows != 25 {
		t.Fatalf("reply counts %d rows, want 25", ok.Rows)
	}

	// Three small requests queued while nobody reads: one batch.
	small := conformance.Sample(mem, schema, 100, 9)
	defer small.Release()
	var chans []<-chan response
	for i, ct := range []string{ctNDJSON, ctJSON, ctArrow} {
		part := small.NewSlice(int64(3*i), int64(3*i+3))
		chans = append(chans, postAsync(t, src.url(), ct, encodeAs(t, ct, part), nil))
		part.Release()
	}
	waitFor(t, "three queued requests", func() bool { return src.queued() == 3 })
	b, err := src.Read(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Record.Release()
	conformance.SameRows(t, small, []arrow.RecordBatch{b.Record})
	if err := src.Ack(ctx, b.Checkpoint); err != nil {
		t.Fatal(err)
	}
	for _, ch := range chans {
		if r := recv(t, ch); r.status != 200 {
			t.Errorf("reply %d %q", r.status, r.body)
		}
	}
}

// TestSourceBackPressure: while every place is held, a request waits for
// one and gets 503 with Retry-After after max_wait, without its body being
// read (memory does not grow); a request that got a place but was not
// taken within max_wait gets 503 too, and leaves the queue.
func TestSourceBackPressure(t *testing.T) {
	mem := conformance.Checked(t)
	src := mustSource(t, "{address: 127.0.0.1:0, max_pending_requests: 1, max_wait: 50ms, retry_after: 2s, schema: "+rowsSchema+"}",
		conformance.Build(mem, 100, "source"))
	ctx := context.Background()
	if _, err := src.Open(ctx); err != nil {
		t.Fatal(err)
	}
	defer src.Close()

	// A client whose body trickles in holds the only place while it is
	// being decoded (read_timeout bounds that, not max_wait).
	pr, pw := io.Pipe()
	slow := make(chan response, 1)
	go func() {
		req, _ := http.NewRequest(http.MethodPost, src.url(), pr)
		req.Header.Set("Content-Type", ctNDJSON)
		resp := do(t, req)
		slow <- resp
	}()
	if _, err := pw.Write([]byte("{\"id\": 1}\n")); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the slow request to hold the place", func() bool { return src.holding() == 1 })
	before := mem.CurrentAlloc()
	r := post(ctx, src.url(), ctNDJSON, []byte(strings.Repeat("{\"id\": 3}\n", 20)), nil)
	if r.status != 503 || r.header.Get("Retry-After") != "2" || !strings.Contains(r.body, "too many requests are waiting") {
		t.Errorf("second request: %d %q Retry-After %q; want 503, too many waiting, Retry-After 2", r.status, r.body, r.header.Get("Retry-After"))
	}
	if after := mem.CurrentAlloc(); after != before {
		t.Errorf("a refused request changed allocated memory from %d to %d bytes", before, after)
	}

	// Nothing reads: once its body is in, the slow request waits in the
	// queue and gets 503 when max_wait has passed.
	if _, err := pw.Write([]byte("{\"id\": 2}\n")); err != nil {
		t.Fatal(err)
	}
	pw.Close()
	r = recv(t, slow)
	if r.status != 503 || !strings.Contains(r.body, "within max_wait") {
		t.Errorf("queued request: %d %q, want 503 not taken within max_wait", r.status, r.body)
	}
	if n, h := src.queued(), src.holding(); n != 0 || h != 0 {
		t.Errorf("%d requests left in the queue, %d places held", n, h)
	}
	// Both were refused because the pipeline did not keep up (metrics);
	// only the slow request's body was read.
	st := src.RequestStats()
	if st.Replies[503] != 2 || st.Refused[refusedBusy] != 2 || len(st.Refused) != 1 || st.BodyBytes != 20 {
		t.Errorf("stats %+v, want 2 replies 503, both refused as busy, 20 body bytes", st)
	}
}

// blockingSink holds every Write until released, to stand for a slow
// destination.
type blockingSink struct {
	entered chan struct{}
	release chan struct{}
	recs    []arrow.RecordBatch // read after the run
}

func newBlockingSink() *blockingSink {
	return &blockingSink{entered: make(chan struct{}, 100), release: make(chan struct{})}
}

func (s *blockingSink) Open(context.Context, *arrow.Schema) error { return nil }
func (s *blockingSink) Write(ctx context.Context, rec arrow.RecordBatch) error {
	s.entered <- struct{}{}
	select {
	case <-s.release:
	case <-ctx.Done():
		return ctx.Err()
	}
	rec.Retain()
	s.recs = append(s.recs, rec)
	return nil
}
func (s *blockingSink) Flush(context.Context) error { return nil }
func (s *blockingSink) Close() error                { return nil }

// TestSourceSlowSinkHoldsClients: with the real engine and a sink that
// blocks, a client gets no answer while its rows are unwritten; the
// pipeline's bounded queues fill, after which requests get 503 instead of
// piling up; once the sink moves, every request taken is answered 200 and
// the refused ones, sent again, get in too.
func TestSourceSlowSinkHoldsClients(t *testing.T) {
	mem := conformance.Checked(t)
	src := mustSource(t, "{address: 127.0.0.1:0, max_pending_requests: 1, max_wait: 20ms, allow_end_of_input: true, schema: "+rowsSchema+"}",
		conformance.Build(mem, 100, "source"))
	sink := newBlockingSink()
	defer func() { conformance.Release(sink.recs) }()
	p := &engine.Pipeline{Source: engine.SourceStep{Name: "source", Source: src}, Sinks: []engine.SinkStep{{Name: "slow", Sink: sink}}, Buffer: 1, Mem: mem}
	p.Metrics = p.NewMetrics()
	read := p.Metrics.Steps[0].RowsIn.Load
	done := make(chan error, 1)
	go func() { _, err := p.Run(context.Background()); done <- err }()
	waitFor(t, "the server", func() bool { return src.Addr() != "" })

	// On a loaded machine the first request can come before the engine
	// reads: it then waits max_wait (20ms) for a place and gets 503. Send
	// it again until the sink has it; only a refusal is expected here.
	first := postAsync(t, src.url(), ctNDJSON, []byte(`{"id": 0}`), nil)
	for entered := false; !entered; {
		select {
		case <-sink.entered:
			entered = true
		case r := <-first:
			if r.status != http.StatusServiceUnavailable {
				t.Fatalf("the first request was answered %d before the sink had it", r.status)
			}
			first = postAsync(t, src.url(), ctNDJSON, []byte(`{"id": 0}`), nil)
		}
	}
	select {
	case r := <-first:
		t.Fatalf("answered %d while the sink had not written the rows", r.status)
	default:
	}
	// Fill the pipeline: requests are taken until its queues are full,
	// then the next one waits max_wait and gets 503.
	var taken []<-chan response
	id := 1
	for ; ; id++ {
		ch := postAsync(t, src.url(), ctNDJSON, []byte(`{"id": `+strconv.Itoa(id)+`}`), nil)
		var refused *response
		waitFor(t, "request read or refused", func() bool {
			select {
			case r := <-ch:
				refused = &r
				return true
			default:
				return read() == int64(id+1) // one row per request
			}
		})
		if refused == nil {
			taken = append(taken, ch)
			if len(taken) > 10 {
				t.Fatalf("%d requests taken while the sink was blocked: the pipeline is not bounded", len(taken))
			}
			continue
		}
		if refused.status != 503 || refused.header.Get("Retry-After") == "" {
			t.Fatalf("request %d: %d %q, want 503 with Retry-After", id, refused.status, refused.body)
		}
		break
	}
	refused := id
	close(sink.release)
	for i, ch := range append([]<-chan response{first}, taken...) {
		if r := recv(t, ch); r.status != 200 {
			t.Errorf("request %d: %d %q after the sink moved", i, r.status, r.body)
		}
	}
	if r := post(context.Background(), src.url(), ctNDJSON, []byte(`{"id": `+strconv.Itoa(refused)+`}`), map[string]string{EndOfInputHeader: "true"}); r.status != 200 {
		t.Errorf("resent request: %d %q", r.status, r.body)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	var n int64
	for _, r := range sink.recs {
		n += r.NumRows()
	}
	if want := int64(refused + 1); n != want {
		t.Errorf("sink got %d rows, want %d (each request once)", n, want)
	}
}

// TestSourceDrain: the engine's graceful stop. Requests taken finish with
// 200 once their rows are written; from the moment the source sees the
// stop, new requests get 503.
func TestSourceDrain(t *testing.T) {
	mem := conformance.Checked(t)
	src := mustSource(t, "{address: 127.0.0.1:0, schema: "+rowsSchema+"}", conformance.Build(mem, 100, "source"))
	sink := newBlockingSink()
	defer func() { conformance.Release(sink.recs) }()
	drain := make(chan struct{})
	p := &engine.Pipeline{Source: engine.SourceStep{Name: "source", Source: src}, Sinks: []engine.SinkStep{{Name: "slow", Sink: sink}}, Drain: drain, Mem: mem}
	done := make(chan error, 1)
	go func() { _, err := p.Run(context.Background()); done <- err }()
	waitFor(t, "the server", func() bool { return src.Addr() != "" })

	inFlight := postAsync(t, src.url(), ctNDJSON, []byte(`{"id": 1}`), nil)
	<-sink.entered
	close(drain)
	waitFor(t, "the source to see the stop", src.draining)
	if r := post(context.Background(), src.url(), ctNDJSON, []byte(`{"id": 2}`), nil); r.status != 503 || !strings.Contains(r.body, "stopping") {
		t.Errorf("request after the stop: %d %q, want 503", r.status, r.body)
	}
	close(sink.release)
	if r := recv(t, inFlight); r.status != 200 {
		t.Errorf("request in flight: %d %q, want 200", r.status, r.body)
	}
	if err := <-done; err != nil {
		t.Fatalf("a drained run returned %v", err)
	}
}

// failingSink refuses every batch, permanently.
type failingSink struct{}

func (failingSink) Open(context.Context, *arrow.Schema) error { return nil }
func (failingSink) Write(context.Context, arrow.RecordBatch) error {
	return engine.Permanent(errors.New("disk full"))
}
func (failingSink) Flush(context.Context) error { return nil }
func (failingSink) Close() error                { return nil }

// TestSourceAtLeastOnceAcrossRuns: a run that fails before its sink
// stored a request answers 503 (never 200); the client sends the request
// again to the next run, which stores it.
func TestSourceAtLeastOnceAcrossRuns(t *testing.T) {
	mem := conformance.Checked(t)
	body := []byte("{\"id\": 1, \"name\": \"kept\"}\n{\"id\": 2}\n")
	conf := "{address: 127.0.0.1:0, allow_end_of_input: true, schema: " + rowsSchema + "}"

	src := mustSource(t, conf, conformance.Build(mem, 100, "source"))
	p := &engine.Pipeline{Source: engine.SourceStep{Name: "source", Source: src}, Sinks: []engine.SinkStep{{Name: "broken", Sink: failingSink{}}}, Mem: mem}
	done := make(chan error, 1)
	go func() { _, err := p.Run(context.Background()); done <- err }()
	waitFor(t, "the server", func() bool { return src.Addr() != "" })
	r := post(context.Background(), src.url(), ctNDJSON, body, nil)
	if r.status != 503 || r.header.Get("Retry-After") == "" {
		t.Fatalf("request to a failing run: %d %q, want 503 with Retry-After", r.status, r.body)
	}
	if err := <-done; err == nil || !strings.Contains(err.Error(), "disk full") {
		t.Fatalf("run error %v, want the sink's", err)
	}

	src = mustSource(t, conf, conformance.Build(mem, 100, "source"))
	sink := newBlockingSink()
	close(sink.release)
	defer func() { conformance.Release(sink.recs) }()
	p = &engine.Pipeline{Source: engine.SourceStep{Name: "source", Source: src}, Sinks: []engine.SinkStep{{Name: "ok", Sink: sink}}, Mem: mem}
	go func() { _, err := p.Run(context.Background()); done <- err }()
	waitFor(t, "the second server", func() bool { return src.Addr() != "" })
	if r := post(context.Background(), src.url(), ctNDJSON, body, map[string]string{EndOfInputHeader: "true"}); r.status != 200 {
		t.Fatalf("resent request: %d %q", r.status, r.body)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if len(sink.recs) != 1 || sink.recs[0].NumRows() != 2 {
		t.Fatalf("second run stored %d batches, want the 2 rows", len(sink.recs))
	}
}

// TestSourceEndOfInput: the request carrying the header is taken with
// its rows, later ones are refused, and Read ends once everything taken
// before it has been read.
func TestSourceEndOfInput(t *testing.T) {
	mem := conformance.Checked(t)
	src := mustSource(t, "{address: 127.0.0.1:0, allow_end_of_input: true, schema: "+rowsSchema+"}", conformance.Build(mem, 100, "source"))
	ctx := context.Background()
	if _, err := src.Open(ctx); err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	before := postAsync(t, src.url(), ctNDJSON, []byte(`{"id": 1}`), nil)
	waitFor(t, "the first request queued", func() bool { return src.queued() == 1 })
	last := postAsync(t, src.url(), ctJSON, []byte(`[{"id": 2}, {"id": 3}]`), map[string]string{EndOfInputHeader: "true"})
	waitFor(t, "the last request queued", func() bool { return src.queued() == 2 })
	if r := post(ctx, src.url(), ctNDJSON, []byte(`{"id": 4}`), nil); r.status != 503 || !strings.Contains(r.body, "input has ended") {
		t.Errorf("request after the end: %d %q", r.status, r.body)
	}
	b, err := src.Read(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Record.Release()
	if b.Record.NumRows() != 3 {
		t.Errorf("last batch has %d rows, want 3", b.Record.NumRows())
	}
	for range 2 {
		if _, err := src.Read(ctx); !errors.Is(err, engine.ErrEndOfInput) {
			t.Fatalf("Read after the end: %v", err)
		}
	}
	if err := src.Ack(ctx, b.Checkpoint); err != nil {
		t.Fatal(err)
	}
	var ok okBody
	if r := recv(t, last); r.status != 200 {
		t.Errorf("end request: %d %q", r.status, r.body)
	} else if r.json(t, &ok); !ok.Ended || ok.Rows != 2 {
		t.Errorf("end reply %+v, want ended with 2 rows", ok)
	}
	if r := recv(t, before); r.status != 200 {
		t.Errorf("request before the end: %d %q", r.status, r.body)
	}
}

func TestSourceConfigErrors(t *testing.T) {
	for _, tc := range []struct{ conf, want string }{
		{"{schema: " + rowsSchema + ", path: ingest}", "must start with /"},
		{"{schema: " + rowsSchema + ", auth_token: ''}", "auth_token"},
		{"{schema: " + rowsSchema + ", max_pending_requests: 0}", "at least 1"},
		{"{schema: {id: int65}}", "int65"},
		{"{schema: " + rowsSchema + ", default_format: csv}", "csv"},
		{"{schema: " + rowsSchema + ", max_record_bytes: 0}", "max_record_bytes: must be between 1 and"},
	} {
		_, err := conformance.BuildStep(t, engine.KindSource, "http", tc.conf, conformance.Build(memory.NewGoAllocator(), 10, "source"))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want one mentioning %q", tc.conf, err, tc.want)
		}
	}
}

// TestSourcePortInUse: a second server on a taken address fails at Open,
// naming the address.
func TestSourcePortInUse(t *testing.T) {
	mem := conformance.Checked(t)
	a := mustSource(t, "{address: 127.0.0.1:0, schema: "+rowsSchema+"}", conformance.Build(mem, 10, "a"))
	if _, err := a.Open(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b := mustSource(t, "{address: "+a.Addr()+", schema: "+rowsSchema+"}", conformance.Build(mem, 10, "b"))
	if _, err := b.Open(context.Background()); err == nil || !strings.Contains(err.Error(), a.Addr()) {
		b.Close()
		t.Fatalf("Open on a taken port: %v", err)
	}
}

// TestSourceManyClients: concurrent clients, mixed formats and sizes, a
// small batch so requests are both split and joined: every row arrives
// exactly once and every request is answered 200 with its row count.
func TestSourceManyClients(t *testing.T) {
	mem := conformance.Checked(t)
	schema := conformance.SampleSchema
	src := mustSource(t, "{address: 127.0.0.1:0, max_pending_requests: 3, schema: "+conformance.SchemaYAML(schema)+"}", conformance.Build(mem, 7, "source"))
	r := startReader(t, src)
	const clients, each = 6, 12
	want := conformance.Sample(mem, schema, 0, clients*each*(each+1)/2)
	defer want.Release()
	types := []string{ctNDJSON, ctJSON, ctArrow}
	bodies := make([][][]byte, clients) // client, request (of 1..each rows)
	for c, off := 0, 0; c < clients; c++ {
		for i := 1; i <= each; i++ {
			part := want.NewSlice(int64(off), int64(off+i))
			bodies[c] = append(bodies[c], encodeAs(t, types[(c+i)%3], part))
			part.Release()
			off += i
		}
	}
	var wg sync.WaitGroup
	errs := make(chan string, clients*each)
	for c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 1; i <= each; i++ {
				for {
					resp := post(context.Background(), src.url(), types[(c+i)%3], bodies[c][i-1], nil)
					if resp.status == 503 {
						continue // the queue was full: send it again
					}
					var ok okBody
					if resp.status != 200 || json.Unmarshal([]byte(resp.body), &ok) != nil || ok.Rows != int64(i) {
						errs <- fmt.Sprintf("client %d request %d: %d %q", c, i, resp.status, resp.body)
					}
					break
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	for i, rec := range r.recs {
		if rec.NumRows() > 7 {
			t.Errorf("batch %d has %d rows, more than 7", i, rec.NumRows())
		}
	}
	conformance.SameRows(t, want, r.recs)
}

// TestSourceKeepsPickedPort: port 0 is resolved once, so the server the
// run starts is where the one validation started was.
func TestSourceKeepsPickedPort(t *testing.T) {
	mem := conformance.Checked(t)
	src := mustSource(t, "{address: 127.0.0.1:0, schema: "+rowsSchema+"}", conformance.Build(mem, 10, "source"))
	if _, err := src.Open(context.Background()); err != nil {
		t.Fatal(err)
	}
	first := src.Addr()
	if err := src.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := src.Open(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	if again := src.Addr(); again != first || strings.HasSuffix(first, ":0") {
		t.Errorf("first Open listened on %s, the second on %s", first, again)
	}
}
