package http

import (
	"bytes"
	"compress/gzip"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/dataweaver/dataweaver/connectors/conformance"
)

func gzipped(t testing.TB, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if _, err := zw.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestSourceGzipBodies: a gzipped body (Content-Encoding: gzip) is taken
// like a plain one; a corrupt one gets 400 naming gzip, an encoding the
// source does not know 415, a body that fits max_body_bytes compressed
// but not inflated 413.
func TestSourceGzipBodies(t *testing.T) {
	mem := conformance.Checked(t)
	src := mustSource(t, "{address: 127.0.0.1:0, max_body_bytes: 1KiB, schema: "+rowsSchema+"}", conformance.Build(mem, 100, "source"))
	r := startReader(t, src)
	rows := []byte("{\"id\": 1, \"name\": \"a\"}\n{\"id\": 2, \"name\": \"b\"}\n{\"id\": 3}\n")
	good := gzipped(t, rows)
	big := gzipped(t, bytes.Repeat([]byte("{\"id\": 1}\n"), 200)) // 2,000 bytes inflated, far less compressed
	if len(big) >= 1024 {
		t.Fatalf("the compressed body is %d bytes; it must fit the limit for the test to mean anything", len(big))
	}
	for _, tc := range []struct {
		name     string
		encoding string
		body     []byte
		status   int
		want     string // in the reply
	}{
		{"gzip", "gzip", good, http.StatusOK, `"rows":3`},
		{"x-gzip", "x-gzip", good, http.StatusOK, `"rows":3`},
		{"identity", "identity", rows, http.StatusOK, `"rows":3`},
		{"truncated gzip", "gzip", good[:len(good)-6], http.StatusBadRequest, "Content-Encoding gzip: corrupt body"},
		{"not gzip at all", "gzip", rows, http.StatusBadRequest, "the body is not gzip"},
		{"brotli", "br", good, http.StatusUnsupportedMediaType, `Content-Encoding \"br\" is not supported; send the body uncompressed or as gzip`},
		{"over the limit inflated", "gzip", big, http.StatusRequestEntityTooLarge, "body larger than max_body_bytes (1024 bytes) once decompressed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := r.rows()
			resp := post(t.Context(), src.url(), ctNDJSON, tc.body, map[string]string{"Content-Encoding": tc.encoding})
			if resp.err != nil {
				t.Fatal(resp.err)
			}
			if resp.status != tc.status || !strings.Contains(resp.body, tc.want) {
				t.Errorf("got %d %s, want %d with %s", resp.status, resp.body, tc.status, tc.want)
			}
			taken := r.rows() - before
			if want := int64(0); tc.status == http.StatusOK {
				want = 3
				if taken != want {
					t.Errorf("%d rows taken, want %d", taken, want)
				}
			} else if taken != 0 {
				t.Errorf("%d rows of a refused body were taken", taken)
			}
		})
	}
}

// TestSourceGzipBomb: a 256 KiB body of gzip members that would inflate
// to one row and 256 MiB of spaces gets 413 once the server has inflated
// max_body_bytes (without the cap it would be taken whole: 200), and the
// process allocates a fraction of the inflated size: the body is inflated
// as it is decoded, never held.
func TestSourceGzipBomb(t *testing.T) {
	mem := conformance.Checked(t)
	src := mustSource(t, "{address: 127.0.0.1:0, max_body_bytes: 1MiB, schema: "+rowsSchema+"}", conformance.Build(mem, 100, "source"))
	r := startReader(t, src)
	// A gzip stream may hold several members, inflated one after the
	// other: the bomb costs one compression of 1 MiB.
	const members, inflated = 256, 256 << 20
	spaces := bytes.Repeat([]byte{' '}, inflated/members)
	bomb := gzipped(t, append([]byte("{\"id\": 1}\n"), spaces...))
	member := gzipped(t, spaces)
	for range members - 1 {
		bomb = append(bomb, member...)
	}
	if len(bomb) >= 1<<20 {
		t.Fatalf("the bomb is %d bytes compressed; it must fit max_body_bytes", len(bomb))
	}
	var resp response
	alloc, took := allocated(func() {
		resp = post(t.Context(), src.url(), ctNDJSON, bomb, map[string]string{"Content-Encoding": "gzip"})
	})
	if resp.err != nil {
		t.Fatal(resp.err)
	}
	var e errBody
	resp.json(t, &e)
	if resp.status != http.StatusRequestEntityTooLarge || !strings.Contains(e.Error, "max_body_bytes (1048576 bytes) once decompressed") {
		t.Errorf("got %d %q, want 413 naming max_body_bytes once decompressed", resp.status, e.Error)
	}
	if alloc > inflated/8 {
		t.Errorf("allocated %d bytes for a gzip bomb refused at 1 MiB", alloc)
	}
	if n := r.rows(); n != 0 {
		t.Errorf("%d rows of a refused body were taken", n)
	}
	t.Logf("413 after %v for %d compressed bytes; %d bytes allocated", took, len(bomb), alloc)
}

// FuzzGzipBody feeds arbitrary bytes as a gzipped NDJSON body: any client
// can send them. The body is refused with a 4xx (413 only past the
// inflated limit) or decoded; never a panic, never a leak.
func FuzzGzipBody(f *testing.F) {
	rows := []byte("{\"id\": 1, \"name\": \"a\"}\n{\"id\": \"x\"}\n")
	good := gzipped(f, rows)
	f.Add(good)
	f.Add(append(append([]byte(nil), good...), good...))
	f.Add(good[:len(good)/2])
	f.Add(gzipped(f, bytes.Repeat([]byte{'\n'}, 5000)))
	f.Add([]byte{0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff})
	f.Fuzz(func(t *testing.T, data []byte) {
		mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
		const limit = 4096
		cfg := &serverConfig{log: slog.New(slog.DiscardHandler), mem: mem, schema: conformance.SampleSchema, batchRows: 3, maxBody: limit}
		req := newRequest("fuzz", formatNDJSON)
		wire := &countingReader{r: bytes.NewReader(data)}
		if err := readBody(cfg, req, wire, true); err != nil {
			be := classify(err)
			if be.status < 400 || be.status >= 500 || be.msg == "" {
				t.Fatalf("refusal %d %q", be.status, be.msg)
			}
			if len(req.recs) != 0 || len(req.rejects) != 0 {
				t.Fatal("a refused body kept rows")
			}
			mem.AssertSize(t, 0)
			return
		}
		if zr, err := gzip.NewReader(bytes.NewReader(data)); err == nil {
			if n, _ := io.Copy(io.Discard, zr); n > limit {
				t.Errorf("a body inflating to %d bytes was taken under a limit of %d", n, limit)
			}
		}
		req.release()
		mem.AssertSize(t, 0)
	})
}
