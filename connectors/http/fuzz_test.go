package http

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/dataweaver/dataweaver/codec"
	"github.com/dataweaver/dataweaver/connectors/conformance"
	dwformat "github.com/dataweaver/dataweaver/format"
)

// FuzzDecodeBody feeds arbitrary request bodies to each decoder: they are
// the bytes any client can send. A body is refused with a 4xx, or decoded
// into records of the source's schema plus rejects that locate each bad
// row; never a panic, never a leak.
func FuzzDecodeBody(f *testing.F) {
	seedMem := memory.NewGoAllocator()
	rec := conformance.Sample(seedMem, conformance.SampleSchema, 0, 5)
	f.Add(uint8(0), jsonBody(f, rec))
	f.Add(uint8(1), ndjsonBody(f, rec))
	f.Add(uint8(2), arrowBody(f, rec))
	rec.Release()
	f.Add(uint8(0), []byte(`{"id": 1, "name": "x", "ok": true, "ts": "2024-05-01T00:00:00Z"}`))
	f.Add(uint8(0), []byte(`[{"id": 1}, 2, {"id": "x"}, {"id": 3,}]`))
	f.Add(uint8(0), []byte("\xef\xbb\xbf[{\"id\": 1}]  "))
	f.Add(uint8(1), []byte("{\"id\": 1}\n\n[1]\n{\"id\": 1, \"id\": 2}\n{\"name\": \"\\ud800\"}"))
	f.Add(uint8(2), []byte("ARROW1\x00\x00"))
	f.Add(uint8(2), []byte{0xff, 0xff, 0xff, 0xff, 0x10, 0, 0, 0})

	formats := []string{formatJSON, formatNDJSON, formatArrow}
	f.Fuzz(func(t *testing.T, which uint8, data []byte) {
		mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
		// which picks the format and max_record_bytes: which/3 bytes, or
		// the default for 0, far above any fuzz input.
		limit := int(which) / len(formats)
		cfg := &serverConfig{log: slog.New(slog.DiscardHandler), mem: mem, schema: conformance.SampleSchema, batchRows: 3, maxRecord: limit}
		format := formats[int(which)%len(formats)]
		req := newRequest("fuzz", format)
		err := decodeBody(cfg, req, bytes.NewReader(data))
		if err != nil {
			be := classify(err)
			if be.status < 400 || be.status >= 500 || be.msg == "" {
				t.Fatalf("refusal %d %q", be.status, be.msg)
			}
			if len(req.recs) != 0 || len(req.rejects) != 0 {
				t.Fatal("a refused body kept rows")
			}
			// A corrupt Arrow batch can leave buffers arrow-go allocated
			// unreleased (format/arrowipc's doc); Go's GC takes them.
			if format != formatArrow {
				mem.AssertSize(t, 0)
			}
			return
		}
		var rows int64
		for _, r := range req.recs {
			if !r.Schema().Equal(cfg.schema) {
				t.Errorf("record schema %s", r.Schema())
			}
			if r.NumRows() == 0 {
				t.Error("an empty record was kept")
			}
			rows += r.NumRows()
		}
		if rows != req.rows {
			t.Errorf("counted %d rows, records hold %d", req.rows, rows)
		}
		for _, e := range req.rejects {
			// A row over the limit keeps at most a prefix of its bytes;
			// an NDJSON line none, as it is skipped without being held.
			tooLarge := errors.Is(e.Err, dwformat.ErrRecordTooLarge)
			if e.Line < 1 || e.Err == nil || e.Raw == nil && !(tooLarge && format == formatNDJSON) || e.File != "fuzz" {
				t.Errorf("reject without its place or bytes: %+v", e)
			}
			if tooLarge && (limit == 0 || len(e.Raw) > codec.RawPrefix || !strings.Contains(e.Err.Error(), fmt.Sprintf("limit of %d bytes (max_record_bytes)", limit))) {
				t.Errorf("a row over a limit of %d bytes: raw of %d bytes, %v", limit, len(e.Raw), e.Err)
			}
		}
		req.release()
		mem.AssertSize(t, 0)
	})
}
