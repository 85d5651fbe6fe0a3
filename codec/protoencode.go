package codec

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/dataweaver/dataweaver/engine"
)

// protoEncoder writes each row as a message of the configured type,
// appending wire bytes (protowire) straight from the Arrow arrays through
// a plan that matched columns to fields once. Columns are matched to
// fields by name, recursively through structs; fields without a column
// are left unset.
type protoEncoder struct {
	name protoreflect.FullName
	top  *encMsg
	buf  []byte
	ends []int
}

// encMsg is a message written from a record's columns or a struct's children.
type encMsg struct {
	fields []*encField   // in field-number order, as protobuf runtimes write them
	oneofs [][]*encField // oneofs with two or more members given: at most one may be non-null
}

// encField writes one field from a column.
type encField struct {
	f       *pfield
	col     int
	arr     arrow.Array
	offsets func(int) (int64, int64) // repeated and mapped: the row's range of values
	val     *encVal                  // single: reads arr; repeated: the list's values; mapped: the items
	key     *encVal                  // mapped: the keys
}

// encVal reads one kind of Arrow value and writes it as a protobuf kind.
type encVal struct {
	kind  protoKind // for a wrapper or google.type.Decimal: the wrapped kind
	wrap  bool      // write as a message holding the value in field 1
	enum  *penum
	path  string
	msg   *encMsg        // struct → message
	unit  arrow.TimeUnit // timestamps and durations
	scale int32          // decimal128 → text
	arr   arrow.Array

	// Readers for arr, one set per record by bind.
	i64 func(int) int64
	u64 func(int) uint64
	f64 func(int) float64
	bin func(int) []byte
	str func(int) string
}

func newProtoEncoder(p *ProtobufConfig, schema *arrow.Schema) (*protoEncoder, error) {
	md, err := p.messageDescriptor()
	if err != nil {
		return nil, err
	}
	_, top, err := protoSchema(md, protoUnit(p.TimestampUnit))
	if err != nil {
		return nil, err
	}
	m, err := encPlan(top, schema.Fields())
	if err != nil {
		return nil, fmt.Errorf("%w: protobuf message %s: %w", ErrConfig, md.FullName(), err)
	}
	return &protoEncoder{name: md.FullName(), top: m}, nil
}

func encPlan(m *pmsg, cols []arrow.Field) (*encMsg, error) {
	em := &encMsg{}
	taken := map[*pfield]bool{}
	for i, c := range cols {
		var f *pfield
		for _, mf := range m.fields {
			if mf.name == c.Name {
				f = mf
			}
		}
		if f == nil {
			names := make([]string, len(m.fields))
			for j, mf := range m.fields {
				names[j] = mf.name
			}
			return nil, fmt.Errorf("column %q: %s has no such field (it has %s); drop or rename the column", c.Name, m.name, strings.Join(names, ", "))
		}
		if taken[f] {
			return nil, fmt.Errorf("column %q: two columns for field %s", c.Name, f.path)
		}
		taken[f] = true
		ef, err := newEncField(f, i, c.Type)
		if err != nil {
			return nil, err
		}
		em.fields = append(em.fields, ef)
	}
	slices.SortFunc(em.fields, func(a, b *encField) int { return int(a.f.num) - int(b.f.num) })
	for _, group := range m.oneofs {
		var given []*encField
		for _, ef := range em.fields {
			if slices.Contains(group, int32(slices.Index(m.fields, ef.f))) {
				given = append(given, ef)
			}
		}
		if len(given) > 1 {
			em.oneofs = append(em.oneofs, given)
		}
	}
	return em, nil
}

func newEncField(f *pfield, col int, dt arrow.DataType) (*encField, error) {
	ef := &encField{f: f, col: col}
	var err error
	switch f.card {
	case single:
		ef.val, err = newEncVal(f, dt)
	case repeated:
		var elem arrow.DataType
		switch t := dt.(type) {
		case *arrow.ListType:
			elem = t.Elem()
		case *arrow.LargeListType:
			elem = t.Elem()
		default:
			return nil, fmt.Errorf("column %s: repeated field needs a list column, not %s", f.path, dt)
		}
		ef.val, err = newEncVal(f, elem)
	case mapped:
		mt, ok := dt.(*arrow.MapType)
		if !ok {
			return nil, fmt.Errorf("column %s: map field needs a map column, not %s", f.path, dt)
		}
		if ef.key, err = newEncVal(f.msg.fields[0], mt.KeyType()); err == nil {
			ef.val, err = newEncVal(f.msg.fields[1], mt.ItemType())
		}
	}
	return ef, err
}

// newEncVal checks that values of dt can be written as f's kind without
// changing them (an integer's range is checked per value).
func newEncVal(f *pfield, dt arrow.DataType) (*encVal, error) {
	v := &encVal{kind: f.kind, enum: f.enum, path: f.path}
	switch f.kind {
	case pkWrapper:
		v.kind, v.wrap = f.inner, true
	case pkDecimal:
		v.kind, v.wrap = pkString, true
	}
	ok := false
	id := dt.ID()
	switch v.kind {
	case pkBool:
		ok = id == arrow.BOOL
	case pkInt32, pkSint32, pkSfixed32, pkInt64, pkSint64, pkSfixed64, pkUint32, pkFixed32, pkUint64, pkFixed64:
		ok = arrow.IsInteger(id)
	case pkEnum:
		ok = arrow.IsInteger(id) || id == arrow.STRING || id == arrow.LARGE_STRING
	case pkFloat:
		ok = id == arrow.FLOAT32 // a float64 would lose digits
	case pkDouble:
		ok = id == arrow.FLOAT32 || id == arrow.FLOAT64
	case pkString:
		ok = id == arrow.STRING || id == arrow.LARGE_STRING || id == arrow.DECIMAL128
		if t, isDec := dt.(*arrow.Decimal128Type); isDec {
			v.scale = t.Scale
		}
	case pkBytes:
		ok = id == arrow.BINARY || id == arrow.LARGE_BINARY || id == arrow.FIXED_SIZE_BINARY || id == arrow.STRING || id == arrow.LARGE_STRING
	case pkTimestamp:
		if t, is := dt.(*arrow.TimestampType); is {
			ok, v.unit = true, t.Unit
		}
	case pkDuration:
		if t, is := dt.(*arrow.DurationType); is {
			ok, v.unit = true, t.Unit
		}
	case pkMessage:
		if t, is := dt.(*arrow.StructType); is {
			m, err := encPlan(f.msg, t.Fields())
			if err != nil {
				return nil, fmt.Errorf("column %s: %w", f.path, err)
			}
			ok, v.msg = true, m
		}
	}
	if !ok {
		return nil, fmt.Errorf("column %s: a %s column cannot be written to the %s field (see docs/types.md)", f.path, dt, kindName(f.kind))
	}
	return v, nil
}

// bind points the plan at a record's arrays.
func (m *encMsg) bind(cols []arrow.Array) {
	for _, ef := range m.fields {
		a := cols[ef.col]
		ef.arr = a
		switch ef.f.card {
		case single:
			ef.val.bind(a)
		case repeated:
			l := a.(array.ListLike)
			ef.offsets = l.ValueOffsets
			ef.val.bind(l.ListValues())
		case mapped:
			mp := a.(*array.Map)
			ef.offsets = mp.ValueOffsets
			ef.key.bind(mp.Keys())
			ef.val.bind(mp.Items())
		}
	}
}

func (v *encVal) bind(a arrow.Array) {
	v.arr = a
	switch a := a.(type) {
	case *array.Struct:
		cols := make([]arrow.Array, a.NumField())
		for i := range cols {
			cols[i] = a.Field(i)
		}
		v.msg.bind(cols)
	case *array.Int8:
		v.i64 = func(i int) int64 { return int64(a.Value(i)) }
	case *array.Int16:
		v.i64 = func(i int) int64 { return int64(a.Value(i)) }
	case *array.Int32:
		v.i64 = func(i int) int64 { return int64(a.Value(i)) }
	case *array.Int64:
		v.i64 = a.Value
	case *array.Uint8:
		v.u64 = func(i int) uint64 { return uint64(a.Value(i)) }
	case *array.Uint16:
		v.u64 = func(i int) uint64 { return uint64(a.Value(i)) }
	case *array.Uint32:
		v.u64 = func(i int) uint64 { return uint64(a.Value(i)) }
	case *array.Uint64:
		v.u64 = a.Value
	case *array.Float32:
		v.f64 = func(i int) float64 { return float64(a.Value(i)) }
	case *array.Float64:
		v.f64 = a.Value
	case *array.String:
		v.str = a.Value
	case *array.LargeString:
		v.str = a.Value
	case *array.Binary:
		v.bin = a.Value
	case *array.LargeBinary:
		v.bin = a.Value
	case *array.FixedSizeBinary:
		v.bin = a.Value
	case *array.Timestamp:
		v.i64 = func(i int) int64 { return int64(a.Value(i)) }
	case *array.Duration:
		v.i64 = func(i int) int64 { return int64(a.Value(i)) }
	case *array.Decimal128:
		v.str = func(i int) string { return decimalText(a.Value(i), v.scale) }
	}
}

// decimalText is n scaled down by scale, exactly ("-12.30" for -1230, 2).
func decimalText(n decimal128.Num, scale int32) string {
	digits := n.BigInt().String()
	neg := strings.HasPrefix(digits, "-")
	digits = strings.TrimPrefix(digits, "-")
	if scale > 0 {
		if pad := int(scale) + 1 - len(digits); pad > 0 {
			digits = strings.Repeat("0", pad) + digits
		}
		digits = digits[:len(digits)-int(scale)] + "." + digits[len(digits)-int(scale):]
	} else if scale < 0 && digits != "0" {
		digits += strings.Repeat("0", int(-scale))
	}
	if neg {
		return "-" + digits
	}
	return digits
}

func (e *protoEncoder) Encode(rec arrow.RecordBatch, emit func(int, []byte) error) error {
	e.top.bind(rec.Columns())
	// Encode the whole batch before emitting any of it: a value that
	// cannot be written fails the batch before a single message is sent.
	buf, ends := e.buf[:0], e.ends[:0]
	for row := range int(rec.NumRows()) {
		var err error
		if buf, err = e.message(buf, e.top, row); err != nil {
			return engine.Permanent(fmt.Errorf("codec protobuf: row %d as %s: %w", row, e.name, err))
		}
		ends = append(ends, len(buf))
	}
	e.buf, e.ends = buf, ends
	start := 0
	for row, end := range ends {
		if err := emit(row, buf[start:end]); err != nil {
			return err
		}
		start = end
	}
	return nil
}

func valueErr(path, msg string, args ...any) error {
	return fmt.Errorf("%w: column %s: "+msg, append([]any{ErrEncode, path}, args...)...)
}

func (e *protoEncoder) message(buf []byte, m *encMsg, i int) ([]byte, error) {
	for _, group := range m.oneofs {
		var set []string
		for _, ef := range group {
			if ef.arr.IsValid(i) {
				set = append(set, ef.f.name)
			}
		}
		if len(set) > 1 {
			return buf, valueErr(group[0].f.path, "oneof fields %s are all set; a message holds one", strings.Join(set, ", "))
		}
	}
	var err error
	for _, ef := range m.fields {
		if ef.arr.IsNull(i) {
			continue // absent: null for fields with presence, the default for the others
		}
		f := ef.f
		switch f.card {
		case single:
			buf, err = e.tagged(buf, f.num, ef.val, i, f.nullable || f.required)
		case repeated:
			buf, err = e.list(buf, ef, i)
		case mapped:
			start, end := ef.offsets(i)
			for j := int(start); j < int(end) && err == nil; j++ {
				if ef.val.arr.IsNull(j) {
					return buf, valueErr(f.path, "null map value (key %d of the row); protobuf maps cannot hold one", j-int(start))
				}
				buf = protowire.AppendTag(buf, f.num, protowire.BytesType)
				at := len(buf)
				buf = append(buf, 0)
				if buf, err = e.tagged(buf, 1, ef.key, j, true); err == nil {
					buf, err = e.tagged(buf, 2, ef.val, j, true)
				}
				buf = endLen(buf, at)
			}
		}
		if err != nil {
			return buf, err
		}
	}
	return buf, nil
}

func (e *protoEncoder) list(buf []byte, ef *encField, i int) ([]byte, error) {
	start, end := ef.offsets(i)
	if start == end {
		return buf, nil
	}
	v := ef.val
	for j := int(start); j < int(end); j++ {
		if v.arr.IsNull(j) {
			return buf, valueErr(ef.f.path, "null at list index %d; a repeated field cannot hold one", j-int(start))
		}
	}
	var err error
	if !ef.f.packed || !v.kind.packable() || v.wrap {
		for j := int(start); j < int(end) && err == nil; j++ {
			buf, err = e.tagged(buf, ef.f.num, v, j, true)
		}
		return buf, err
	}
	buf = protowire.AppendTag(buf, ef.f.num, protowire.BytesType)
	at := len(buf)
	buf = append(buf, 0)
	for j := int(start); j < int(end); j++ {
		bits, _, _, err := v.wire(j)
		if err != nil {
			return buf, err
		}
		buf = appendBits(buf, v.kind.wireType(), bits)
	}
	return endLen(buf, at), nil
}

// endLen writes the length of what follows the one byte reserved at at,
// moving it along when the length needs more than one byte.
func endLen(buf []byte, at int) []byte {
	n := len(buf) - at - 1
	if n < 0x80 {
		buf[at] = byte(n)
		return buf
	}
	sz := protowire.SizeVarint(uint64(n))
	var room [9]byte
	buf = append(buf, room[:sz-1]...)
	copy(buf[at+sz:], buf[at+1:at+1+n])
	protowire.AppendVarint(buf[at:at], uint64(n))
	return buf
}

func appendBits(buf []byte, wt protowire.Type, bits uint64) []byte {
	switch wt {
	case protowire.Fixed32Type:
		return protowire.AppendFixed32(buf, uint32(bits))
	case protowire.Fixed64Type:
		return protowire.AppendFixed64(buf, bits)
	}
	return protowire.AppendVarint(buf, bits)
}

// tagged writes value i as field num; zero scalars only when always
// (fields without presence leave them out, as protobuf runtimes do).
func (e *protoEncoder) tagged(buf []byte, num protowire.Number, v *encVal, i int, always bool) ([]byte, error) {
	switch {
	case v.msg != nil:
		buf = protowire.AppendTag(buf, num, protowire.BytesType)
		at := len(buf)
		buf, err := e.message(append(buf, 0), v.msg, i)
		return endLen(buf, at), err
	case v.kind == pkTimestamp || v.kind == pkDuration:
		secs, nanos, err := v.time(i)
		if err != nil {
			return buf, err
		}
		var body [22]byte // two tags and two varints
		b := body[:0]
		if secs != 0 {
			b = protowire.AppendVarint(protowire.AppendTag(b, 1, protowire.VarintType), uint64(secs))
		}
		if nanos != 0 {
			b = protowire.AppendVarint(protowire.AppendTag(b, 2, protowire.VarintType), uint64(int64(nanos)))
		}
		return protowire.AppendBytes(protowire.AppendTag(buf, num, protowire.BytesType), b), nil
	}
	bits, raw, s, err := v.wire(i)
	if err != nil {
		return buf, err
	}
	zero := bits == 0 && len(raw) == 0 && len(s) == 0
	if v.wrap {
		buf = protowire.AppendTag(buf, num, protowire.BytesType)
		at := len(buf)
		buf = append(buf, 0)
		if !zero {
			buf = appendWire(buf, 1, v.kind.wireType(), bits, raw, s)
		}
		return endLen(buf, at), nil
	}
	if zero && !always {
		return buf, nil
	}
	return appendWire(buf, num, v.kind.wireType(), bits, raw, s), nil
}

func appendWire(buf []byte, num protowire.Number, wt protowire.Type, bits uint64, raw []byte, s string) []byte {
	buf = protowire.AppendTag(buf, num, wt)
	switch {
	case wt != protowire.BytesType:
		return appendBits(buf, wt, bits)
	case raw != nil:
		return protowire.AppendBytes(buf, raw)
	}
	return protowire.AppendString(buf, s)
}

// wire is scalar value i as the wire holds it: bits for varint and fixed
// kinds, bytes or a string for the length-delimited ones.
func (v *encVal) wire(i int) (bits uint64, raw []byte, s string, err error) {
	switch v.kind {
	case pkBool:
		if v.arr.(*array.Boolean).Value(i) {
			bits = 1
		}
	case pkInt32, pkSfixed32:
		x, err := v.signed(i, math.MinInt32, math.MaxInt32)
		if v.kind == pkSfixed32 {
			return uint64(uint32(x)), nil, "", err
		}
		return uint64(x), nil, "", err
	case pkSint32, pkSint64:
		lo, hi := int64(math.MinInt32), int64(math.MaxInt32)
		if v.kind == pkSint64 {
			lo, hi = math.MinInt64, math.MaxInt64
		}
		x, err := v.signed(i, lo, hi)
		return protowire.EncodeZigZag(x), nil, "", err
	case pkInt64, pkSfixed64:
		x, err := v.signed(i, math.MinInt64, math.MaxInt64)
		return uint64(x), nil, "", err
	case pkUint32, pkFixed32:
		return v.unsigned(i, math.MaxUint32)
	case pkUint64, pkFixed64:
		return v.unsigned(i, math.MaxUint64)
	case pkFloat:
		bits = uint64(math.Float32bits(float32(v.f64(i))))
	case pkDouble:
		bits = math.Float64bits(v.f64(i))
	case pkString:
		s = v.str(i)
	case pkBytes:
		if v.bin != nil {
			raw = v.bin(i)
			if raw == nil {
				raw = []byte{}
			}
		} else {
			s = v.str(i)
		}
	case pkEnum:
		if v.str == nil {
			x, err := v.signed(i, math.MinInt32, math.MaxInt32)
			return uint64(x), nil, "", err
		}
		name := v.str(i)
		n, ok := v.enum.nums[name]
		if !ok {
			x, perr := strconv.ParseInt(name, 10, 32)
			if perr != nil {
				return 0, nil, "", valueErr(v.path, "%q is not a value of the enum", name)
			}
			n = int32(x)
		}
		bits = uint64(int64(n))
	}
	return bits, raw, s, nil
}

func (v *encVal) signed(i int, lo, hi int64) (int64, error) {
	if v.u64 != nil {
		u := v.u64(i)
		if u > uint64(hi) {
			return 0, valueErr(v.path, "%d is out of the field's range", u)
		}
		return int64(u), nil
	}
	x := v.i64(i)
	if x < lo || x > hi {
		return 0, valueErr(v.path, "%d is out of the field's range", x)
	}
	return x, nil
}

func (v *encVal) unsigned(i int, hi uint64) (uint64, []byte, string, error) {
	var u uint64
	if v.u64 != nil {
		u = v.u64(i)
	} else {
		x := v.i64(i)
		if x < 0 {
			return 0, nil, "", valueErr(v.path, "%d is negative; the field is unsigned", x)
		}
		u = uint64(x)
	}
	if u > hi {
		return 0, nil, "", valueErr(v.path, "%d is out of the field's range", u)
	}
	return u, nil, "", nil
}

// time splits timestamp or duration i into seconds and nanos, both with
// the value's sign for durations and nanos in 0..999,999,999 for
// timestamps, as the well-known types require.
func (v *encVal) time(i int) (int64, int32, error) {
	x := v.i64(i)
	per := int64(1)
	switch v.unit {
	case arrow.Millisecond:
		per = 1e3
	case arrow.Microsecond:
		per = 1e6
	case arrow.Nanosecond:
		per = 1e9
	}
	secs, rem := x/per, x%per
	if v.kind == pkTimestamp && rem < 0 {
		secs, rem = secs-1, rem+per
	}
	nanos := int32(rem * (1e9 / per))
	if v.kind == pkTimestamp && (secs < minTimestamp || secs > maxTimestamp) {
		return 0, 0, valueErr(v.path, "%s is outside 0001-01-01..9999-12-31, the range of google.protobuf.Timestamp",
			arrow.Timestamp(x).ToTime(v.unit).Format("2006-01-02T15:04:05Z07:00"))
	}
	if v.kind == pkDuration && (secs < -maxDuration || secs > maxDuration) {
		return 0, 0, valueErr(v.path, "%d s is outside ±10,000 years, the range of google.protobuf.Duration", secs)
	}
	return secs, nanos, nil
}
