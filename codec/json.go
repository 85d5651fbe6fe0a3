package codec

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sync"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/dataweaver/dataweaver/engine"
	"github.com/dataweaver/dataweaver/format"
	"github.com/dataweaver/dataweaver/format/jsonl"
)

// errEmpty: format/jsonl skips blank lines, so an empty message would
// otherwise vanish without a trace.
var errEmpty = fmt.Errorf("%w: empty message", format.ErrMalformed)

type jsonDecoder struct {
	schema  *arrow.Schema
	limit   int // max_record_bytes: limited keeps longer messages out
	mem     memory.Allocator
	buf     []byte
	line    []int // message index of each line in buf
	compact bytes.Buffer
}

func newJSONDecoder(schema *arrow.Schema, limit int, mem memory.Allocator) (*jsonDecoder, error) {
	if schema == nil {
		return nil, fmt.Errorf("%w: codec json needs a schema to decode messages (columns and their types)", ErrConfig)
	}
	if err := checkJSONSchema(schema, mem); err != nil {
		return nil, err
	}
	return &jsonDecoder{schema: schema, limit: limit, mem: mem}, nil
}

// jsonSchemas remembers the schemas checkJSONSchema has seen: the HTTP
// source builds a decoder per request, and a reader costs ~0.2 ms.
var jsonSchemas sync.Map // *arrow.Schema → error

// checkJSONSchema builds a reader over nothing, which checks the column
// types, so that a type JSON cannot hold fails the pipeline's validation
// rather than every batch.
func checkJSONSchema(schema *arrow.Schema, mem memory.Allocator) error {
	if v, ok := jsonSchemas.Load(schema); ok {
		err, _ := v.(error)
		return err
	}
	var err error
	r, rerr := jsonl.NewReader(format.Input{R: bytes.NewReader(nil), Name: "message"}, format.ReadOptions{Mem: mem, Schema: schema, Workers: 1})
	if rerr != nil {
		err = fmt.Errorf("%w: codec json: %w", ErrConfig, rerr)
	} else {
		r.Close()
	}
	jsonSchemas.Store(schema, err)
	return err
}

func (d *jsonDecoder) Schema() *arrow.Schema { return d.schema }

func (d *jsonDecoder) Decode(msgs [][]byte) (arrow.RecordBatch, []engine.RowError, error) {
	buf, line := d.buf[:0], d.line[:0]
	var rejects []engine.RowError
	for i, m := range msgs {
		switch {
		case len(bytes.TrimSpace(m)) == 0:
			rejects = append(rejects, engine.RowError{Row: i, Raw: m, Err: errEmpty})
			continue
		case bytes.IndexByte(m, '\n') >= 0:
			d.compact.Reset()
			if err := json.Compact(&d.compact, m); err != nil {
				rejects = append(rejects, engine.RowError{Row: i, Raw: m, Err: fmt.Errorf("%w: %w", format.ErrMalformed, err)})
				continue
			}
			buf = append(buf, d.compact.Bytes()...)
		default:
			buf = append(buf, m...)
		}
		buf = append(buf, '\n')
		line = append(line, i)
	}
	d.buf, d.line = buf, line
	r, err := jsonl.NewReader(format.Input{R: bytes.NewReader(buf), Name: "message"},
		// A line is a message or its compacted, shorter form: within the
		// codec's limit, so the reader's own must not be lower.
		format.ReadOptions{Mem: d.mem, Schema: d.schema, BatchRows: len(line) + 1, Workers: 1, MaxRecordBytes: d.limit})
	if err != nil {
		return nil, nil, err
	}
	defer r.Close()
	var recs []arrow.RecordBatch
	for {
		rec, rej, err := r.Next()
		for _, e := range rej {
			i := msgIndex(line, e.Line)
			if i < 0 {
				releaseAll(recs)
				return nil, nil, fmt.Errorf("codec json: reject at line %d of %d: %w", e.Line, len(line), e.Err)
			}
			rejects = append(rejects, engine.RowError{Row: i, Column: e.Column, Raw: msgs[i], Err: e.Err})
		}
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			releaseAll(recs)
			return nil, nil, err
		}
		recs = append(recs, rec)
	}
	sortRejects(rejects)
	out, err := concat(d.mem, d.schema, recs)
	return out, rejects, err
}

func msgIndex(line []int, n int64) int {
	if n < 1 || n > int64(len(line)) {
		return -1
	}
	return line[n-1]
}

type jsonEncoder struct {
	out bytes.Buffer
	w   format.Writer
}

func newJSONEncoder(schema *arrow.Schema, mem memory.Allocator) (*jsonEncoder, error) {
	e := &jsonEncoder{}
	w, err := jsonl.NewWriter(&e.out, schema, format.WriteOptions{Mem: mem, Name: "message"})
	if err != nil {
		return nil, err
	}
	e.w = w
	return e, nil
}

func (e *jsonEncoder) Encode(rec arrow.RecordBatch, emit func(int, []byte) error) error {
	e.out.Reset()
	if err := e.w.Write(rec); err != nil {
		return err
	}
	if err := e.w.Flush(); err != nil {
		return err
	}
	b := e.out.Bytes()
	for row := 0; row < int(rec.NumRows()); row++ {
		nl := bytes.IndexByte(b, '\n')
		if nl < 0 {
			return fmt.Errorf("codec json: writer gave %d lines for %d rows", row, rec.NumRows())
		}
		if err := emit(row, b[:nl]); err != nil {
			return err
		}
		b = b[nl+1:]
	}
	return nil
}
