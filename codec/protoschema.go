package codec

import (
	"fmt"
	"strconv"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// protoKind is what the codec does with one protobuf value: its wire form
// and its Arrow type.
type protoKind uint8

const (
	pkBool protoKind = iota
	pkInt32
	pkSint32
	pkSfixed32
	pkInt64
	pkSint64
	pkSfixed64
	pkUint32
	pkFixed32
	pkUint64
	pkFixed64
	pkFloat
	pkDouble
	pkString
	pkBytes
	pkEnum
	pkMessage   // a nested message: struct
	pkTimestamp // google.protobuf.Timestamp: timestamp[unit, UTC]
	pkDuration  // google.protobuf.Duration: duration[unit]
	pkWrapper   // google.protobuf.*Value: the wrapped scalar, null when absent
	pkDecimal   // google.type.Decimal: utf8, its decimal text
)

// wireType is the wire type of one value of kind k (not packed).
func (k protoKind) wireType() protowire.Type {
	switch k {
	case pkSfixed32, pkFixed32, pkFloat:
		return protowire.Fixed32Type
	case pkSfixed64, pkFixed64, pkDouble:
		return protowire.Fixed64Type
	case pkString, pkBytes, pkMessage, pkTimestamp, pkDuration, pkWrapper, pkDecimal:
		return protowire.BytesType
	}
	return protowire.VarintType
}

// isMessage: the kind is a message on the wire (nested, well-known or wrapper).
func (k protoKind) isMessage() bool { return k >= pkMessage }

// packable kinds may come packed in one length-delimited record when repeated.
func (k protoKind) packable() bool { return k.wireType() != protowire.BytesType }

// wrapped is the kind of google.protobuf.*Value's value field.
var wrapped = map[protoreflect.FullName]protoKind{
	"google.protobuf.DoubleValue": pkDouble,
	"google.protobuf.FloatValue":  pkFloat,
	"google.protobuf.Int64Value":  pkInt64,
	"google.protobuf.UInt64Value": pkUint64,
	"google.protobuf.Int32Value":  pkInt32,
	"google.protobuf.UInt32Value": pkUint32,
	"google.protobuf.BoolValue":   pkBool,
	"google.protobuf.StringValue": pkString,
	"google.protobuf.BytesValue":  pkBytes,
}

func isWrapper(name protoreflect.FullName) bool { _, ok := wrapped[name]; return ok }

type cardinality uint8

const (
	single cardinality = iota
	repeated
	mapped
)

// pfield is one field of a message type, with what the decoder and the
// encoder need to move its values; a tree of them (pmsg) is built once per
// decoder or encoder, so no row looks at a descriptor.
type pfield struct {
	num      protowire.Number
	name     string
	path     string // dotted from the top message, for errors
	kind     protoKind
	card     cardinality
	nullable bool // has presence: absent is null
	required bool // proto2 required: absent is a malformed message
	packed   bool // encode repeated scalars packed
	inner    protoKind
	msg      *pmsg  // pkMessage: the nested type; mapped: the entry (key 1, value 2)
	enum     *penum // pkEnum
	oneof    int    // index in the message's oneofs, or -1
	typ      arrow.DataType

	// Decoder state: the builder values go to (a list or map builder's for
	// repeated and mapped fields) and the value last seen in the message
	// being decoded (protobuf: the last occurrence of a field wins, and
	// occurrences of a message field merge).
	b      array.Builder
	elem   array.Builder // repeated: the list's value builder
	seen   bool
	bits   uint64
	raw    []byte
	chunks [][]byte
	merged []byte
}

type pmsg struct {
	name   protoreflect.FullName
	fields []*pfield // in declaration order: the columns' order
	byNum  []int32   // index in fields by field number (-1: unknown); numbers beyond it go through sparse
	sparse map[protowire.Number]int32
	oneofs [][]int32
}

// maxDense bounds the by-number index: larger numbers (rare, up to 2^29)
// go through a map.
const maxDense = 1024

func (m *pmsg) field(num protowire.Number) *pfield {
	if int(num) < len(m.byNum) {
		if i := m.byNum[num]; i >= 0 {
			return m.fields[i]
		}
		return nil
	}
	if i, ok := m.sparse[num]; ok {
		return m.fields[i]
	}
	return nil
}

// penum maps an enum's numbers to names and back.
type penum struct {
	names map[int32]string
	nums  map[string]int32
	zero  string // the name of the default value (the first one declared)
}

func newPenum(ed protoreflect.EnumDescriptor) *penum {
	e := &penum{names: map[int32]string{}, nums: map[string]int32{}}
	vals := ed.Values()
	for i := vals.Len() - 1; i >= 0; i-- { // the first of aliased names wins
		v := vals.Get(i)
		e.names[int32(v.Number())] = string(v.Name())
		e.nums[string(v.Name())] = int32(v.Number())
	}
	e.zero = e.name(0)
	if vals.Len() > 0 && ed.IsClosed() {
		e.zero = string(vals.Get(0).Name())
	}
	return e
}

// name is the enum value's name, or its number as text when the enum has
// no such value (an open enum, or a newer writer's schema).
func (e *penum) name(n int32) string {
	if s, ok := e.names[n]; ok {
		return s
	}
	return strconv.Itoa(int(n))
}

// protoSchema is the Arrow schema of a message type, with the plan to
// decode or encode it.
func protoSchema(md protoreflect.MessageDescriptor, unit arrow.TimeUnit) (*arrow.Schema, *pmsg, error) {
	b := planner{unit: unit, active: map[protoreflect.FullName]bool{}}
	m, fields, err := b.message(md, "")
	if err != nil {
		return nil, nil, fmt.Errorf("%w: protobuf message %s: %w", ErrConfig, md.FullName(), err)
	}
	return arrow.NewSchema(fields, nil), m, nil
}

type planner struct {
	unit   arrow.TimeUnit
	active map[protoreflect.FullName]bool // messages being planned: a repeat is recursion
}

func (p *planner) message(md protoreflect.MessageDescriptor, path string) (*pmsg, []arrow.Field, error) {
	if p.active[md.FullName()] {
		return nil, nil, fmt.Errorf("%s: message %s contains itself, which Arrow cannot represent", orTop(path), md.FullName())
	}
	p.active[md.FullName()] = true
	defer delete(p.active, md.FullName())
	m := &pmsg{name: md.FullName()}
	fds := md.Fields()
	oneofAt := map[protoreflect.FullName]int{}
	var fields []arrow.Field
	for i := range fds.Len() {
		fd := fds.Get(i)
		f, err := p.field(fd, join(path, string(fd.Name())))
		if err != nil {
			return nil, nil, err
		}
		f.oneof = -1
		if od := fd.ContainingOneof(); od != nil && !od.IsSynthetic() {
			at, ok := oneofAt[od.FullName()]
			if !ok {
				at = len(m.oneofs)
				oneofAt[od.FullName()] = at
				m.oneofs = append(m.oneofs, nil)
			}
			f.oneof = at
			m.oneofs[at] = append(m.oneofs[at], int32(len(m.fields)))
		}
		m.fields = append(m.fields, f)
		fields = append(fields, arrow.Field{Name: f.name, Type: f.typ, Nullable: f.nullable})
	}
	m.index()
	return m, fields, nil
}

func (m *pmsg) index() {
	maxNum := 0
	for _, f := range m.fields {
		if int(f.num) < maxDense {
			maxNum = max(maxNum, int(f.num))
		}
	}
	m.byNum = make([]int32, maxNum+1)
	for i := range m.byNum {
		m.byNum[i] = -1
	}
	for i, f := range m.fields {
		if int(f.num) < maxDense {
			m.byNum[f.num] = int32(i)
		} else {
			if m.sparse == nil {
				m.sparse = map[protowire.Number]int32{}
			}
			m.sparse[f.num] = int32(i)
		}
	}
}

func join(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}

func orTop(path string) string {
	if path == "" {
		return "the message"
	}
	return "field " + path
}

func (p *planner) field(fd protoreflect.FieldDescriptor, path string) (*pfield, error) {
	f := &pfield{num: fd.Number(), name: string(fd.Name()), path: path, packed: fd.IsPacked()}
	switch {
	case fd.IsMap():
		f.card, f.kind = mapped, pkMessage
		entry, _, err := p.message(fd.Message(), path)
		if err != nil {
			return nil, err
		}
		// A map entry's key and value are never null: an absent one is
		// its type's default, as in every protobuf runtime.
		for _, ef := range entry.fields {
			ef.nullable = false
		}
		f.msg = entry
		mt := arrow.MapOf(entry.fields[0].typ, entry.fields[1].typ)
		mt.SetItemNullable(false)
		f.typ = mt
		return f, nil
	case fd.IsList():
		f.card = repeated
	default:
		f.nullable = fd.HasPresence() && fd.Cardinality() != protoreflect.Required
		f.required = fd.Cardinality() == protoreflect.Required
	}
	elem, err := p.valueType(f, fd, path)
	if err != nil {
		return nil, err
	}
	f.typ = elem
	if f.card == repeated {
		f.typ = arrow.ListOfField(arrow.Field{Name: "item", Type: elem})
	}
	return f, nil
}

// valueType sets f's kind from fd's type and returns the Arrow type of one value.
func (p *planner) valueType(f *pfield, fd protoreflect.FieldDescriptor, path string) (arrow.DataType, error) {
	switch fd.Kind() {
	case protoreflect.BoolKind:
		f.kind = pkBool
	case protoreflect.Int32Kind:
		f.kind = pkInt32
	case protoreflect.Sint32Kind:
		f.kind = pkSint32
	case protoreflect.Sfixed32Kind:
		f.kind = pkSfixed32
	case protoreflect.Int64Kind:
		f.kind = pkInt64
	case protoreflect.Sint64Kind:
		f.kind = pkSint64
	case protoreflect.Sfixed64Kind:
		f.kind = pkSfixed64
	case protoreflect.Uint32Kind:
		f.kind = pkUint32
	case protoreflect.Fixed32Kind:
		f.kind = pkFixed32
	case protoreflect.Uint64Kind:
		f.kind = pkUint64
	case protoreflect.Fixed64Kind:
		f.kind = pkFixed64
	case protoreflect.FloatKind:
		f.kind = pkFloat
	case protoreflect.DoubleKind:
		f.kind = pkDouble
	case protoreflect.StringKind:
		f.kind = pkString
	case protoreflect.BytesKind:
		f.kind = pkBytes
	case protoreflect.EnumKind:
		f.kind, f.enum = pkEnum, newPenum(fd.Enum())
	case protoreflect.MessageKind:
		return p.messageValue(f, fd.Message(), path)
	default: // groups
		return nil, fmt.Errorf("field %s: %s fields are not supported (use a nested message)", path, fd.Kind())
	}
	return scalarType(f.kind), nil
}

func (p *planner) messageValue(f *pfield, md protoreflect.MessageDescriptor, path string) (arrow.DataType, error) {
	name := md.FullName()
	switch {
	case name == "google.protobuf.Timestamp":
		f.kind = pkTimestamp
		return &arrow.TimestampType{Unit: p.unit, TimeZone: "UTC"}, nil
	case name == "google.protobuf.Duration":
		f.kind = pkDuration
		return &arrow.DurationType{Unit: p.unit}, nil
	case isWrapper(name):
		f.kind, f.inner = pkWrapper, wrapped[name]
		return scalarType(f.inner), nil
	case name == "google.type.Decimal" && isDecimalShape(md):
		f.kind = pkDecimal
		return arrow.BinaryTypes.String, nil
	}
	f.kind = pkMessage
	m, fields, err := p.message(md, path)
	if err != nil {
		return nil, err
	}
	f.msg = m
	return arrow.StructOf(fields...), nil
}

// isDecimalShape checks google.type.Decimal is the googleapis one:
// string value = 1.
func isDecimalShape(md protoreflect.MessageDescriptor) bool {
	v := md.Fields().ByNumber(1)
	return md.Fields().Len() == 1 && v != nil && v.Kind() == protoreflect.StringKind && !v.IsList()
}

func scalarType(k protoKind) arrow.DataType {
	switch k {
	case pkBool:
		return arrow.FixedWidthTypes.Boolean
	case pkInt32, pkSint32, pkSfixed32:
		return arrow.PrimitiveTypes.Int32
	case pkInt64, pkSint64, pkSfixed64:
		return arrow.PrimitiveTypes.Int64
	case pkUint32, pkFixed32:
		return arrow.PrimitiveTypes.Uint32
	case pkUint64, pkFixed64:
		return arrow.PrimitiveTypes.Uint64
	case pkFloat:
		return arrow.PrimitiveTypes.Float32
	case pkDouble:
		return arrow.PrimitiveTypes.Float64
	case pkString, pkEnum, pkDecimal:
		return arrow.BinaryTypes.String
	case pkBytes:
		return arrow.BinaryTypes.Binary
	}
	panic(fmt.Sprintf("codec: no scalar Arrow type for protobuf kind %d", k))
}
