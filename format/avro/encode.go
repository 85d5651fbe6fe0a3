package avro

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"regexp"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
)

// encodeFn appends the Avro encoding of row i of its array to buf.
type encodeFn func(buf []byte, i int) ([]byte, error)

var invalidName = regexp.MustCompile(`[^A-Za-z0-9_]`)

// avroName makes an Arrow name a valid Avro name ([A-Za-z_][A-Za-z0-9_]*):
// other characters become '_'.
func avroName(s string) string {
	s = invalidName.ReplaceAllString(s, "_")
	if s == "" || (s[0] >= '0' && s[0] <= '9') {
		s = "_" + s
	}
	return s
}

// schemaBuilder turns Arrow types into Avro schema JSON values, naming
// records and fixeds after their path so names are unique.
type schemaBuilder struct{ names map[string]int }

func (sb *schemaBuilder) unique(path string) string {
	n := avroName(path)
	sb.names[n]++
	if c := sb.names[n]; c > 1 {
		n = fmt.Sprintf("%s_%d", n, c)
	}
	return n
}

// field returns the Avro type of an Arrow field: ["null", T] when nullable.
func (sb *schemaBuilder) field(f arrow.Field, path string) (any, error) {
	t, err := sb.typ(f.Type, f.Metadata, path)
	if err != nil {
		return nil, fmt.Errorf("column %q: %w", path, err)
	}
	if f.Nullable && f.Type.ID() != arrow.NULL && f.Type.ID() != arrow.DENSE_UNION {
		return []any{"null", t}, nil
	}
	return t, nil
}

func logical(base, lt string) map[string]any { return map[string]any{"type": base, "logicalType": lt} }

func (sb *schemaBuilder) typ(dt arrow.DataType, md arrow.Metadata, path string) (any, error) {
	switch dt := dt.(type) {
	case *arrow.NullType:
		return "null", nil
	case *arrow.BooleanType:
		return "boolean", nil
	case *arrow.Int8Type, *arrow.Int16Type, *arrow.Int32Type, *arrow.Uint8Type, *arrow.Uint16Type:
		return "int", nil
	case *arrow.Int64Type, *arrow.Uint32Type, *arrow.Uint64Type:
		return "long", nil
	case *arrow.Float32Type:
		return "float", nil
	case *arrow.Float64Type:
		return "double", nil
	case *arrow.StringType, *arrow.LargeStringType:
		if v, ok := md.GetValue(enumKey); ok {
			var e enumMeta
			if json.Unmarshal([]byte(v), &e) == nil && len(e.Symbols) > 0 {
				return map[string]any{"type": "enum", "name": sb.unique(path), "symbols": e.Symbols}, nil
			}
		}
		return "string", nil
	case *arrow.BinaryType, *arrow.LargeBinaryType:
		return "bytes", nil
	case *arrow.FixedSizeBinaryType:
		return map[string]any{"type": "fixed", "name": sb.unique(path), "size": dt.ByteWidth}, nil
	case *arrow.Date32Type:
		return logical("int", "date"), nil
	case *arrow.Time32Type:
		if dt.Unit == arrow.Millisecond {
			return logical("int", "time-millis"), nil
		}
	case *arrow.Time64Type:
		if dt.Unit == arrow.Microsecond {
			return logical("long", "time-micros"), nil
		}
	case *arrow.TimestampType:
		prefix := ""
		if dt.TimeZone == "" {
			prefix = "local-"
		}
		switch dt.Unit {
		case arrow.Second, arrow.Millisecond:
			return logical("long", prefix+"timestamp-millis"), nil
		case arrow.Microsecond, arrow.Nanosecond:
			return logical("long", prefix+"timestamp-micros"), nil
		}
	case *arrow.Decimal128Type:
		return map[string]any{"type": "bytes", "logicalType": "decimal", "precision": dt.Precision, "scale": dt.Scale}, nil
	case *arrow.ListType:
		items, err := sb.field(dt.ElemField(), path+"_item")
		return map[string]any{"type": "array", "items": items}, err
	case *arrow.LargeListType:
		items, err := sb.field(dt.ElemField(), path+"_item")
		return map[string]any{"type": "array", "items": items}, err
	case *arrow.MapType:
		if dt.KeyType().ID() != arrow.STRING {
			return nil, fmt.Errorf("map keys must be strings in Avro; %s keys are not supported", dt.KeyType())
		}
		values, err := sb.field(dt.ItemField(), path+"_value")
		return map[string]any{"type": "map", "values": values}, err
	case *arrow.StructType:
		fields := make([]any, dt.NumFields())
		for i, f := range dt.Fields() {
			t, err := sb.field(f, path+"_"+f.Name)
			if err != nil {
				return nil, err
			}
			fields[i] = map[string]any{"name": avroName(f.Name), "type": t}
		}
		return map[string]any{"type": "record", "name": sb.unique(path), "fields": fields}, nil
	case *arrow.DictionaryType:
		return sb.typ(dt.ValueType, md, path)
	case *arrow.DenseUnionType:
		branches := make([]any, dt.NumFields())
		for i, f := range dt.Fields() {
			t, err := sb.typ(f.Type, f.Metadata, path+"_"+f.Name)
			if err != nil {
				return nil, err
			}
			branches[i] = t
		}
		return branches, nil
	}
	return nil, fmt.Errorf("no Avro mapping for Arrow type %s", dt)
}

// newEncoder returns the encoder of one array written as field f: a
// nullable field is ["null", T] in the schema, an enum one by index.
func newEncoder(arr arrow.Array, f arrow.Field) (encodeFn, error) {
	enc, err := valueEncoder(arr)
	if v, ok := f.Metadata.GetValue(enumKey); ok && err == nil {
		var e enumMeta
		if json.Unmarshal([]byte(v), &e) == nil && len(e.Symbols) > 0 {
			enc, err = enumEncoder(arr, e.Symbols)
		}
	}
	if err != nil || !f.Nullable || arr.DataType().ID() == arrow.NULL || arr.DataType().ID() == arrow.DENSE_UNION {
		return enc, err
	}
	return func(buf []byte, i int) ([]byte, error) {
		if arr.IsNull(i) {
			return appendLong(buf, 0), nil
		}
		return enc(appendLong(buf, 1), i)
	}, nil
}

func appendLong(buf []byte, v int64) []byte { return binary.AppendVarint(buf, v) }

func appendBytes(buf, v []byte) []byte { return append(appendLong(buf, int64(len(v))), v...) }

func nonNull(arr arrow.Array, i int) error {
	if arr.IsNull(i) {
		return fmt.Errorf("row %d: null in a column the Avro schema says is not nullable", i)
	}
	return nil
}

func valueEncoder(arr arrow.Array) (encodeFn, error) {
	// ints share one path: every Arrow int maps to Avro int or long, both varints.
	intOf := func(get func(i int) int64) encodeFn {
		return func(buf []byte, i int) ([]byte, error) { return appendLong(buf, get(i)), nonNull(arr, i) }
	}
	switch a := arr.(type) {
	case *array.Null:
		return func(buf []byte, _ int) ([]byte, error) { return buf, nil }, nil
	case *array.Boolean:
		return func(buf []byte, i int) ([]byte, error) {
			b := byte(0)
			if a.Value(i) {
				b = 1
			}
			return append(buf, b), nonNull(arr, i)
		}, nil
	case *array.Int8:
		return intOf(func(i int) int64 { return int64(a.Value(i)) }), nil
	case *array.Int16:
		return intOf(func(i int) int64 { return int64(a.Value(i)) }), nil
	case *array.Int32:
		return intOf(func(i int) int64 { return int64(a.Value(i)) }), nil
	case *array.Int64:
		return intOf(a.Value), nil
	case *array.Uint8:
		return intOf(func(i int) int64 { return int64(a.Value(i)) }), nil
	case *array.Uint16:
		return intOf(func(i int) int64 { return int64(a.Value(i)) }), nil
	case *array.Uint32:
		return intOf(func(i int) int64 { return int64(a.Value(i)) }), nil
	case *array.Uint64:
		return func(buf []byte, i int) ([]byte, error) {
			v := a.Value(i)
			if v > math.MaxInt64 && a.IsValid(i) {
				return buf, fmt.Errorf("row %d: uint64 %d does not fit Avro long", i, v)
			}
			return appendLong(buf, int64(v)), nonNull(arr, i)
		}, nil
	case *array.Date32:
		return intOf(func(i int) int64 { return int64(a.Value(i)) }), nil
	case *array.Time32:
		return intOf(func(i int) int64 { return int64(a.Value(i)) }), nil
	case *array.Time64:
		return intOf(func(i int) int64 { return int64(a.Value(i)) }), nil
	case *array.Timestamp:
		unit := a.DataType().(*arrow.TimestampType).Unit
		return func(buf []byte, i int) ([]byte, error) {
			v := int64(a.Value(i))
			switch unit {
			case arrow.Second:
				if v > math.MaxInt64/1000 || v < math.MinInt64/1000 {
					return buf, fmt.Errorf("row %d: timestamp %ds overflows milliseconds", i, v)
				}
				v *= 1000
			case arrow.Nanosecond:
				if v%1000 != 0 && a.IsValid(i) {
					return buf, fmt.Errorf("row %d: timestamp %dns has sub-microsecond precision Avro cannot hold", i, v)
				}
				v /= 1000
			}
			return appendLong(buf, v), nonNull(arr, i)
		}, nil
	case *array.Float32:
		return func(buf []byte, i int) ([]byte, error) {
			return binary.LittleEndian.AppendUint32(buf, math.Float32bits(a.Value(i))), nonNull(arr, i)
		}, nil
	case *array.Float64:
		return func(buf []byte, i int) ([]byte, error) {
			return binary.LittleEndian.AppendUint64(buf, math.Float64bits(a.Value(i))), nonNull(arr, i)
		}, nil
	case *array.String:
		return stringEncoder(arr, a.Value)
	case *array.LargeString:
		return stringEncoder(arr, a.Value)
	case *array.Binary:
		return func(buf []byte, i int) ([]byte, error) { return appendBytes(buf, a.Value(i)), nonNull(arr, i) }, nil
	case *array.LargeBinary:
		return func(buf []byte, i int) ([]byte, error) { return appendBytes(buf, a.Value(i)), nonNull(arr, i) }, nil
	case *array.FixedSizeBinary:
		return func(buf []byte, i int) ([]byte, error) { return append(buf, a.Value(i)...), nonNull(arr, i) }, nil
	case *array.Decimal128:
		return func(buf []byte, i int) ([]byte, error) { return appendBytes(buf, decimalBytes(a, i)), nonNull(arr, i) }, nil
	case array.ListLike:
		return listEncoder(a)
	case *array.Struct:
		fields := make([]encodeFn, a.NumField())
		st := a.DataType().(*arrow.StructType)
		for f := range fields {
			enc, err := newEncoder(a.Field(f), st.Field(f))
			if err != nil {
				return nil, err
			}
			fields[f] = enc
		}
		return func(buf []byte, i int) ([]byte, error) {
			if err := nonNull(arr, i); err != nil {
				return buf, err
			}
			var err error
			for _, enc := range fields {
				if buf, err = enc(buf, i); err != nil {
					return buf, err
				}
			}
			return buf, nil
		}, nil
	case *array.Dictionary:
		values, err := valueEncoder(a.Dictionary())
		if err != nil {
			return nil, err
		}
		return func(buf []byte, i int) ([]byte, error) {
			if err := nonNull(arr, i); err != nil {
				return buf, err
			}
			return values(buf, a.GetValueIndex(i))
		}, nil
	case *array.DenseUnion:
		children := make([]encodeFn, a.NumFields())
		for c := range children {
			enc, err := valueEncoder(a.Field(c))
			if err != nil {
				return nil, err
			}
			children[c] = enc
		}
		codes := a.UnionType().ChildIDs()
		return func(buf []byte, i int) ([]byte, error) {
			child := codes[a.TypeCode(i)]
			return children[child](appendLong(buf, int64(child)), int(a.ValueOffset(i)))
		}, nil
	}
	return nil, fmt.Errorf("no Avro encoder for %s", arr.DataType())
}

func stringEncoder(arr arrow.Array, value func(int) string) (encodeFn, error) {
	return func(buf []byte, i int) ([]byte, error) {
		s := value(i)
		return append(appendLong(buf, int64(len(s))), s...), nonNull(arr, i)
	}, nil
}

// An enum column is written by symbol index.
func enumEncoder(arr arrow.Array, symbols []string) (encodeFn, error) {
	index := make(map[string]int64, len(symbols))
	for i, s := range symbols {
		index[s] = int64(i)
	}
	str, ok := arr.(interface{ Value(int) string })
	if !ok {
		return nil, fmt.Errorf("enum column of type %s", arr.DataType())
	}
	return func(buf []byte, i int) ([]byte, error) {
		if err := nonNull(arr, i); err != nil {
			return buf, err
		}
		idx, ok := index[str.Value(i)]
		if !ok {
			return buf, fmt.Errorf("row %d: %q is not one of the enum's symbols %s", i, str.Value(i), strings.Join(symbols, ", "))
		}
		return appendLong(buf, idx), nil
	}, nil
}

func listEncoder(a array.ListLike) (encodeFn, error) {
	var elem arrow.Field
	switch dt := a.DataType().(type) {
	case *arrow.ListType:
		elem = dt.ElemField()
	case *arrow.LargeListType:
		elem = dt.ElemField()
	case *arrow.MapType:
		return mapEncoder(a.(*array.Map))
	default:
		return nil, fmt.Errorf("no Avro encoder for %s", dt)
	}
	items, err := newEncoder(a.ListValues(), elem)
	if err != nil {
		return nil, err
	}
	return func(buf []byte, i int) ([]byte, error) {
		if err := nonNull(a, i); err != nil {
			return buf, err
		}
		start, end := a.ValueOffsets(i)
		if end > start {
			buf = appendLong(buf, end-start)
			for j := start; j < end; j++ {
				if buf, err = items(buf, int(j)); err != nil {
					return buf, err
				}
			}
		}
		return appendLong(buf, 0), nil
	}, nil
}

func mapEncoder(a *array.Map) (encodeFn, error) {
	keys, ok := a.Keys().(*array.String)
	if !ok {
		return nil, fmt.Errorf("map keys of type %s", a.Keys().DataType())
	}
	values, err := newEncoder(a.Items(), a.DataType().(*arrow.MapType).ItemField())
	if err != nil {
		return nil, err
	}
	return func(buf []byte, i int) ([]byte, error) {
		if err := nonNull(a, i); err != nil {
			return buf, err
		}
		start, end := a.ValueOffsets(i)
		if end > start {
			buf = appendLong(buf, end-start)
			for j := start; j < end; j++ {
				k := keys.Value(int(j))
				buf = append(appendLong(buf, int64(len(k))), k...)
				if buf, err = values(buf, int(j)); err != nil {
					return buf, err
				}
			}
		}
		return appendLong(buf, 0), nil
	}, nil
}

// decimalBytes is the minimal big-endian two's complement form of row i.
func decimalBytes(a *array.Decimal128, i int) []byte {
	v := a.Value(i)
	var b [16]byte
	binary.BigEndian.PutUint64(b[:8], uint64(v.HighBits()))
	binary.BigEndian.PutUint64(b[8:], v.LowBits())
	n := 0
	for n < 15 && ((b[n] == 0 && b[n+1]&0x80 == 0) || (b[n] == 0xff && b[n+1]&0x80 != 0)) {
		n++
	}
	return b[n:]
}
