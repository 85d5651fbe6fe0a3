package schemareg

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/twmb/franz-go/pkg/sr"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/dataweaver/dataweaver/codec"
	"github.com/dataweaver/dataweaver/engine"
	"github.com/dataweaver/dataweaver/format"
)

// Row errors of messages the registry's schemas cannot decode.
var (
	// ErrWireFormat: the message does not start with the magic byte 0 and a
	// schema id (or, for Protobuf, a valid message-index list).
	ErrWireFormat = fmt.Errorf("%w: not in the schema registry wire format (magic byte 0, 4-byte schema id)", format.ErrMalformed)
	// ErrUnknownSchema: the registry has no schema with the message's id.
	ErrUnknownSchema = errors.New("schema id not in the registry")
	// ErrIncompatible: the id's schema cannot be mapped onto the
	// pipeline's columns (or is not of the codec's type).
	ErrIncompatible = errors.New("writer schema incompatible with the pipeline's")
)

const headerLen = 5 // magic byte and schema id

// Target is the pipeline's Arrow schema, into which the decoder maps every
// writer schema: the codec's (avro.schema, the protobuf message, json's
// schema), or for Avro without avro.schema the connector's schema. No I/O:
// connectors call it when built, to validate.
func Target(base codec.Config, mem memory.Allocator) (*arrow.Schema, error) {
	if base.Name == codec.Avro {
		if base.AvroEncoding == codec.AvroSingleObject {
			return nil, fmt.Errorf("%w: avro.encoding single_object and schema_registry exclude each other: "+
				"registry messages carry a schema id instead", codec.ErrConfig)
		}
		if base.AvroSchema == "" && base.AvroSchemaFile == "" {
			if base.Schema == nil {
				return nil, fmt.Errorf("%w: with schema_registry, codec avro needs the pipeline's columns: "+
					"avro.schema, avro.schema_file or schema", codec.ErrConfig)
			}
			return base.Schema, nil
		}
	}
	dec, err := codec.NewDecoder(base, mem)
	if err != nil {
		return nil, err
	}
	return dec.Schema(), nil
}

// writer is what one schema id decodes with.
type writer struct {
	err   error         // unknown or incompatible: every message naming the id is a row error
	dec   codec.Decoder // Avro: of the writer schema; else the pipeline's, shared
	proj  *projection   // Avro: the writer's columns onto the pipeline's
	index []int         // Protobuf: where the pipeline's message is in the id's file
}

// Decoder decodes registry-framed messages into the pipeline's schema
// (codec.Decoder). Not safe for concurrent use.
type Decoder struct {
	reg     *Registry
	base    codec.Config
	mem     memory.Allocator
	schema  *arrow.Schema
	shared  codec.Decoder                  // json, protobuf
	msgDesc protoreflect.MessageDescriptor // protobuf: the pipeline's message
	ids     map[uint32]*writer
	run     [][]byte // payloads of one run of messages with one id, reused
	idx     []int    // their indexes in the batch
}

// NewDecoder returns a decoder of messages in the registry's wire format
// for the codec base; it looks ids up through r as messages name them.
func (r *Registry) NewDecoder(base codec.Config, mem memory.Allocator) (*Decoder, error) {
	target, err := Target(base, mem)
	if err != nil {
		return nil, err
	}
	d := &Decoder{reg: r, base: base, mem: mem, schema: target, ids: map[uint32]*writer{}}
	switch base.Name {
	case codec.Avro:
	case codec.Protobuf:
		if d.msgDesc, err = base.Protobuf.MessageDescriptor(); err != nil {
			return nil, err
		}
		fallthrough
	default:
		if d.shared, err = codec.NewDecoder(base, mem); err != nil {
			return nil, err
		}
	}
	return d, nil
}

func (d *Decoder) Schema() *arrow.Schema { return d.schema }

// Decode decodes msgs in runs of consecutive messages naming one schema
// id: one codec batch per run (one for the whole batch when, as usual,
// every message names the same id).
func (d *Decoder) Decode(msgs [][]byte) (arrow.RecordBatch, []engine.RowError, error) {
	var (
		recs    []arrow.RecordBatch
		rejects []engine.RowError
	)
	fail := func(err error) (arrow.RecordBatch, []engine.RowError, error) {
		for _, r := range recs {
			r.Release()
		}
		return nil, nil, err
	}
	for i := 0; i < len(msgs); {
		id, ok := schemaID(msgs[i])
		if !ok {
			rejects = append(rejects, engine.RowError{Row: i, Raw: msgs[i], Err: ErrWireFormat})
			i++
			continue
		}
		w, err := d.writer(id)
		if err != nil {
			return fail(err)
		}
		run, idx := d.run[:0], d.idx[:0]
		j := i
		for ; j < len(msgs); j++ {
			if next, ok := schemaID(msgs[j]); !ok || next != id {
				break
			}
			if w.err != nil {
				rejects = append(rejects, engine.RowError{Row: j, Raw: msgs[j], Err: w.err})
				continue
			}
			payload, err := d.payload(w, id, msgs[j][headerLen:])
			if err != nil {
				rejects = append(rejects, engine.RowError{Row: j, Raw: msgs[j], Err: err})
				continue
			}
			run, idx = append(run, payload), append(idx, j)
		}
		i = j
		if len(run) > 0 {
			rec, rej, err := w.dec.Decode(run)
			if err != nil {
				clear(run)
				return fail(fmt.Errorf("schema id %d: %w", id, err))
			}
			for _, e := range rej {
				k := e.Row
				e.Row = idx[k]
				if len(e.Raw) == len(run[k]) { // the whole payload, not a prefix (max_record_bytes)
					e.Raw = msgs[e.Row]
				}
				e.Err = fmt.Errorf("schema id %d: %w", id, e.Err)
				rejects = append(rejects, e)
			}
			clear(run) // keep no reference to this batch's messages
			if w.proj != nil {
				rec = w.proj.apply(rec, d.mem)
			}
			recs = append(recs, rec)
		}
		d.run, d.idx = run[:0], idx[:0]
	}
	sortRows(rejects)
	out, err := codec.Concat(d.mem, d.schema, recs)
	if err != nil {
		return nil, nil, err
	}
	return out, rejects, nil
}

// schemaID reads the wire format's header.
func schemaID(m []byte) (uint32, bool) {
	if len(m) < headerLen || m[0] != 0 {
		return 0, false
	}
	return binary.BigEndian.Uint32(m[1:headerLen]), true
}

// payload strips what follows the id in a Protobuf message, the message
// index, checking that it names the pipeline's message; other codecs'
// payloads follow the id directly.
func (d *Decoder) payload(w *writer, id uint32, b []byte) ([]byte, error) {
	if w.index == nil {
		return b, nil
	}
	rest, same, ok := matchIndex(b, w.index)
	switch {
	case !ok:
		return nil, ErrWireFormat
	case !same:
		return nil, fmt.Errorf("%w: schema id %d: the message is not %s, the pipeline's message (its message index differs)",
			ErrIncompatible, id, d.msgDesc.FullName())
	}
	return rest, nil
}

// writer returns what id decodes with, asking the registry the first time.
func (d *Decoder) writer(id uint32) (*writer, error) {
	if w, ok := d.ids[id]; ok {
		return w, nil
	}
	var s sr.Schema
	err := d.reg.call(context.Background(), func(ctx context.Context) error {
		var err error
		s, err = d.reg.cl.SchemaByID(ctx, int(id))
		return err
	})
	w := &writer{}
	switch {
	case notFound(err):
		w.err = fmt.Errorf("%w: schema id %d (registry %s)", ErrUnknownSchema, id, d.reg.cfg.URL)
	case err != nil:
		// Not cached: the registry may answer next time.
		return nil, fmt.Errorf("schema registry %s: looking up schema id %d: %w", d.reg.cfg.URL, id, err)
	default:
		if err := d.build(w, s); err != nil {
			w.err = fmt.Errorf("%w: schema id %d: %w", ErrIncompatible, id, err)
		}
	}
	d.ids[id] = w
	return w, nil
}

// build prepares w to decode messages of s into the pipeline's schema.
func (d *Decoder) build(w *writer, s sr.Schema) error {
	want := map[string]sr.SchemaType{codec.Avro: sr.TypeAvro, codec.Protobuf: sr.TypeProtobuf}[d.base.Name]
	if d.base.Name != codec.Avro && d.base.Name != codec.Protobuf {
		want = sr.TypeJSON
	}
	if s.Type != want {
		return fmt.Errorf("it is a %s schema, the codec reads %s", s.Type, want)
	}
	switch want {
	case sr.TypeAvro:
		if len(s.References) > 0 {
			return fmt.Errorf("it references other schemas, which the avro codec does not resolve")
		}
		dec, err := codec.NewDecoder(codec.Config{Name: codec.Avro, AvroSchema: s.Schema, MaxRecordBytes: d.base.MaxRecordBytes}, d.mem)
		if err != nil {
			return err
		}
		p, err := newProjection(dec.Schema(), d.schema)
		if err != nil {
			return err
		}
		w.dec, w.proj = dec, p
		if p.same && dec.Schema().Equal(d.schema) {
			w.proj = nil
		}
	case sr.TypeProtobuf:
		index, err := protoIndex(s, d.msgDesc)
		if err != nil {
			return err
		}
		w.dec, w.index = d.shared, index
	default:
		if err := checkJSONSchema(s.Schema, d.schema); err != nil {
			return err
		}
		w.dec = d.shared
	}
	return nil
}

// sortRows orders rejects by message, as they were read.
func sortRows(rs []engine.RowError) {
	slices.SortStableFunc(rs, func(a, b engine.RowError) int { return a.Row - b.Row })
}
