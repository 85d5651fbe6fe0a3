package codec

import (
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/dataweaver/dataweaver/engine"
	"github.com/dataweaver/dataweaver/engine/spec"
	"github.com/dataweaver/dataweaver/format"
)

// ErrConfig is wrapped by every error about a codec's configuration.
var ErrConfig = errors.New("codec: invalid configuration")

// ErrEncode is wrapped by an encoder's error for a value the message
// format cannot hold (out of the field's range, a null in a list, …).
var ErrEncode = errors.New("codec: value cannot be encoded")

// Names of the codecs.
const (
	JSON     = "json"
	Avro     = "avro"
	Protobuf = "protobuf"
)

// Avro encodings.
const (
	AvroRaw          = "raw"
	AvroSingleObject = "single_object"
)

// Decoder decodes batches of messages. It is not safe for concurrent use.
type Decoder interface {
	// Schema is the schema of every record Decode returns.
	Schema() *arrow.Schema
	// Decode decodes msgs, in order, into one record (possibly of zero
	// rows) holding the messages that decoded; every other message is a
	// RowError with Row = its index in msgs and Raw = its bytes. An error
	// means the batch could not be decoded at all (never a bad message).
	Decode(msgs [][]byte) (arrow.RecordBatch, []engine.RowError, error)
}

// Encoder encodes rows as messages. It is not safe for concurrent use.
type Encoder interface {
	// Encode calls emit once per row of rec, in order, with the row's
	// message. msg is valid only during the call: copy it to keep it.
	Encode(rec arrow.RecordBatch, emit func(row int, msg []byte) error) error
}

// Config selects and configures a codec. JSON needs Schema to decode: a
// source must return its schema from Open, before any message is read, so
// there are no first lines to infer it from as a file reader does.
type Config struct {
	Name string // JSON (default), Avro or Protobuf
	// Schema is the Arrow schema: required to decode JSON, ignored by Avro
	// and Protobuf (whose Arrow schema follows from the message type).
	Schema *arrow.Schema
	// AvroSchema is the Avro schema as JSON text (or AvroSchemaFile a path
	// to an .avsc file holding it); required to decode Avro. Encoding
	// derives the Avro schema from the record's columns instead.
	AvroSchema     string
	AvroSchemaFile string
	AvroEncoding   string // AvroRaw (default) or AvroSingleObject
	// Protobuf is the message type, needed both to decode and to encode.
	Protobuf ProtobufConfig
	// MaxRecordBytes bounds one message a decoder decodes; a longer one is
	// a RowError wrapping format.ErrRecordTooLarge whose Raw is its first
	// RawPrefix bytes. 0 means format.DefaultMaxRecordBytes.
	MaxRecordBytes int
}

// Fields declares the codec settings a message connector embeds in its
// spec. The Arrow schema field is the connector's (it is parsed by
// connectors/internal/arrowtype, which this package cannot import).
func Fields() []*spec.Field {
	return []*spec.Field{
		spec.String("codec").Default(JSON).OneOf(JSON, Avro, Protobuf).
			Desc("How a message's bytes map to a row. json: one JSON object per message (types as in JSON Lines files). " +
				"avro: one Avro datum per message, in the schema given under avro. " +
				"protobuf: one protobuf message per message, of the type given under protobuf. Type mappings: docs/types.md."),
		spec.Object("avro",
			spec.String("schema").Optional().
				Desc("The Avro schema, as JSON.").
				Example(`'{"type":"record","name":"order","fields":[{"name":"id","type":"long"}]}'`),
			spec.String("schema_file").Optional().
				Desc("Path of an .avsc file holding the Avro schema (instead of schema).").
				Example("schemas/order.avsc"),
			spec.String("encoding").Default(AvroRaw).OneOf(AvroRaw, AvroSingleObject).
				Desc("raw: the bare binary datum. single_object: Avro's single-object encoding "+
					"(0xC3 0x01, the schema's CRC-64-AVRO fingerprint, the datum); messages with another fingerprint are rejected."),
		).Optional().Desc("Avro settings (codec: avro). A sink derives the Avro schema from its columns and needs none."),
		spec.Object("protobuf",
			spec.String("message").
				Desc("Full name of the message type each message holds (package and name).").
				Example("shop.v1.Order"),
			spec.String("proto_file").Optional().
				Desc("A .proto file declaring the message (or importing the file that does), compiled when the pipeline is built; no protoc needed.").
				Example("protos/shop/v1/order.proto"),
			spec.String("descriptor_set").Optional().
				Desc("Instead of proto_file: a compiled FileDescriptorSet, from protoc --descriptor_set_out=FILE --include_imports or buf build -o FILE.").
				Example("build/shop.binpb"),
			spec.StringList("import_paths").Optional().
				Desc("Directories where proto_file's imports are found, as protoc's -I; proto_file's own directory is searched last. "+
					"google/protobuf/*.proto need none."),
			spec.String("timestamp_unit").Default("us").OneOf("us", "ns").
				Desc("Unit of the columns google.protobuf.Timestamp and Duration fields become. "+
					"us: any valid Timestamp, but a value with sub-microsecond digits is rejected. ns: every digit, but only 1677-2262."),
		).Optional().Desc("Protobuf settings (codec: protobuf): the message type of every message, for sources and sinks alike. " +
			"Columns are the message's fields; a sink matches columns to fields by name."),
	}
}

// FromConfig reads the settings Fields declared, and max_record_bytes when
// the connector declares it (MaxRecordBytesField); schema is the
// connector's parsed Arrow schema, if any.
func FromConfig(conf *spec.Parsed, schema *arrow.Schema) (Config, error) {
	c := Config{Name: conf.String("codec"), Schema: schema}
	if conf.Has("max_record_bytes") {
		c.MaxRecordBytes = conf.Int("max_record_bytes")
	}
	if a := conf.Object("avro"); a != nil {
		c.AvroSchema, c.AvroSchemaFile, c.AvroEncoding = a.String("schema"), a.String("schema_file"), a.String("encoding")
		if conf.Given("avro") && c.Name != Avro {
			return c, fmt.Errorf("%w: %w", ErrConfig, conf.Errorf("avro", "avro settings given but codec is %s", c.Name))
		}
		if c.AvroSchema != "" && c.AvroSchemaFile != "" {
			return c, fmt.Errorf("%w: %w", ErrConfig, conf.Errorf("avro", "give avro.schema or avro.schema_file, not both"))
		}
	}
	p := conf.Object("protobuf")
	switch {
	case conf.Given("protobuf") && c.Name != Protobuf:
		return c, fmt.Errorf("%w: %w", ErrConfig, conf.Errorf("protobuf", "protobuf settings given but codec is %s", c.name()))
	case c.Name != Protobuf:
		return c, nil
	case p == nil:
		return c, fmt.Errorf("%w: %w", ErrConfig, conf.Errorf("codec", "codec protobuf needs protobuf.message and protobuf.proto_file or protobuf.descriptor_set"))
	}
	c.Protobuf = ProtobufConfig{
		File: p.String("proto_file"), DescriptorSet: p.String("descriptor_set"),
		Message: p.String("message"), ImportPaths: p.Strings("import_paths"),
	}
	if p.String("timestamp_unit") == "ns" {
		c.Protobuf.TimestampUnit = arrow.Nanosecond
	}
	// Load the message type now, so that a missing file or message is a
	// configuration error with its line, for sinks too (which build their
	// encoder only when opened).
	if _, err := c.Protobuf.messageDescriptor(); err != nil {
		return c, fmt.Errorf("%w: %w", ErrConfig, conf.Errorf("protobuf", "%s", strings.TrimPrefix(err.Error(), ErrConfig.Error()+": ")))
	}
	return c, nil
}

func (c Config) name() string {
	if c.Name == "" {
		return JSON
	}
	return c.Name
}

// avroSchemaText returns the Avro schema's JSON, reading the file if need be.
func (c Config) avroSchemaText() ([]byte, error) {
	switch {
	case c.AvroSchema != "":
		return []byte(c.AvroSchema), nil
	case c.AvroSchemaFile != "":
		b, err := os.ReadFile(c.AvroSchemaFile)
		if err != nil {
			return nil, fmt.Errorf("%w: avro schema file: %w", ErrConfig, err)
		}
		return b, nil
	}
	return nil, fmt.Errorf("%w: codec avro needs avro.schema or avro.schema_file to decode messages", ErrConfig)
}

// NewDecoder returns a decoder whose records are allocated from mem.
func NewDecoder(c Config, mem memory.Allocator) (Decoder, error) {
	limit := c.MaxRecordBytes
	if limit == 0 {
		limit = format.DefaultMaxRecordBytes
	}
	if err := checkRecordLimit(limit); err != nil {
		return nil, fmt.Errorf("%w: max_record_bytes %w", ErrConfig, err)
	}
	var dec Decoder
	var err error
	switch c.name() {
	case JSON:
		dec, err = newJSONDecoder(c.Schema, limit, mem)
	case Avro:
		var text []byte
		if text, err = c.avroSchemaText(); err == nil {
			dec, err = newAvroDecoder(text, c.AvroEncoding == AvroSingleObject, mem)
		}
	case Protobuf:
		dec, err = newProtoDecoder(&c.Protobuf, mem)
	default:
		err = fmt.Errorf("%w: unknown codec %q (json, avro, protobuf)", ErrConfig, c.Name)
	}
	if err != nil {
		return nil, err
	}
	return &limited{Decoder: dec, limit: limit}, nil
}

// NewEncoder returns an encoder for records of schema.
func NewEncoder(c Config, schema *arrow.Schema, mem memory.Allocator) (Encoder, error) {
	switch c.name() {
	case JSON:
		return newJSONEncoder(schema, mem)
	case Avro:
		if c.AvroSchema != "" || c.AvroSchemaFile != "" {
			return nil, fmt.Errorf("%w: an avro sink derives its Avro schema from the columns; remove avro.schema and avro.schema_file", ErrConfig)
		}
		return newAvroEncoder(schema, c.AvroEncoding == AvroSingleObject, mem)
	case Protobuf:
		return newProtoEncoder(&c.Protobuf, schema)
	}
	return nil, fmt.Errorf("%w: unknown codec %q (json, avro, protobuf)", ErrConfig, c.Name)
}
