package http

import (
	"bytes"
	"fmt"
	"io"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/dataweaver/dataweaver/format"
	"github.com/dataweaver/dataweaver/format/arrowipc"
	"github.com/dataweaver/dataweaver/format/avro"
	"github.com/dataweaver/dataweaver/format/jsonl"
)

// mediaTypes is the Content-Type the sink sends for each codec.
var mediaTypes = map[string]string{
	formatJSON:   "application/json",
	formatNDJSON: "application/x-ndjson",
	formatArrow:  "application/vnd.apache.arrow.stream",
	formatAvro:   "application/avro",
}

// encoder turns rows into one request body. Bodies are written by the
// file formats' writers, so a POSTed batch is byte for byte what the file
// sink would write for it.
type encoder struct {
	codec  string
	schema *arrow.Schema
	mem    memory.Allocator
	buf    bytes.Buffer
	lines  format.Writer // JSON Lines writer reused by json and ndjson
}

func newEncoder(codec string, schema *arrow.Schema, mem memory.Allocator) (*encoder, error) {
	e := &encoder{codec: codec, schema: schema, mem: mem}
	switch codec {
	case formatJSON, formatNDJSON:
		w, err := jsonl.NewWriter(&e.buf, schema, format.WriteOptions{Mem: mem, Name: "request body"})
		if err != nil {
			return nil, err
		}
		e.lines = w
	case formatArrow, formatAvro:
		// A stream or container per body; check the schema now.
		if _, err := e.open(io.Discard); err != nil {
			return nil, err
		}
	default:
		return nil, fmt.Errorf("unknown codec %q", codec)
	}
	return e, nil
}

func (e *encoder) open(w io.Writer) (format.Writer, error) {
	opts := format.WriteOptions{Mem: e.mem, Name: "request body"}
	if e.codec == formatArrow {
		return arrowipc.NewWriter(w, e.schema, opts)
	}
	return avro.NewWriter(w, e.schema, opts)
}

// encode returns rec as a fresh body.
func (e *encoder) encode(rec arrow.RecordBatch) ([]byte, error) {
	e.buf.Reset()
	switch e.codec {
	case formatJSON, formatNDJSON:
		if err := e.lines.Write(rec); err != nil {
			return nil, err
		}
		if err := e.lines.Flush(); err != nil {
			return nil, err
		}
		if e.codec == formatJSON {
			return jsonArray(e.buf.Bytes()), nil
		}
		return bytes.Clone(e.buf.Bytes()), nil
	}
	w, err := e.open(&e.buf)
	if err != nil {
		return nil, err
	}
	if err := w.Write(rec); err != nil {
		return nil, err
	}
	if err := w.Close(); err != nil {
		return nil, err
	}
	return bytes.Clone(e.buf.Bytes()), nil
}

// jsonArray turns JSON Lines into a JSON array. The writer escapes every
// newline inside strings, so each '\n' ends a row.
func jsonArray(lines []byte) []byte {
	out := make([]byte, 0, len(lines)+2)
	out = append(out, '[')
	for len(lines) > 0 {
		i := bytes.IndexByte(lines, '\n')
		if i < 0 {
			i = len(lines)
		}
		if len(out) > 1 {
			out = append(out, ',')
		}
		out = append(out, lines[:i]...)
		lines = lines[min(i+1, len(lines)):]
	}
	return append(out, ']')
}

// split encodes rec as bodies of at most maxRows rows (0: any) and, when
// maxBytes > 0, at most maxBytes bytes unless a single row is larger. An
// oversized body is cut in proportion to its excess, and a part still too
// large is cut again, so a batch is encoded about twice at worst.
func (e *encoder) split(rec arrow.RecordBatch, maxRows int, maxBytes int64) ([][]byte, error) {
	n := rec.NumRows()
	step := n
	if maxRows > 0 {
		step = int64(maxRows)
	}
	var out [][]byte
	for lo := int64(0); lo < n; lo += step {
		var err error
		if out, err = e.encodeRange(out, rec, lo, min(lo+step, n), maxBytes); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func (e *encoder) encodeRange(out [][]byte, rec arrow.RecordBatch, lo, hi int64, maxBytes int64) ([][]byte, error) {
	part := rec.NewSlice(lo, hi)
	body, err := e.encode(part)
	part.Release()
	if err != nil {
		return nil, err
	}
	if maxBytes <= 0 || int64(len(body)) <= maxBytes || hi-lo == 1 {
		return append(out, body), nil
	}
	pieces := int64(len(body))/maxBytes + 1
	per := max((hi-lo)/pieces, 1)
	for p := lo; p < hi; p += per {
		if out, err = e.encodeRange(out, rec, p, min(p+per, hi), maxBytes); err != nil {
			return nil, err
		}
	}
	return out, nil
}
