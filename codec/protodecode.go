package codec

import (
	"errors"
	"fmt"
	"math"
	"unicode/utf8"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"google.golang.org/protobuf/encoding/protowire"

	"github.com/dataweaver/dataweaver/engine"
	"github.com/dataweaver/dataweaver/format"
)

// protoDecoder walks each message's wire bytes (protowire) straight into
// Arrow builders through a plan made once from the descriptor: no
// dynamicpb message, no reflection per row. Every message is walked twice:
// check validates it completely, then put appends it. Arrow builders
// cannot take back a value, so a message found bad half-way through must
// be found bad before its first value goes in.
type protoDecoder struct {
	schema *arrow.Schema
	top    *pmsg
	rb     *array.RecordBuilder
	unit   arrow.TimeUnit
}

func newProtoDecoder(p *ProtobufConfig, mem memory.Allocator) (*protoDecoder, error) {
	md, err := p.messageDescriptor()
	if err != nil {
		return nil, err
	}
	unit := protoUnit(p.TimestampUnit)
	schema, top, err := protoSchema(md, unit)
	if err != nil {
		return nil, err
	}
	d := &protoDecoder{schema: schema, top: top, rb: array.NewRecordBuilder(mem, schema), unit: unit}
	for i, f := range top.fields {
		bindBuilder(f, d.rb.Field(i))
	}
	return d, nil
}

func protoUnit(u arrow.TimeUnit) arrow.TimeUnit {
	if u == arrow.Nanosecond {
		return u
	}
	return arrow.Microsecond
}

// bindBuilder points f (and the fields below it) at its builder. The
// builders outlive every record: NewRecord empties them for the next.
func bindBuilder(f *pfield, b array.Builder) {
	f.b = b
	switch f.card {
	case repeated:
		f.elem = b.(*array.ListBuilder).ValueBuilder()
		if f.kind == pkMessage {
			bindStruct(f.msg, f.elem.(*array.StructBuilder))
		}
	case mapped:
		mb := b.(*array.MapBuilder)
		bindBuilder(f.msg.fields[0], mb.KeyBuilder())
		bindBuilder(f.msg.fields[1], mb.ItemBuilder())
	default:
		if f.kind == pkMessage {
			bindStruct(f.msg, b.(*array.StructBuilder))
		}
	}
}

func bindStruct(m *pmsg, sb *array.StructBuilder) {
	for i, f := range m.fields {
		bindBuilder(f, sb.FieldBuilder(i))
	}
}

func (d *protoDecoder) Schema() *arrow.Schema { return d.schema }

func (d *protoDecoder) Decode(msgs [][]byte) (arrow.RecordBatch, []engine.RowError, error) {
	var rejects []engine.RowError
	d.rb.Reserve(len(msgs))
	for i, m := range msgs {
		if err := d.check(d.top, m); err != nil {
			r := engine.RowError{Row: i, Raw: m, Err: fmt.Errorf("protobuf %s: %w", d.top.name, err)}
			var fe *fieldError
			if errors.As(err, &fe) {
				r.Column = fe.path
			}
			rejects = append(rejects, r)
			continue
		}
		d.put(d.top, m)
	}
	return d.rb.NewRecordBatch(), rejects, nil
}

// fieldError is a malformed value, with the dotted path of its field.
type fieldError struct {
	path string
	err  error
}

func (e *fieldError) Error() string { return "field " + e.path + ": " + e.err.Error() }
func (e *fieldError) Unwrap() error { return e.err }

func malformed(f *pfield, msg string, args ...any) error {
	return &fieldError{path: f.path, err: fmt.Errorf("%w: "+msg, append([]any{format.ErrMalformed}, args...)...)}
}

func wireError(what string, n int) error {
	return fmt.Errorf("%w: %s: %w", format.ErrMalformed, what, protowire.ParseError(n))
}

var (
	errSubMicro = errors.New("has sub-microsecond digits, which timestamp[us] and duration[us] cannot hold (set protobuf.timestamp_unit: ns to keep them)")
	errRange    = errors.New("is outside the range the protobuf type allows")
	errNsRange  = errors.New("is outside 1677-09-21..2262-04-11, the range of timestamp[ns] and duration[ns] (set protobuf.timestamp_unit: us)")
)

// reset forgets the values of the previous message.
func (m *pmsg) reset() {
	for _, f := range m.fields {
		f.seen = false
		f.chunks = f.chunks[:0]
	}
}

// set records f as present, which in a oneof unsets the others.
func (m *pmsg) set(f *pfield) {
	f.seen = true
	if f.oneof < 0 {
		return
	}
	for _, i := range m.oneofs[f.oneof] {
		if o := m.fields[i]; o != f {
			o.seen = false
			o.chunks = o.chunks[:0]
		}
	}
}

// value is a singular message field's bytes: its occurrences merge, which
// on the wire is their concatenation.
func (f *pfield) value() []byte {
	if len(f.chunks) == 1 {
		return f.chunks[0]
	}
	f.merged = f.merged[:0]
	for _, c := range f.chunks {
		f.merged = append(f.merged, c...)
	}
	return f.merged
}

// consumeTag reads a field's key, which protowire.ConsumeTag does not
// check against the largest field number.
func consumeTag(b []byte) (protowire.Number, protowire.Type, int, error) {
	num, wt, n := protowire.ConsumeTag(b)
	switch {
	case n < 0:
		return 0, 0, 0, fmt.Errorf("field key: %w", protowire.ParseError(n))
	case num > protowire.MaxValidNumber:
		return 0, 0, 0, fmt.Errorf("field number %d is above the largest, %d", num, protowire.MaxValidNumber)
	}
	return num, wt, n, nil
}

// wholeFields checks that b is a sequence of complete fields.
func wholeFields(b []byte) error {
	for len(b) > 0 {
		num, wt, n, err := consumeTag(b)
		if err != nil {
			return err
		}
		b = b[n:]
		if n = protowire.ConsumeFieldValue(num, wt, b); n < 0 {
			return protowire.ParseError(n)
		}
		b = b[n:]
	}
	return nil
}

// consume reads one value of kind k from b: its bits (varint and fixed
// kinds) or bytes (length-delimited kinds) and its length, negative on a
// wire error.
func consume(k protoKind, b []byte) (uint64, []byte, int) {
	switch k.wireType() {
	case protowire.VarintType:
		v, n := protowire.ConsumeVarint(b)
		return v, nil, n
	case protowire.Fixed32Type:
		v, n := protowire.ConsumeFixed32(b)
		return uint64(v), nil, n
	case protowire.Fixed64Type:
		v, n := protowire.ConsumeFixed64(b)
		return v, nil, n
	}
	v, n := protowire.ConsumeBytes(b)
	return 0, v, n
}

// check validates b as a message of type m, everything put relies on.
func (d *protoDecoder) check(m *pmsg, b []byte) error {
	m.reset()
	for len(b) > 0 {
		num, wt, n, err := consumeTag(b)
		if err != nil {
			return fmt.Errorf("%w: %w", format.ErrMalformed, err)
		}
		b = b[n:]
		f := m.field(num)
		if f == nil { // unknown: a newer writer's field
			if n = protowire.ConsumeFieldValue(num, wt, b); n < 0 {
				return wireError(fmt.Sprintf("unknown field %d", num), n)
			}
			b = b[n:]
			continue
		}
		if f.card == repeated && wt == protowire.BytesType && f.kind.packable() {
			packed, n := protowire.ConsumeBytes(b)
			if n < 0 {
				return malformed(f, "packed values: %v", protowire.ParseError(n))
			}
			b = b[n:]
			for len(packed) > 0 {
				_, _, k := consume(f.kind, packed)
				if k < 0 {
					return malformed(f, "packed values: %v", protowire.ParseError(k))
				}
				packed = packed[k:]
			}
			continue
		}
		if want := f.kind.wireType(); wt != want {
			return malformed(f, "wire type %d where the schema's %s needs %d (is the message of another type?)", wt, kindName(f.kind), want)
		}
		bits, raw, n := consume(f.kind, b)
		if n < 0 {
			return malformed(f, "%v", protowire.ParseError(n))
		}
		b = b[n:]
		switch {
		case f.card == mapped:
			if err := d.check(f.msg, raw); err != nil {
				return err
			}
		case f.card == repeated:
			if err := d.checkOne(f, f.kind, bits, raw); err != nil {
				return err
			}
		case f.kind.isMessage():
			f.chunks = append(f.chunks, raw)
			m.set(f)
		default:
			if err := d.checkOne(f, f.kind, bits, raw); err != nil {
				return err
			}
			m.set(f)
		}
	}
	for _, f := range m.fields {
		if f.required && !f.seen {
			return malformed(f, "required field missing")
		}
		if !f.seen || len(f.chunks) == 0 {
			continue
		}
		// Merging is concatenating only when each occurrence ends where
		// its fields do: one cut inside a field could be completed by the
		// next.
		for _, c := range f.chunks[:len(f.chunks)-1] {
			if err := wholeFields(c); err != nil {
				return malformed(f, "%v", err)
			}
		}
		if err := d.checkOne(f, f.kind, 0, f.value()); err != nil {
			return err
		}
	}
	return nil
}

// checkOne validates one value of kind k beyond its wire form.
func (d *protoDecoder) checkOne(f *pfield, k protoKind, bits uint64, raw []byte) error {
	switch k {
	case pkString:
		if !utf8.Valid(raw) {
			return malformed(f, "string is not valid UTF-8")
		}
	case pkMessage:
		return d.check(f.msg, raw)
	case pkTimestamp, pkDuration:
		secs, nanos, err := readTime(raw)
		if err != nil {
			return malformed(f, "%v", err)
		}
		if _, err := toUnit(k, secs, nanos, d.unit); err != nil {
			return malformed(f, "%s{seconds: %d, nanos: %d} %v", kindName(k), secs, nanos, err)
		}
	case pkWrapper, pkDecimal:
		inner := f.inner
		if k == pkDecimal {
			inner = pkString
		}
		bits, raw, err := readWrapped(inner, raw)
		if err != nil {
			return malformed(f, "%s: %v", kindName(k), err)
		}
		return d.checkOne(f, inner, bits, raw)
	}
	return nil
}

// readWrapped reads field 1 of a wrapper message (the last occurrence),
// the zero value when absent.
func readWrapped(k protoKind, b []byte) (bits uint64, raw []byte, err error) {
	for len(b) > 0 {
		num, wt, n, err := consumeTag(b)
		if err != nil {
			return 0, nil, err
		}
		b = b[n:]
		if num != 1 {
			if n = protowire.ConsumeFieldValue(num, wt, b); n < 0 {
				return 0, nil, protowire.ParseError(n)
			}
			b = b[n:]
			continue
		}
		if wt != k.wireType() {
			return 0, nil, fmt.Errorf("value has wire type %d, want %d", wt, k.wireType())
		}
		if bits, raw, n = consume(k, b); n < 0 {
			return 0, nil, protowire.ParseError(n)
		}
		b = b[n:]
	}
	return bits, raw, nil
}

// readTime reads a Timestamp's or Duration's seconds (1) and nanos (2).
func readTime(b []byte) (secs int64, nanos int32, err error) {
	for len(b) > 0 {
		num, wt, n, err := consumeTag(b)
		if err != nil {
			return 0, 0, err
		}
		b = b[n:]
		if (num == 1 || num == 2) && wt == protowire.VarintType {
			v, n := protowire.ConsumeVarint(b)
			if n < 0 {
				return 0, 0, protowire.ParseError(n)
			}
			b = b[n:]
			if num == 1 {
				secs = int64(v)
			} else {
				nanos = int32(v)
			}
			continue
		}
		if num == 1 || num == 2 {
			return 0, 0, fmt.Errorf("seconds or nanos with wire type %d", wt)
		}
		if n = protowire.ConsumeFieldValue(num, wt, b); n < 0 {
			return 0, 0, protowire.ParseError(n)
		}
		b = b[n:]
	}
	return secs, nanos, nil
}

// The ranges the well-known types' documentation sets.
const (
	minTimestamp = -62135596800 // 0001-01-01T00:00:00Z
	maxTimestamp = 253402300799 // 9999-12-31T23:59:59Z
	maxDuration  = 315576000000 // about 10,000 years
	maxNsSeconds = math.MaxInt64 / 1_000_000_000
)

// toUnit is a Timestamp's or Duration's value in unit, or why it has none.
func toUnit(k protoKind, secs int64, nanos int32, unit arrow.TimeUnit) (int64, error) {
	if k == pkTimestamp {
		if secs < minTimestamp || secs > maxTimestamp || nanos < 0 || nanos > 999_999_999 {
			return 0, errRange
		}
	} else if secs < -maxDuration || secs > maxDuration || nanos < -999_999_999 || nanos > 999_999_999 ||
		(secs > 0 && nanos < 0) || (secs < 0 && nanos > 0) {
		return 0, errRange
	}
	if unit == arrow.Microsecond {
		if nanos%1000 != 0 {
			return 0, errSubMicro
		}
		return secs*1e6 + int64(nanos/1000), nil
	}
	if secs < -maxNsSeconds || secs > maxNsSeconds {
		return 0, errNsRange
	}
	v := secs * 1e9
	if (secs == maxNsSeconds && int64(nanos) > math.MaxInt64-v) || (secs == -maxNsSeconds && int64(nanos) < math.MinInt64-v) {
		return 0, errNsRange
	}
	return v + int64(nanos), nil
}

var kindNames = [...]string{
	pkBool: "bool", pkInt32: "int32", pkSint32: "sint32", pkSfixed32: "sfixed32", pkInt64: "int64",
	pkSint64: "sint64", pkSfixed64: "sfixed64", pkUint32: "uint32", pkFixed32: "fixed32", pkUint64: "uint64",
	pkFixed64: "fixed64", pkFloat: "float", pkDouble: "double", pkString: "string", pkBytes: "bytes",
	pkEnum: "enum", pkMessage: "message", pkTimestamp: "google.protobuf.Timestamp",
	pkDuration: "google.protobuf.Duration", pkWrapper: "wrapper", pkDecimal: "google.type.Decimal",
}

func kindName(k protoKind) string { return kindNames[k] }

// put appends message b, which check accepted, to m's builders.
func (d *protoDecoder) put(m *pmsg, b []byte) {
	m.reset()
	for _, f := range m.fields {
		switch f.card {
		case repeated:
			f.b.(*array.ListBuilder).Append(true)
		case mapped:
			f.b.(*array.MapBuilder).Append(true)
		}
	}
	for len(b) > 0 {
		num, wt, n := protowire.ConsumeTag(b)
		if n < 0 {
			break // check saw to it that this cannot happen
		}
		b = b[n:]
		f := m.field(num)
		if f == nil {
			b = b[max(0, protowire.ConsumeFieldValue(num, wt, b)):]
			continue
		}
		if f.card == repeated && wt == protowire.BytesType && f.kind.packable() {
			packed, n := protowire.ConsumeBytes(b)
			b = b[max(0, n):]
			for len(packed) > 0 {
				bits, _, k := consume(f.kind, packed)
				if k < 0 {
					break
				}
				packed = packed[k:]
				d.putScalar(f.elem, f, f.kind, bits, nil)
			}
			continue
		}
		bits, raw, n := consume(f.kind, b)
		b = b[max(0, n):]
		switch {
		case f.card == mapped:
			d.put(f.msg, raw)
		case f.card == repeated:
			d.putOne(f.elem, f, f.kind, bits, raw)
		case f.kind.isMessage():
			f.chunks = append(f.chunks, raw)
			m.set(f)
		default:
			f.bits, f.raw = bits, raw
			m.set(f)
		}
	}
	for _, f := range m.fields {
		switch {
		case f.card != single:
		case !f.seen && f.nullable:
			f.b.AppendNull()
		case len(f.chunks) > 0:
			d.putOne(f.b, f, f.kind, 0, f.value())
		case !f.seen && f.kind.isMessage():
			// A message that cannot be null (a map value) is its defaults.
			d.putOne(f.b, f, f.kind, 0, nil)
		case !f.seen && f.kind == pkEnum:
			f.b.(*array.StringBuilder).Append(f.enum.zero)
		case !f.seen:
			d.putScalar(f.b, f, f.kind, 0, nil)
		default:
			d.putOne(f.b, f, f.kind, f.bits, f.raw)
		}
	}
}

// putOne appends one value of kind k to b.
func (d *protoDecoder) putOne(b array.Builder, f *pfield, k protoKind, bits uint64, raw []byte) {
	switch k {
	case pkMessage:
		b.(*array.StructBuilder).Append(true)
		d.put(f.msg, raw)
	case pkTimestamp, pkDuration:
		secs, nanos, _ := readTime(raw)
		v, _ := toUnit(k, secs, nanos, d.unit)
		if k == pkTimestamp {
			b.(*array.TimestampBuilder).Append(arrow.Timestamp(v))
		} else {
			b.(*array.DurationBuilder).Append(arrow.Duration(v))
		}
	case pkWrapper:
		bits, raw, _ := readWrapped(f.inner, raw)
		d.putScalar(b, f, f.inner, bits, raw)
	case pkDecimal:
		_, raw, _ := readWrapped(pkString, raw)
		d.putScalar(b, f, pkString, 0, raw)
	default:
		d.putScalar(b, f, k, bits, raw)
	}
}

// putScalar appends a scalar, converting as protobuf's runtimes do (an
// int32 varint is truncated to 32 bits, sint32 decoded from the low 32).
func (d *protoDecoder) putScalar(b array.Builder, f *pfield, k protoKind, bits uint64, raw []byte) {
	switch k {
	case pkBool:
		b.(*array.BooleanBuilder).Append(bits != 0)
	case pkInt32, pkSfixed32:
		b.(*array.Int32Builder).Append(int32(bits))
	case pkSint32:
		b.(*array.Int32Builder).Append(int32(protowire.DecodeZigZag(bits & math.MaxUint32)))
	case pkInt64, pkSfixed64:
		b.(*array.Int64Builder).Append(int64(bits))
	case pkSint64:
		b.(*array.Int64Builder).Append(protowire.DecodeZigZag(bits))
	case pkUint32, pkFixed32:
		b.(*array.Uint32Builder).Append(uint32(bits))
	case pkUint64, pkFixed64:
		b.(*array.Uint64Builder).Append(bits)
	case pkFloat:
		b.(*array.Float32Builder).Append(math.Float32frombits(uint32(bits)))
	case pkDouble:
		b.(*array.Float64Builder).Append(math.Float64frombits(bits))
	case pkString:
		b.(*array.StringBuilder).BinaryBuilder.Append(raw)
	case pkBytes:
		b.(*array.BinaryBuilder).Append(raw)
	case pkEnum:
		b.(*array.StringBuilder).Append(f.enum.name(int32(bits)))
	default:
		panic(fmt.Sprintf("codec: protobuf kind %d is not a scalar", k))
	}
}
