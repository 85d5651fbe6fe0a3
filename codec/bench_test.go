package codec

import (
	"bytes"
	"fmt"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/dynamicpb"

	"github.com/dataweaver/dataweaver/connectors/generate"
	"github.com/dataweaver/dataweaver/engine"
	"github.com/dataweaver/dataweaver/format"
	"github.com/dataweaver/dataweaver/format/avro"
)

// The benchmarks move batches of 1,000 rows of the orders table (the
// project's benchmark table: id, customer, email, country, amount, ts,
// note) through each codec, in one run so that the figures compare:
//
//	go test ./codec -run '^$' -bench 'Codec' -benchtime 2s -count 3
//
// "protobuf-dynamicpb" is the alternative the protobuf codec did not
// take: proto.Unmarshal into a dynamicpb message and protoreflect into the
// builders (and back), with the same Arrow output.
const benchBatch = 1000

var orderConf = protoConf("row.proto", "dw.test.v1.Order")

func benchConfigs() []struct {
	name string
	conf Config
} {
	return []struct {
		name string
		conf Config
	}{
		{"json", Config{Name: JSON, Schema: generate.OrdersSchema}},
		{"avro", Config{Name: Avro}},
		{"protobuf", orderConf},
	}
}

func BenchmarkCodecDecode(b *testing.B) {
	mem := memory.NewGoAllocator()
	rec := generate.Orders(mem, benchBatch, 1)
	defer rec.Release()
	for _, c := range benchConfigs() {
		enc, err := NewEncoder(c.conf, rec.Schema(), mem)
		if err != nil {
			b.Fatal(err)
		}
		msgs := encodeAll(b, enc, rec)
		if c.conf.Name == Avro { // the decoder needs the schema the encoder derived
			c.conf.AvroSchema = avroSchemaOf(b, rec.Schema())
		}
		dec, err := NewDecoder(c.conf, mem)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(c.name, func(b *testing.B) {
			benchDecode(b, dec, msgs)
		})
		if c.name == "protobuf" {
			dyn := newDynamicDecoder(b, c.conf, mem)
			// The alternative must produce the same rows to be a fair comparison.
			want, _, _ := dec.Decode(msgs)
			got, _, err := dyn.Decode(msgs)
			if err != nil || !array.RecordEqual(want, got) {
				b.Fatalf("the dynamicpb decoder disagrees (%v)", err)
			}
			want.Release()
			got.Release()
			b.Run("protobuf-dynamicpb", func(b *testing.B) { benchDecode(b, dyn, msgs) })
		}
	}
}

func benchDecode(b *testing.B, dec Decoder, msgs [][]byte) {
	var bytes int64
	for _, m := range msgs {
		bytes += int64(len(m))
	}
	b.SetBytes(bytes)
	b.ReportAllocs()
	start := time.Now()
	for range b.N {
		rec, rej, err := dec.Decode(msgs)
		if err != nil || len(rej) > 0 || rec.NumRows() != benchBatch {
			b.Fatalf("Decode: %v, %d rejects", err, len(rej))
		}
		rec.Release()
	}
	b.ReportMetric(float64(b.N*benchBatch)/time.Since(start).Seconds(), "rows/s")
}

func BenchmarkCodecEncode(b *testing.B) {
	mem := memory.NewGoAllocator()
	rec := generate.Orders(mem, benchBatch, 1)
	defer rec.Release()
	for _, c := range benchConfigs() {
		enc, err := NewEncoder(c.conf, rec.Schema(), mem)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(c.name, func(b *testing.B) { benchEncode(b, enc, rec) })
		if c.name == "protobuf" {
			b.Run("protobuf-dynamicpb", func(b *testing.B) { benchEncode(b, newDynamicEncoder(b, c.conf), rec) })
		}
	}
}

func benchEncode(b *testing.B, enc Encoder, rec arrow.RecordBatch) {
	b.ReportAllocs()
	start := time.Now()
	var bytes int64
	for range b.N {
		bytes = 0
		if err := enc.Encode(rec, func(_ int, m []byte) error { bytes += int64(len(m)); return nil }); err != nil {
			b.Fatal(err)
		}
	}
	b.SetBytes(bytes)
	b.ReportMetric(float64(b.N*int(rec.NumRows()))/time.Since(start).Seconds(), "rows/s")
}

// avroSchemaOf is the Avro schema the avro encoder writes for schema:
// format/avro's writer puts it in the container header.
func avroSchemaOf(b testing.TB, schema *arrow.Schema) string {
	var buf bytes.Buffer
	w, err := avro.NewWriter(&buf, schema, format.WriteOptions{Mem: memory.NewGoAllocator(), Name: "bench"})
	if err != nil {
		b.Fatal(err)
	}
	text, err := headerSchema(buf.Bytes())
	if err != nil {
		b.Fatal(err)
	}
	if err := w.Close(); err != nil {
		b.Fatal(err)
	}
	return string(text)
}

// dynamicDecoder decodes with protobuf-go: proto.Unmarshal into a reused
// dynamicpb message, then protoreflect into the builders. It handles the
// flat scalar and Timestamp fields of the orders table only.
type dynamicDecoder struct {
	md     protoreflect.MessageDescriptor
	schema *arrow.Schema
	rb     *array.RecordBuilder
	msg    *dynamicpb.Message
	fds    []protoreflect.FieldDescriptor
}

func newDynamicDecoder(b *testing.B, c Config, mem memory.Allocator) *dynamicDecoder {
	md := descriptorOf(b, c)
	schema, _, err := protoSchema(md, arrow.Microsecond)
	if err != nil {
		b.Fatal(err)
	}
	d := &dynamicDecoder{md: md, schema: schema, rb: array.NewRecordBuilder(mem, schema), msg: dynamicpb.NewMessage(md)}
	for _, f := range schema.Fields() {
		d.fds = append(d.fds, md.Fields().ByName(protoreflect.Name(f.Name)))
	}
	return d
}

func (d *dynamicDecoder) Schema() *arrow.Schema { return d.schema }

func (d *dynamicDecoder) Decode(msgs [][]byte) (arrow.RecordBatch, []engine.RowError, error) {
	for _, m := range msgs {
		d.msg.Reset()
		if err := proto.Unmarshal(m, d.msg); err != nil {
			return nil, nil, err
		}
		for i, fd := range d.fds {
			fb := d.rb.Field(i)
			if fd.HasPresence() && !d.msg.Has(fd) {
				fb.AppendNull()
				continue
			}
			v := d.msg.Get(fd)
			switch fb := fb.(type) {
			case *array.Int64Builder:
				fb.Append(v.Int())
			case *array.Float64Builder:
				fb.Append(v.Float())
			case *array.StringBuilder:
				fb.Append(v.String())
			case *array.TimestampBuilder:
				ts := v.Message()
				secs := ts.Get(ts.Descriptor().Fields().ByNumber(1)).Int()
				nanos := ts.Get(ts.Descriptor().Fields().ByNumber(2)).Int()
				fb.Append(arrow.Timestamp(secs*1e6 + nanos/1e3))
			default:
				return nil, nil, fmt.Errorf("dynamicDecoder: no case for %T", fb)
			}
		}
	}
	return d.rb.NewRecordBatch(), nil, nil
}

// dynamicEncoder is dynamicDecoder's counterpart: protoreflect from the
// arrays into a dynamicpb message, then proto.Marshal.
type dynamicEncoder struct {
	md  protoreflect.MessageDescriptor
	msg *dynamicpb.Message
	buf []byte
}

func newDynamicEncoder(b *testing.B, c Config) *dynamicEncoder {
	md := descriptorOf(b, c)
	return &dynamicEncoder{md: md, msg: dynamicpb.NewMessage(md)}
}

func (e *dynamicEncoder) Encode(rec arrow.RecordBatch, emit func(int, []byte) error) error {
	fds := make([]protoreflect.FieldDescriptor, rec.NumCols())
	for i, f := range rec.Schema().Fields() {
		fds[i] = e.md.Fields().ByName(protoreflect.Name(f.Name))
	}
	for row := range int(rec.NumRows()) {
		e.msg.Reset()
		for i, col := range rec.Columns() {
			if col.IsNull(row) {
				continue
			}
			fd := fds[i]
			switch a := col.(type) {
			case *array.Int64:
				e.msg.Set(fd, protoreflect.ValueOfInt64(a.Value(row)))
			case *array.Float64:
				e.msg.Set(fd, protoreflect.ValueOfFloat64(a.Value(row)))
			case *array.String:
				e.msg.Set(fd, protoreflect.ValueOfString(a.Value(row)))
			case *array.Timestamp:
				ts := e.msg.NewField(fd)
				tm := ts.Message()
				us := int64(a.Value(row))
				tm.Set(tm.Descriptor().Fields().ByNumber(1), protoreflect.ValueOfInt64(us/1e6))
				tm.Set(tm.Descriptor().Fields().ByNumber(2), protoreflect.ValueOfInt32(int32(us%1e6)*1000))
				e.msg.Set(fd, ts)
			default:
				return fmt.Errorf("dynamicEncoder: no case for %T", a)
			}
		}
		var err error
		if e.buf, err = (proto.MarshalOptions{}).MarshalAppend(e.buf[:0], e.msg); err != nil {
			return err
		}
		if err := emit(row, e.buf); err != nil {
			return err
		}
	}
	return nil
}
