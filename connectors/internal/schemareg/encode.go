package schemareg

import (
	"context"
	"encoding/json"
	"fmt"
	"os"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/twmb/franz-go/pkg/sr"

	"github.com/dataweaver/dataweaver/codec"
)

// defaultAvroRecord is the name format/avro gives the record of a row.
const defaultAvroRecord = "row"

// CheckSink checks, when a sink is built, that the codec can be written
// through a registry (nothing to check without one, c nil): no I/O.
func (c *Config) CheckSink(base codec.Config) error {
	if c == nil {
		return nil
	}
	switch base.Name {
	case codec.Avro:
		if base.AvroEncoding == codec.AvroSingleObject {
			return fmt.Errorf("%w: avro.encoding single_object and schema_registry exclude each other: "+
				"registry messages carry a schema id instead", codec.ErrConfig)
		}
	case codec.Protobuf:
		if base.Protobuf.File == "" {
			return fmt.Errorf("%w: a sink with schema_registry registers the .proto text: give protobuf.proto_file "+
				"(a descriptor_set holds no text to register)", codec.ErrConfig)
		}
		return nil // the record name is the message's
	}
	if c.Strategy != TopicName && c.RecordName == "" {
		return fmt.Errorf("%w: subject_strategy %s needs schema_registry.record_name", codec.ErrConfig, c.Strategy)
	}
	return nil
}

// Encoder prefixes every message of a codec encoder with the registry
// header of the schema registered for the columns (codec.Encoder).
type Encoder struct {
	inner   codec.Encoder
	header  []byte // magic byte, schema id, Protobuf message index
	buf     []byte // one message, reused
	ID      int    // the schema's id
	Subject string // the subject it is registered under
}

// NewEncoder registers (or looks up, without auto_register) the schema of
// the codec base for records of schema, under the subject the strategy
// names for topic, and returns an encoder of messages carrying its id.
func (r *Registry) NewEncoder(ctx context.Context, base codec.Config, topic string, schema *arrow.Schema, mem memory.Allocator) (*Encoder, error) {
	inner, err := codec.NewEncoder(base, schema, mem)
	if err != nil {
		return nil, err
	}
	s, record, index, err := r.schemaFor(base, schema)
	if err != nil {
		return nil, err
	}
	e := &Encoder{inner: inner, Subject: r.cfg.Subject(topic, record)}
	err = r.call(ctx, func(ctx context.Context) error {
		if r.cfg.AutoRegister {
			e.ID, err = r.cl.RegisterSchema(ctx, e.Subject, s, -1, -1)
			return err
		}
		var ss sr.SubjectSchema
		ss, err = r.cl.LookupSchema(ctx, e.Subject, s)
		e.ID = ss.ID
		return err
	})
	switch {
	case err != nil && !r.cfg.AutoRegister && notFound(err):
		return nil, fmt.Errorf("schema registry %s: the %s schema of the columns is not registered under subject %q "+
			"(auto_register: false): register it, or let the sink do it: %w", r.cfg.URL, s.Type, e.Subject, err)
	case err != nil && r.cfg.AutoRegister:
		return nil, fmt.Errorf("schema registry %s: registering the %s schema of the columns under subject %q: %w",
			r.cfg.URL, s.Type, e.Subject, err)
	case err != nil:
		return nil, fmt.Errorf("schema registry %s: looking up the %s schema of the columns under subject %q: %w",
			r.cfg.URL, s.Type, e.Subject, err)
	}
	e.header = []byte{0, byte(e.ID >> 24), byte(e.ID >> 16), byte(e.ID >> 8), byte(e.ID)}
	if index != nil {
		e.header = appendIndex(e.header, index)
	}
	return e, nil
}

// schemaFor is the schema a sink registers, its record name (for the
// subject) and, for Protobuf, the message index.
func (r *Registry) schemaFor(base codec.Config, schema *arrow.Schema) (sr.Schema, string, []int, error) {
	record := r.cfg.RecordName
	switch base.Name {
	case codec.Avro:
		text, err := codec.AvroSchemaText(schema)
		if err != nil {
			return sr.Schema{}, "", nil, err
		}
		if record == "" {
			record = defaultAvroRecord
		} else if text, err = renameRecord(text, record); err != nil {
			return sr.Schema{}, "", nil, err
		}
		return sr.Schema{Schema: string(text), Type: sr.TypeAvro}, record, nil, nil
	case codec.Protobuf:
		md, err := base.Protobuf.MessageDescriptor()
		if err != nil {
			return sr.Schema{}, "", nil, err
		}
		text, err := os.ReadFile(base.Protobuf.File)
		if err != nil {
			return sr.Schema{}, "", nil, fmt.Errorf("%w: protobuf.proto_file: %w", codec.ErrConfig, err)
		}
		// Compile the text alone, as a reader will from the registry: an
		// import of the user's own files would not resolve there.
		if _, err := compileText(string(text)); err != nil {
			return sr.Schema{}, "", nil, fmt.Errorf("%w: protobuf.proto_file %s cannot be registered on its own: %w",
				codec.ErrConfig, base.Protobuf.File, err)
		}
		return sr.Schema{Schema: string(text), Type: sr.TypeProtobuf}, string(md.FullName()), messageIndex(md), nil
	}
	if record == "" {
		record = defaultAvroRecord
	}
	text, err := jsonSchemaFor(schema, record)
	if err != nil {
		return sr.Schema{}, "", nil, fmt.Errorf("%w: JSON Schema of the columns: %w", codec.ErrConfig, err)
	}
	return sr.Schema{Schema: text, Type: sr.TypeJSON}, record, nil, nil
}

// renameRecord sets the name of the top-level record of an Avro schema:
// the name a record-name strategy registers it under. The binary encoding
// does not depend on it.
func renameRecord(text []byte, name string) ([]byte, error) {
	var s map[string]any
	if err := json.Unmarshal(text, &s); err != nil {
		return nil, err
	}
	s["name"] = name
	return json.Marshal(s)
}

// Encode calls emit with each row's message: the header, then the codec's
// payload, built in one reused buffer.
func (e *Encoder) Encode(rec arrow.RecordBatch, emit func(row int, msg []byte) error) error {
	return e.inner.Encode(rec, func(row int, msg []byte) error {
		e.buf = append(append(e.buf[:0], e.header...), msg...)
		return emit(row, e.buf)
	})
}
