package avro

import (
	"compress/flate"
	"encoding/json"
	"fmt"
	"io"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/dataweaver/dataweaver/format"
	hamba "github.com/hamba/avro/v2"
	"github.com/hamba/avro/v2/ocf"
)

// blockBytes is the uncompressed size at which a block is written: large
// enough for codecs to work well, small enough to bound memory and the
// data a reader must hold at once.
const blockBytes = 1 << 20

// NewWriter writes an Avro object container file. Columns become the
// fields of a record named "row"; nullable columns are ["null", T] unions.
// Names that are not valid Avro names get their other characters replaced
// by '_'. opts.Compression: "null" (default, also "none"), "deflate",
// "snappy", "zstd".
func NewWriter(w io.Writer, schema *arrow.Schema, opts format.WriteOptions) (format.Writer, error) {
	codec, err := codecFor(opts.Compression)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", opts.Name, err)
	}
	sb := &schemaBuilder{names: map[string]int{"row": 1}}
	fields := make([]any, schema.NumFields())
	for i, f := range schema.Fields() {
		t, err := sb.field(f, f.Name)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", opts.Name, err)
		}
		fields[i] = map[string]any{"name": avroName(f.Name), "type": t}
	}
	js, err := json.Marshal(map[string]any{"type": "record", "name": "row", "fields": fields})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", opts.Name, err)
	}
	as, err := hamba.ParseBytesWithCache(js, "", &hamba.SchemaCache{})
	if err != nil {
		return nil, fmt.Errorf("%s: Avro schema for %s: %w", opts.Name, schema, err)
	}
	// Hide an *os.File behind a plain io.Writer: ocf appends to a
	// non-empty *os.File instead of writing a new file, which would make
	// the result depend on what the file held before.
	encOpts := []ocf.EncoderFunc{ocf.WithCodec(codec)}
	if codec == ocf.Deflate {
		// Level 1: see BENCH_NOTES.md (4x the speed of the default level).
		encOpts = append(encOpts, ocf.WithCompressionLevel(flate.BestSpeed))
	}
	enc, err := ocf.NewEncoderWithSchema(as, struct{ io.Writer }{w},
		append(encOpts,
			ocf.WithBlockLength(0), // blocks are cut by size only
			ocf.WithBlockSize(blockBytes),
			// Keep logicalType and other attributes in the stored schema.
			ocf.WithSchemaMarshaler(ocf.FullSchemaMarshaler),
		)...)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", opts.Name, err)
	}
	return &writer{name: opts.Name, schema: schema, enc: enc}, nil
}

func codecFor(name string) (ocf.CodecName, error) {
	switch name {
	case "", "null", "none":
		return ocf.Null, nil
	case "deflate":
		return ocf.Deflate, nil
	case "snappy":
		return ocf.Snappy, nil
	case "zstd", "zstandard":
		return ocf.ZStandard, nil
	}
	return "", fmt.Errorf("avro compression %q is not one of null, deflate, snappy, zstd", name)
}

type writer struct {
	name   string
	schema *arrow.Schema
	enc    *ocf.Encoder
	buf    []byte
	rows   int64 // rows written, for error messages
}

func (w *writer) Write(rec arrow.RecordBatch) error {
	if !rec.Schema().Equal(w.schema) {
		return fmt.Errorf("%s: record schema does not match the writer's:\n%s\nwant\n%s", w.name, rec.Schema(), w.schema)
	}
	encs := make([]encodeFn, rec.NumCols())
	for i, col := range rec.Columns() {
		enc, err := newEncoder(col, w.schema.Field(i))
		if err != nil {
			return fmt.Errorf("%s: column %q: %w", w.name, w.schema.Field(i).Name, err)
		}
		encs[i] = enc
	}
	for row := 0; row < int(rec.NumRows()); row++ {
		buf := w.buf[:0]
		var err error
		for c, enc := range encs {
			if buf, err = enc(buf, row); err != nil {
				return fmt.Errorf("%s: row %d column %q: %w", w.name, w.rows+int64(row)+1, w.schema.Field(c).Name, err)
			}
		}
		w.buf = buf
		// ocf counts one record per Write call.
		if _, err := w.enc.Write(buf); err != nil {
			return fmt.Errorf("%s: %w", w.name, err)
		}
	}
	w.rows += rec.NumRows()
	return nil
}

// Flush writes the current block. An object container file is readable up
// to its last complete block, so flushed rows survive a crash.
func (w *writer) Flush() error {
	if err := w.enc.Flush(); err != nil {
		return fmt.Errorf("%s: %w", w.name, err)
	}
	return nil
}

func (w *writer) Close() error {
	if err := w.enc.Close(); err != nil {
		return fmt.Errorf("%s: %w", w.name, err)
	}
	return nil
}
