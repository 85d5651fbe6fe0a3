package http

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dataweaver/dataweaver/codec"
	"github.com/dataweaver/dataweaver/connectors/conformance"
	"github.com/dataweaver/dataweaver/format"
)

// part is a piece of a generated body: text, then fill repeated n times.
type part struct {
	text string
	fill byte
	n    int64
}

// genBody produces its parts on demand, so a test can send a body of
// gigabytes that never exists in memory, and counts what was read of it.
type genBody struct {
	parts []part
	i     int
	off   int64 // into the current part: text, then fill
	read  atomic.Int64
}

func (g *genBody) Read(p []byte) (int, error) {
	n := 0
	for n < len(p) && g.i < len(g.parts) {
		pt := &g.parts[g.i]
		if t := int64(len(pt.text)); g.off < t {
			c := copy(p[n:], pt.text[g.off:])
			n += c
			g.off += int64(c)
			continue
		}
		left := int64(len(pt.text)) + pt.n - g.off
		if left == 0 {
			g.i, g.off = g.i+1, 0
			continue
		}
		c := int(min(left, int64(len(p)-n)))
		for k := range c {
			p[n+k] = pt.fill
		}
		n += c
		g.off += int64(c)
	}
	g.read.Add(int64(n))
	if n == 0 {
		return 0, io.EOF
	}
	return n, nil
}

// allocated runs f and returns the bytes the process allocated meanwhile
// (client and server are both in it) and how long f took.
func allocated(f func()) (uint64, time.Duration) {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	start := time.Now()
	f()
	took := time.Since(start)
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc, took
}

// postReader sends body chunked (no Content-Length), so only the limit
// applied while reading can stop it.
func postReader(t *testing.T, url, ct string, body io.Reader) response {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url, io.NopCloser(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", ct)
	req.Header.Set("X-Request-Id", "big-1")
	return do(t, req)
}

// TestSourceBodyOverMaxBodyBytes: a 1 GiB body sent chunked gets 413
// naming max_body_bytes once the server has read about the limit, not the
// body: what the client managed to send is bounded by the limit plus the
// connection's buffers, and the process allocates far less than the body.
func TestSourceBodyOverMaxBodyBytes(t *testing.T) {
	const body = 1 << 30
	for _, tc := range []struct {
		name, ct string
		parts    []part
	}{
		{"ndjson, one endless line", ctNDJSON, []part{{text: `{"id": 1, "name": "`, fill: 'x', n: body}}},
		{"ndjson, many lines", ctNDJSON, []part{{text: "", fill: '\n', n: body}}},
		{"json, one endless element", ctJSON, []part{{text: `[{"id": 1, "name": "`, fill: 'x', n: body}}},
		// A stream whose first message declares 16 MiB of metadata.
		{"arrow", ctArrow, []part{{text: "\xff\xff\xff\xff\x00\x00\x00\x01", fill: 0, n: body}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			mem := conformance.Checked(t)
			src := mustSource(t, "{address: 127.0.0.1:0, max_body_bytes: 1MiB, schema: "+rowsSchema+"}", conformance.Build(mem, 100, "source"))
			r := startReader(t, src)
			g := &genBody{parts: tc.parts}
			var resp response
			alloc, took := allocated(func() { resp = postReader(t, src.url(), tc.ct, g) })
			var e errBody
			resp.json(t, &e)
			if resp.status != http.StatusRequestEntityTooLarge || !strings.Contains(e.Error, "body larger than max_body_bytes (1048576 bytes)") {
				t.Errorf("got %d %q, want 413 naming max_body_bytes (1048576 bytes)", resp.status, e.Error)
			}
			if sent := g.read.Load(); sent > 64<<20 {
				t.Errorf("the client sent %d bytes of a 1 GiB body before the reply; the server read on past the limit", sent)
			}
			if alloc > 64<<20 {
				t.Errorf("allocated %d bytes for a body refused at 1 MiB", alloc)
			}
			if n := r.rows(); n != 0 {
				t.Errorf("%d rows of a refused body were taken", n)
			}
			t.Logf("413 after %v; client sent %d bytes; %d bytes allocated", took, g.read.Load(), alloc)
		})
	}
}

// TestSourceRowOverMaxRecordBytes: a row over max_record_bytes is a row
// error through on_error naming the request, its line (NDJSON) or element
// (JSON) and the limit, and the rows around it are taken. A 64 MiB NDJSON
// line is skipped without being held: the process allocates a fraction
// of it. A JSON element keeps its first codec.RawPrefix bytes.
func TestSourceRowOverMaxRecordBytes(t *testing.T) {
	const long = 64 << 20
	for _, tc := range []struct {
		name, ct string
		parts    []part
		line     int64  // of the reject, as the engine gets it
		raw      string // its Raw: none for an NDJSON line, which is never held
		maxAlloc uint64 // 0: not checked (a JSON element is read whole, within max_body_bytes)
	}{
		{
			name: "ndjson", ct: ctNDJSON,
			parts: []part{
				{text: "{\"id\": 1}\n{\"id\": 2, \"name\": \"", fill: 'x', n: long},
				{text: "\"}\n{\"id\": 3}\n"},
			},
			line: 2, maxAlloc: long / 4,
		},
		{
			name: "json array", ct: ctJSON,
			parts: []part{
				{text: `[{"id": 1}, {"id": 2, "name": "`, fill: 'x', n: 5000},
				{text: `"}, {"id": 3}]`},
			},
			line: 2, raw: `{"id": 2, "name": "` + strings.Repeat("x", codec.RawPrefix-len(`{"id": 2, "name": "`)),
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			mem := conformance.Checked(t)
			src := mustSource(t, "{address: 127.0.0.1:0, max_body_bytes: 1GiB, max_record_bytes: 1000, schema: "+rowsSchema+"}",
				conformance.Build(mem, 100, "source"))
			r := startReader(t, src)
			g := &genBody{parts: tc.parts}
			var resp response
			alloc, took := allocated(func() { resp = postReader(t, src.url(), tc.ct, g) })
			var ok okBody
			resp.json(t, &ok)
			if resp.status != http.StatusOK || ok.Rows != 2 || ok.Rejected != 1 || len(ok.Errors) != 1 ||
				!strings.Contains(ok.Errors[0].Error, "longer than the limit of 1000 bytes (max_record_bytes)") {
				t.Fatalf("got %d %+v, want 200 with 2 rows and 1 reject over the limit of 1000 bytes", resp.status, ok)
			}
			if tc.maxAlloc > 0 && alloc > tc.maxAlloc {
				t.Errorf("allocated %d bytes for a %d-byte line over a 1000-byte limit", alloc, long)
			}
			if n := r.rows(); n != 2 {
				t.Errorf("%d rows taken, want 2", n)
			}
			rej := r.gotRejects()
			if len(rej) != 1 {
				t.Fatalf("engine got %d rejects, want 1", len(rej))
			}
			e := rej[0]
			if e.File != "big-1" || e.Line != tc.line || !errors.Is(e.Err, format.ErrRecordTooLarge) || !bytes.Equal(e.Raw, []byte(tc.raw)) {
				t.Errorf("reject: file %q line %d raw %d bytes err %v; want big-1:%d, record too large", e.File, e.Line, len(e.Raw), e.Err, tc.line)
			}
			t.Logf("200 after %v for %d bytes; %d bytes allocated", took, g.read.Load(), alloc)
		})
	}
}
