package http

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/dataweaver/dataweaver/connectors/conformance"
	"github.com/dataweaver/dataweaver/engine"
	"github.com/dataweaver/dataweaver/format"
	"github.com/dataweaver/dataweaver/format/jsonl"
)

func mustSource(t testing.TB, text string, b engine.Build) *Source {
	t.Helper()
	return conformance.MustBuild[*Source](t, engine.KindSource, "http", text, b)
}

func mustSink(t testing.TB, text string, b engine.Build) *Sink {
	t.Helper()
	return conformance.MustBuild[*Sink](t, engine.KindSink, "http", text, b)
}

// Bodies are made here with the format packages and arrow-go directly, not
// with the sink's encoder, so the source is checked against independent
// encodings.

func ndjsonBody(t testing.TB, rec arrow.RecordBatch) []byte {
	t.Helper()
	var buf bytes.Buffer
	w, err := jsonl.NewWriter(&buf, rec.Schema(), format.WriteOptions{Mem: memory.NewGoAllocator()})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Write(rec); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func jsonBody(t testing.TB, rec arrow.RecordBatch) []byte {
	t.Helper()
	lines := bytes.Split(bytes.TrimSuffix(ndjsonBody(t, rec), []byte("\n")), []byte("\n"))
	if rec.NumRows() == 0 {
		lines = nil
	}
	// Pretty-printed, so elements span lines as hand-written JSON does.
	return append(append([]byte("[\n  "), bytes.Join(lines, []byte(",\n  "))...), "\n]\n"...)
}

func arrowBody(t testing.TB, rec arrow.RecordBatch) []byte {
	t.Helper()
	var buf bytes.Buffer
	w := ipc.NewWriter(&buf, ipc.WithSchema(rec.Schema()))
	// Two IPC batches when possible, so the source joins them.
	half := rec.NumRows() / 2
	for _, part := range []arrow.RecordBatch{rec.NewSlice(0, half), rec.NewSlice(half, rec.NumRows())} {
		if err := w.Write(part); err != nil {
			t.Fatal(err)
		}
		part.Release()
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

const (
	ctJSON   = "application/json"
	ctNDJSON = "application/x-ndjson"
	ctArrow  = "application/vnd.apache.arrow.stream"
)

// encodeAs is a body of rec in one of the three source formats.
func encodeAs(t testing.TB, ct string, rec arrow.RecordBatch) []byte {
	switch ct {
	case ctJSON:
		return jsonBody(t, rec)
	case ctNDJSON:
		return ndjsonBody(t, rec)
	}
	return arrowBody(t, rec)
}

// response is what a client got back.
type response struct {
	status int
	header http.Header
	body   string
	err    error
}

// json decodes the reply body into v.
func (r response) json(t testing.TB, v any) {
	t.Helper()
	if err := json.Unmarshal([]byte(r.body), v); err != nil {
		t.Fatalf("reply %d %q is not JSON: %v", r.status, r.body, err)
	}
}

// post sends one request with a client of its own and returns the reply.
func post(ctx context.Context, url, ct string, body []byte, header map[string]string) response {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return response{err: err}
	}
	if ct != "" {
		req.Header.Set("Content-Type", ct)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	tr := &http.Transport{}
	defer tr.CloseIdleConnections()
	resp, err := (&http.Client{Transport: tr}).Do(req)
	if err != nil {
		return response{err: err}
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return response{status: resp.StatusCode, header: resp.Header, body: string(b), err: err}
}

// postAsync sends a request in the background; the reply arrives on the
// channel. The test waits for it before it ends.
func postAsync(t testing.TB, url, ct string, body []byte, header map[string]string) <-chan response {
	ch := make(chan response, 1)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		ch <- post(context.Background(), url, ct, body, header)
	}()
	t.Cleanup(wg.Wait)
	return ch
}

// waitFor polls cond until it holds. It sets no deadline: a condition
// that never comes is a hang, which go test's -timeout reports with every
// goroutine's stack, and a deadline of ours would only turn a slow,
// loaded machine into a failure.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	for !cond() {
		time.Sleep(2 * time.Millisecond)
	}
}

// recv waits for a reply, with no deadline, as waitFor.
func recv(t testing.TB, ch <-chan response) response {
	t.Helper()
	return <-ch
}

// queued is how many requests wait for Read (tests poll it).
func (s *Source) queued() int {
	srv := s.server()
	if srv == nil {
		return 0
	}
	srv.mu.Lock()
	defer srv.mu.Unlock()
	return len(srv.queue)
}

// holding is how many requests hold a place (being decoded or queued).
func (s *Source) holding() int {
	srv := s.server()
	if srv == nil {
		return 0
	}
	srv.mu.Lock()
	defer srv.mu.Unlock()
	return srv.holding
}

// draining reports whether the server refuses requests because Read's
// context ended.
func (s *Source) draining() bool {
	srv := s.server()
	if srv == nil {
		return false
	}
	srv.mu.Lock()
	defer srv.mu.Unlock()
	return srv.draining
}

func (s *Source) url() string {
	path := s.cfg.path
	return "http://" + s.Addr() + path
}

// reader reads a source the way the engine does, acknowledging each batch
// at once, and keeps the records and rejects.
type reader struct {
	mu      sync.Mutex
	recs    []arrow.RecordBatch
	rejects []engine.RowError
	stop    context.CancelFunc
	done    chan error
}

func startReader(t testing.TB, src *Source) *reader {
	t.Helper()
	if _, err := src.Open(context.Background()); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	r := &reader{stop: cancel, done: make(chan error, 1)}
	go func() {
		for {
			b, err := src.Read(ctx)
			if err != nil {
				r.done <- err
				return
			}
			r.mu.Lock()
			if b.Record != nil {
				r.recs = append(r.recs, b.Record)
			}
			r.rejects = append(r.rejects, b.Rejects...)
			r.mu.Unlock()
			if err := src.Ack(ctx, b.Checkpoint); err != nil {
				r.done <- err
				return
			}
		}
	}()
	t.Cleanup(func() {
		r.stop()
		if err := <-r.done; err != nil && !errors.Is(err, context.Canceled) && !errors.Is(err, engine.ErrEndOfInput) {
			t.Errorf("reader: %v", err)
		}
		if err := src.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
		r.mu.Lock()
		conformance.Release(r.recs)
		r.mu.Unlock()
	})
	return r
}

func (r *reader) rows() int64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	var n int64
	for _, rec := range r.recs {
		n += rec.NumRows()
	}
	return n
}

func (r *reader) gotRejects() []engine.RowError {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]engine.RowError(nil), r.rejects...)
}
