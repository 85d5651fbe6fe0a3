package http

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/dataweaver/dataweaver/connectors/conformance"
	"github.com/dataweaver/dataweaver/engine"
	"github.com/dataweaver/dataweaver/format"
	"github.com/dataweaver/dataweaver/format/avro"
	"github.com/dataweaver/dataweaver/format/jsonl"
)

// TestSourceConformance runs the shared suite with a client that behaves
// as the source asks clients to: it POSTs the rows in requests of at most
// a batch (cycling JSON, NDJSON and Arrow IPC), sends each again until it
// gets 200, and then asks for the end of input, again after every restart.
// Requests are sent one at a time, so each batch is one request and the
// suite's order checks apply as they do to a message bus. The source is
// AtLeastOnce without Resumes: it keeps no position, and what a restarted
// source reads is what clients send again (every request not answered
// 200, which Ack alone answers). Every source of a case listens on one port picked up front, as a
// restarted process listens where its configuration says and clients find
// it there. The crash drops connections without replies; the client's
// retry is what brings the rows back.
func TestSourceConformance(t *testing.T) {
	conformance.RunSource(t, conformance.SourceHarness{
		AtLeastOnce: true,
		Crash:       func(src engine.Source) { src.(*Source).crash() },
		New: conformance.FromSample(nil, func(t *testing.T, in arrow.RecordBatch, b engine.Build) conformance.SourceBuilder {
			addr := freeAddr(t)
			startClient(t, addr, in, b.BatchRows)
			return conformance.SourceFromConfig(t, "http", "{address: "+addr+", path: /rows, allow_end_of_input: true, schema: "+conformance.SchemaYAML(in.Schema())+"}")
		}),
	})
}

// freeAddr returns a loopback address with a port no one listened on a
// moment ago. Another process could take it before the source does; the
// source's Open then fails with "address already in use", which says so.
func freeAddr(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	return addr
}

type body struct {
	ct   string
	data []byte
}

// startClient keeps posting in's rows to addr until the test ends.
func startClient(t *testing.T, addr string, in arrow.RecordBatch, batch int) {
	var bodies []body
	sizes := []int{batch, 1, 3, batch - 1}
	types := []string{ctNDJSON, ctJSON, ctArrow}
	n := int(in.NumRows())
	for off, i := 0, 0; off < n; i++ {
		k := max(1, min(sizes[i%len(sizes)], n-off))
		part := in.NewSlice(int64(off), int64(off+k))
		bodies = append(bodies, body{types[i%len(types)], encodeAs(t, types[i%len(types)], part)})
		part.Release()
		off += k
	}
	ctx, cancel := context.WithCancel(context.Background())
	tr := &http.Transport{}
	cl := &http.Client{Transport: tr}
	done := make(chan struct{})
	go func() {
		defer close(done)
		next := 0
		for ctx.Err() == nil {
			b := body{ct: ctNDJSON}
			hdr := map[string]string{EndOfInputHeader: "true"}
			if next < len(bodies) {
				b, hdr = bodies[next], nil
			}
			if status := send(ctx, cl, "http://"+addr+"/rows", b, hdr); status == http.StatusOK && next < len(bodies) {
				next++
				continue
			}
			select {
			case <-ctx.Done():
			case <-time.After(2 * time.Millisecond):
			}
		}
	}()
	t.Cleanup(func() {
		cancel()
		<-done
		tr.CloseIdleConnections()
	})
}

func send(ctx context.Context, cl *http.Client, url string, b body, hdr map[string]string) int {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(b.data))
	if err != nil {
		return 0
	}
	req.Header.Set("Content-Type", b.ct)
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := cl.Do(req)
	if err != nil {
		return 0
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

func TestSinkConformance(t *testing.T) {
	for _, c := range []struct{ name, conf, codec string }{
		{"json", "", formatJSON},
		{"ndjson", "codec: ndjson", formatNDJSON},
		{"arrow", "codec: arrow", formatArrow},
		{"avro", "codec: avro", formatAvro},
		{"ndjson max_rows", "codec: ndjson, max_rows: 3", formatNDJSON},
		{"json max_bytes", "max_bytes: 300", formatJSON},
	} {
		t.Run(c.name, func(t *testing.T) {
			conformance.RunSink(t, conformance.SinkHarness{
				New: func(t *testing.T, b engine.Build) (engine.Sink, conformance.ReadBack) {
					rcv := newReceiver(t)
					sink := mustSink(t, fmt.Sprintf("{url: %q, %s}", rcv.URL, c.conf), b)
					return sink, func(t *testing.T, mem memory.Allocator) []arrow.RecordBatch {
						return rcv.records(t, c.codec, conformance.SampleSchema, mem)
					}
				},
			})
		})
	}
}

// receiver is an HTTP server that stores every request it gets and answers
// with the status its handler function picks (200 by default).
type receiver struct {
	*httptest.Server
	mu   sync.Mutex
	reqs []received
	// status picks the reply to request i (0-based, retries included).
	status func(i int, r received) (int, http.Header)
}

type received struct {
	header http.Header
	body   []byte
}

func newReceiver(t testing.TB) *receiver {
	rcv := &receiver{}
	rcv.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got := received{header: r.Header.Clone(), body: b}
		rcv.mu.Lock()
		i := len(rcv.reqs)
		rcv.reqs = append(rcv.reqs, got)
		pick := rcv.status
		rcv.mu.Unlock()
		code, h := http.StatusOK, http.Header(nil)
		if pick != nil {
			code, h = pick(i, got)
		}
		for k, v := range h {
			w.Header()[k] = v
		}
		w.WriteHeader(code)
		fmt.Fprintf(w, "reply %d", code)
	}))
	t.Cleanup(rcv.Close)
	return rcv
}

func (rcv *receiver) all() []received {
	rcv.mu.Lock()
	defer rcv.mu.Unlock()
	return append([]received(nil), rcv.reqs...)
}

// stored is the requests answered 2xx, in order, assuming status is a
// pure function of the request's number.
func (rcv *receiver) stored() []received {
	var out []received
	for i, r := range rcv.all() {
		code := http.StatusOK
		if rcv.status != nil {
			code, _ = rcv.status(i, r)
		}
		if code/100 == 2 {
			out = append(out, r)
		}
	}
	return out
}

// records decodes the stored bodies with arrow-go and the format readers,
// independently of the source's decoders.
func (rcv *receiver) records(t testing.TB, codec string, schema *arrow.Schema, mem memory.Allocator) []arrow.RecordBatch {
	t.Helper()
	var out []arrow.RecordBatch
	for _, r := range rcv.stored() {
		if ct, want := r.header.Get("Content-Type"), mediaTypes[codec]; ct != want {
			t.Errorf("Content-Type %q, want %q", ct, want)
		}
		out = append(out, decodeStored(t, codec, schema, r.body, mem)...)
	}
	return out
}

func decodeStored(t testing.TB, codec string, schema *arrow.Schema, body []byte, mem memory.Allocator) []arrow.RecordBatch {
	t.Helper()
	var out []arrow.RecordBatch
	readAll := func(r format.Reader, err error) {
		if err != nil {
			t.Fatalf("%s body: %v", codec, err)
		}
		defer r.Close()
		for {
			rec, rej, err := r.Next()
			if len(rej) > 0 {
				t.Fatalf("%s body: rejects %v", codec, rej[0].Error())
			}
			if err == io.EOF {
				return
			}
			if err != nil {
				t.Fatalf("%s body: %v", codec, err)
			}
			out = append(out, rec)
		}
	}
	switch codec {
	case formatJSON:
		var elems []json.RawMessage
		if err := json.Unmarshal(body, &elems); err != nil {
			t.Fatalf("json body is not an array: %v\n%s", err, body)
		}
		var lines bytes.Buffer
		for _, e := range elems {
			lines.Write(e)
			lines.WriteByte('\n')
		}
		body = lines.Bytes()
		fallthrough
	case formatNDJSON:
		readAll(jsonl.NewReader(format.Input{R: bytes.NewReader(body)}, format.ReadOptions{Mem: mem, Schema: schema, Workers: 1}))
	case formatAvro:
		readAll(avro.NewReader(format.Input{R: bytes.NewReader(body)}, format.ReadOptions{Mem: mem}))
	case formatArrow:
		r, err := ipc.NewReader(bytes.NewReader(body), ipc.WithAllocator(mem))
		if err != nil {
			t.Fatalf("arrow body: %v", err)
		}
		defer r.Release()
		for r.Next() {
			rec := r.RecordBatch()
			rec.Retain()
			out = append(out, rec)
		}
		if err := r.Err(); err != nil {
			t.Fatalf("arrow body: %v", err)
		}
	}
	return out
}
