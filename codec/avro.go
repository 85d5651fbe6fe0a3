package codec

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"
	hamba "github.com/hamba/avro/v2"

	"github.com/dataweaver/dataweaver/engine"
	"github.com/dataweaver/dataweaver/format"
	"github.com/dataweaver/dataweaver/format/avro"
)

// singleObjectMagic starts every message in Avro's single-object encoding;
// the schema's 8-byte fingerprint follows.
var singleObjectMagic = []byte{0xC3, 0x01}

const singleObjectHeader = 10

var errFingerprint = fmt.Errorf("%w: avro single-object message: not the magic 0xC3 0x01 or a different schema fingerprint", format.ErrMalformed)

// syncMarker is the container sync marker the decoder writes between
// messages; any value works since the container never leaves memory.
var syncMarker = [16]byte{'d', 'a', 't', 'a', 'w', 'e', 'a', 'v', 'e', 'r', 'm', 's', 'g', 's', 'y', 'n'}

type avroDecoder struct {
	schema *arrow.Schema
	mem    memory.Allocator
	single bool
	fp     []byte // CRC-64-AVRO fingerprint, little-endian
	header []byte // object container header carrying the schema
	buf    []byte
}

func newAvroDecoder(text []byte, single bool, mem memory.Allocator) (*avroDecoder, error) {
	s, err := hamba.ParseBytesWithCache(text, "", &hamba.SchemaCache{})
	if err != nil {
		return nil, fmt.Errorf("%w: avro schema: %w", ErrConfig, err)
	}
	fp, err := s.FingerprintUsing(hamba.CRC64AvroLE)
	if err != nil {
		return nil, fmt.Errorf("%w: avro schema: %w", ErrConfig, err)
	}
	d := &avroDecoder{mem: mem, single: single, fp: fp, header: containerHeader(text)}
	// The Arrow schema is format/avro's mapping of the Avro one: read it
	// from a container with no blocks.
	r, err := avro.NewReader(format.Input{R: bytes.NewReader(d.header), Name: "avro schema"}, format.ReadOptions{Mem: mem})
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrConfig, err)
	}
	d.schema = r.Schema()
	r.Close()
	return d, nil
}

// containerHeader builds an object container header: magic, metadata
// map {avro.schema, avro.codec: null}, sync marker.
func containerHeader(schema []byte) []byte {
	h := []byte{'O', 'b', 'j', 1}
	h = binary.AppendVarint(h, 2)
	for _, kv := range [][2][]byte{{[]byte("avro.schema"), schema}, {[]byte("avro.codec"), []byte("null")}} {
		for _, b := range kv {
			h = binary.AppendVarint(h, int64(len(b)))
			h = append(h, b...)
		}
	}
	h = binary.AppendVarint(h, 0)
	return append(h, syncMarker[:]...)
}

func (d *avroDecoder) Schema() *arrow.Schema { return d.schema }

func (d *avroDecoder) Decode(msgs [][]byte) (arrow.RecordBatch, []engine.RowError, error) {
	var rejects []engine.RowError
	bodies := make([][]byte, len(msgs))
	idx := make([]int, 0, len(msgs))
	for i, m := range msgs {
		if d.single {
			if len(m) < singleObjectHeader || !bytes.Equal(m[:2], singleObjectMagic) || !bytes.Equal(m[2:10], d.fp) {
				rejects = append(rejects, engine.RowError{Row: i, Raw: m, Err: errFingerprint})
				continue
			}
			m = m[singleObjectHeader:]
		}
		bodies[i] = m
		idx = append(idx, i)
	}
	var recs []arrow.RecordBatch
	if err := d.bisect(msgs, bodies, idx, &recs, &rejects); err != nil {
		releaseAll(recs)
		return nil, nil, err
	}
	sortRejects(rejects)
	out, err := concat(d.mem, d.schema, recs)
	return out, rejects, err
}

// bisect decodes the messages idx; if their container is malformed it
// splits them in halves until the bad messages stand alone.
func (d *avroDecoder) bisect(msgs, bodies [][]byte, idx []int, recs *[]arrow.RecordBatch, rejects *[]engine.RowError) error {
	if len(idx) == 0 {
		return nil
	}
	rec, err := d.decode(bodies, idx)
	switch {
	case err == nil:
		*recs = append(*recs, rec)
		return nil
	case !errors.Is(err, format.ErrMalformed):
		return err
	case len(idx) == 1:
		*rejects = append(*rejects, engine.RowError{Row: idx[0], Raw: msgs[idx[0]], Err: err})
		return nil
	}
	mid := len(idx) / 2
	if err := d.bisect(msgs, bodies, idx[:mid], recs, rejects); err != nil {
		return err
	}
	return d.bisect(msgs, bodies, idx[mid:], recs, rejects)
}

func (d *avroDecoder) decode(bodies [][]byte, idx []int) (arrow.RecordBatch, error) {
	buf := append(d.buf[:0], d.header...)
	for _, i := range idx {
		buf = binary.AppendVarint(buf, 1)
		buf = binary.AppendVarint(buf, int64(len(bodies[i])))
		buf = append(buf, bodies[i]...)
		buf = append(buf, syncMarker[:]...)
	}
	d.buf = buf
	r, err := avro.NewReader(format.Input{R: bytes.NewReader(buf), Name: "message"},
		format.ReadOptions{Mem: d.mem, BatchRows: len(idx) + 1})
	if err != nil {
		return nil, err
	}
	defer r.Close()
	var recs []arrow.RecordBatch
	for {
		rec, _, err := r.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			releaseAll(recs)
			return nil, err
		}
		recs = append(recs, rec)
	}
	return concat(d.mem, d.schema, recs)
}

// avroEncoder writes each row through format/avro's container writer and
// flushes after it, so every block holds exactly one datum, which it cuts
// out: the Arrow → Avro mapping stays format/avro's.
type avroEncoder struct {
	out    bytes.Buffer
	w      format.Writer
	prefix []byte // single-object header, or nil
}

func newAvroEncoder(schema *arrow.Schema, single bool, mem memory.Allocator) (*avroEncoder, error) {
	e := &avroEncoder{}
	w, err := avro.NewWriter(&e.out, schema, format.WriteOptions{Mem: mem, Name: "message"})
	if err != nil {
		return nil, err
	}
	e.w = w
	if single {
		// NewWriter has written the container header: it holds the Avro schema.
		text, err := headerSchema(e.out.Bytes())
		if err != nil {
			return nil, err
		}
		s, err := hamba.ParseBytesWithCache(text, "", &hamba.SchemaCache{})
		if err != nil {
			return nil, err
		}
		fp, err := s.FingerprintUsing(hamba.CRC64AvroLE)
		if err != nil {
			return nil, err
		}
		e.prefix = append(append([]byte{}, singleObjectMagic...), fp...)
	}
	e.out.Reset()
	return e, nil
}

// AvroSchemaText is the Avro schema (JSON) an avro encoder writes records
// of schema in: what a schema registry is given for them.
func AvroSchemaText(schema *arrow.Schema) ([]byte, error) {
	var out bytes.Buffer
	w, err := avro.NewWriter(&out, schema, format.WriteOptions{Mem: memory.DefaultAllocator, Name: "message"})
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrConfig, err)
	}
	defer w.Close()
	return headerSchema(out.Bytes())
}

// headerSchema returns avro.schema from an object container header.
func headerSchema(h []byte) ([]byte, error) {
	r := bytes.NewReader(h)
	var magic [4]byte
	if _, err := io.ReadFull(r, magic[:]); err != nil {
		return nil, err
	}
	for {
		n, err := binary.ReadVarint(r)
		if err != nil {
			return nil, err
		}
		if n == 0 {
			return nil, errors.New("codec avro: writer header has no avro.schema")
		}
		if n < 0 {
			n = -n
			if _, err := binary.ReadVarint(r); err != nil {
				return nil, err
			}
		}
		for ; n > 0; n-- {
			var kv [2][]byte
			for j := range kv {
				l, err := binary.ReadVarint(r)
				if err != nil || l < 0 || l > int64(r.Len()) {
					return nil, errors.New("codec avro: bad writer header")
				}
				kv[j] = make([]byte, l)
				io.ReadFull(r, kv[j])
			}
			if string(kv[0]) == "avro.schema" {
				return kv[1], nil
			}
		}
	}
}

func (e *avroEncoder) Encode(rec arrow.RecordBatch, emit func(int, []byte) error) error {
	var msg []byte
	for row := 0; row < int(rec.NumRows()); row++ {
		one := rec.NewSlice(int64(row), int64(row+1))
		err := e.w.Write(one)
		one.Release()
		if err == nil {
			err = e.w.Flush()
		}
		if err != nil {
			return err
		}
		// A block: count (1), size, datum, sync marker.
		r := bytes.NewReader(e.out.Bytes())
		count, err1 := binary.ReadVarint(r)
		size, err2 := binary.ReadVarint(r)
		if err1 != nil || err2 != nil || count != 1 || size < 0 || size > int64(r.Len()) {
			return fmt.Errorf("codec avro: unexpected block from the writer (count %d)", count)
		}
		start := e.out.Len() - r.Len()
		msg = append(append(msg[:0], e.prefix...), e.out.Bytes()[start:start+int(size)]...)
		e.out.Reset()
		if err := emit(row, msg); err != nil {
			return err
		}
	}
	return nil
}
