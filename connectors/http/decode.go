package http

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/dataweaver/dataweaver/codec"
	"github.com/dataweaver/dataweaver/engine"
	"github.com/dataweaver/dataweaver/format"
	"github.com/dataweaver/dataweaver/format/arrowipc"
	"github.com/dataweaver/dataweaver/format/jsonl"
)

// bodyError is a request the source refuses as a whole: the reply's
// status and why.
type bodyError struct {
	status int
	msg    string
}

func (e *bodyError) Error() string { return e.msg }

func badRequest(format string, args ...any) *bodyError {
	return &bodyError{status: http.StatusBadRequest, msg: fmt.Sprintf(format, args...)}
}

// decodeBody decodes a request body into req.recs (records of the
// source's schema) and req.rejects (rows that do not fit it, with their
// bytes). An error means the body as a whole is refused; req then holds
// nothing. An empty body holds no rows in any format, so a bare
// end-of-input request needs no valid empty Arrow stream.
//
// Each format is decoded by the package the file connector uses for it,
// so a row reads the same whether it came in a file or a POST.
func decodeBody(cfg *serverConfig, req *request, body io.Reader) error {
	br := bufio.NewReaderSize(body, 64<<10)
	if _, err := br.Peek(1); errors.Is(err, io.EOF) {
		return nil // an empty body holds no rows, whatever its format
	}
	body = br
	var err error
	switch req.format {
	case formatNDJSON:
		err = decodeNDJSON(cfg, req, body)
	case formatJSON:
		err = decodeJSON(cfg, req, body)
	case formatArrow:
		err = decodeArrow(cfg, req, body)
	default:
		err = badRequest("unknown format %q", req.format)
	}
	if err != nil {
		req.release()
		req.recs, req.rejects, req.rows = nil, nil, 0
		return classify(err)
	}
	return nil
}

// classify turns a read or decode failure into the reply it deserves.
func classify(err error) *bodyError {
	var be *bodyError
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &be):
		return be
	case errors.As(err, &tooBig):
		return &bodyError{status: http.StatusRequestEntityTooLarge,
			msg: fmt.Sprintf("body larger than max_body_bytes (%d bytes); send fewer rows per request", tooBig.Limit)}
	case errors.Is(err, os.ErrDeadlineExceeded):
		return &bodyError{status: http.StatusRequestTimeout, msg: "the body took longer than read_timeout to arrive"}
	}
	return badRequest("%v", err)
}

func (req *request) add(rec arrow.RecordBatch) {
	if rec.NumRows() == 0 {
		rec.Release()
		return
	}
	req.recs = append(req.recs, rec)
	req.rows += rec.NumRows()
}

// decodeNDJSON streams the body through the JSON Lines reader: a line
// that does not decode is a reject with its line number, column and bytes.
func decodeNDJSON(cfg *serverConfig, req *request, body io.Reader) error {
	r, err := jsonl.NewReader(format.Input{R: body, Name: req.id},
		format.ReadOptions{Mem: cfg.mem, Schema: cfg.schema, BatchRows: cfg.batchRows, Workers: 1, MaxRecordBytes: cfg.maxRecord})
	if err != nil {
		return err
	}
	defer r.Close()
	for {
		rec, rejects, err := r.Next()
		for _, e := range rejects {
			req.rejects = append(req.rejects, engine.RowError{File: req.id, Line: e.Line, Column: e.Column, Raw: e.Raw, Err: e.Err})
		}
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		req.add(rec)
	}
}

// decodeJSON reads one object, or an array of objects whose elements are
// decoded by codec's JSON decoder in chunks of a batch. Broken JSON around
// the rows (the array itself) refuses the request, since no element after
// it can be found; an element that is valid JSON but not a fitting object
// is a reject.
func decodeJSON(cfg *serverConfig, req *request, body io.Reader) error {
	dec, err := codec.NewDecoder(codec.Config{Name: codec.JSON, Schema: cfg.schema, MaxRecordBytes: cfg.maxRecord}, cfg.mem)
	if err != nil {
		return err
	}
	br := bufio.NewReader(body)
	first, err := firstByte(br)
	if errors.Is(err, io.EOF) {
		return nil // only white space
	}
	if err != nil {
		return err
	}
	switch first {
	case '{':
		obj, err := io.ReadAll(br)
		if err != nil {
			return err
		}
		return decodeChunk(dec, req, [][]byte{obj}, 0)
	case '[':
	default:
		return badRequest("a JSON body must be an object or an array of objects; it starts with %s (JSON Lines? send Content-Type: application/x-ndjson)", strconv.QuoteRune(rune(first)))
	}
	jd := json.NewDecoder(br)
	if _, err := jd.Token(); err != nil { // the '['
		return err
	}
	var msgs [][]byte
	var base int64
	for jd.More() {
		var raw json.RawMessage
		if err := jd.Decode(&raw); err != nil {
			if be := classify(err); be.status != http.StatusBadRequest {
				return be
			}
			return badRequest("element %d (byte %d of the body): %v", base+int64(len(msgs)), jd.InputOffset(), err)
		}
		msgs = append(msgs, raw)
		if len(msgs) == cfg.batchRows {
			if err := decodeChunk(dec, req, msgs, base); err != nil {
				return err
			}
			base += int64(len(msgs))
			msgs = msgs[:0]
		}
	}
	if err := decodeChunk(dec, req, msgs, base); err != nil {
		return err
	}
	if _, err := jd.Token(); err != nil { // the ']'
		if be := classify(err); be.status != http.StatusBadRequest {
			return be
		}
		return badRequest("the array is not closed (byte %d of the body): %v", jd.InputOffset(), err)
	}
	if tok, err := jd.Token(); !errors.Is(err, io.EOF) {
		if err != nil {
			return classify(err)
		}
		return badRequest("data after the array (byte %d of the body): %v", jd.InputOffset(), tok)
	}
	return nil
}

// firstByte returns the first byte that is not JSON whitespace.
func firstByte(br *bufio.Reader) (byte, error) {
	for {
		b, err := br.ReadByte()
		if err != nil {
			return 0, err
		}
		switch b {
		case ' ', '\t', '\r', '\n':
			continue
		case 0xEF: // a UTF-8 byte order mark
			if rest, err := br.Peek(2); err == nil && bytes.Equal(rest, []byte{0xBB, 0xBF}) {
				_, _ = br.Discard(2)
				continue
			}
		}
		return b, br.UnreadByte()
	}
}

// decodeChunk decodes array elements base.. as messages; a reject's Line
// is the element's 1-based number, so the reply can name its index.
func decodeChunk(dec codec.Decoder, req *request, msgs [][]byte, base int64) error {
	if len(msgs) == 0 {
		return nil
	}
	rec, rejects, err := dec.Decode(msgs)
	if err != nil {
		return err
	}
	for _, e := range rejects {
		e.File, e.Line = req.id, base+int64(e.Row)+1
		e.Row = 0
		req.rejects = append(req.rejects, e)
	}
	req.add(rec)
	return nil
}

// decodeArrow reads an Arrow IPC stream (or file) whose schema must have
// the source's columns and types. Arrow data is typed already, so there
// are no row rejects: a mismatch refuses the request.
func decodeArrow(cfg *serverConfig, req *request, body io.Reader) error {
	r, err := arrowipc.NewReader(format.Input{R: body, Name: req.id}, format.ReadOptions{Mem: cfg.mem})
	if err != nil {
		if be := classify(err); be.status != http.StatusBadRequest {
			return be
		}
		return badRequest("not an Arrow IPC stream: %v", err)
	}
	defer r.Close()
	if why := schemaDiff(cfg.schema, r.Schema()); why != "" {
		return badRequest("the Arrow schema does not match the source's: %s", why)
	}
	var rows int64
	for n := 0; ; n++ {
		rec, _, err := r.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		for c, f := range cfg.schema.Fields() {
			if col := rec.Column(c); !f.Nullable && col.NullN() > 0 {
				row := 0
				for col.IsValid(row) {
					row++
				}
				rec.Release()
				return badRequest("row %d (Arrow batch %d, row %d): column %q is null but the schema declares it not null", rows+int64(row), n, row, f.Name)
			}
		}
		// The source's schema, so every batch matches what Open returned
		// (field nullability and metadata may differ in the body).
		out := array.NewRecordBatch(cfg.schema, rec.Columns(), rec.NumRows())
		rec.Release()
		rows += out.NumRows()
		req.add(out)
	}
}

// schemaDiff says how got differs from want in column names and types, or
// "" when they agree. Nullability is checked on the data instead.
func schemaDiff(want, got *arrow.Schema) string {
	if want.NumFields() != got.NumFields() {
		return fmt.Sprintf("%d columns (%s), want %d (%s)", got.NumFields(), columns(got), want.NumFields(), columns(want))
	}
	for i, w := range want.Fields() {
		g := got.Field(i)
		if g.Name != w.Name || !arrow.TypeEqual(g.Type, w.Type) {
			return fmt.Sprintf("column %d is %q %s, want %q %s", i, g.Name, g.Type, w.Name, w.Type)
		}
	}
	return ""
}

func columns(s *arrow.Schema) string {
	var b bytes.Buffer
	for i, f := range s.Fields() {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%s %s", f.Name, f.Type)
	}
	return b.String()
}
