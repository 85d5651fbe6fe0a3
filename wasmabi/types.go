package wasmabi

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
)

// Type codes of column descriptors (ABI.md).
const (
	codeBool       = 1
	codeInt8       = 2
	codeInt16      = 3
	codeInt32      = 4
	codeInt64      = 5
	codeUint8      = 6
	codeUint16     = 7
	codeUint32     = 8
	codeUint64     = 9
	codeFloat32    = 10
	codeFloat64    = 11
	codeUTF8       = 12
	codeBinary     = 13
	codeLargeUTF8  = 14
	codeLargeBin   = 15
	codeDate32     = 16
	codeTimestamp  = 17
	codeDecimal128 = 18
)

// layout is how a type code's buffers look.
type layout struct {
	width   int  // bytes per value; 0 for bool (bits) and var-width
	offsets int  // bytes per offset; 0 for fixed-width
	utf8    bool // values must be valid UTF-8
}

func layoutOf(code uint8) (layout, bool) {
	switch code {
	case codeBool:
		return layout{}, true
	case codeInt8, codeUint8:
		return layout{width: 1}, true
	case codeInt16, codeUint16:
		return layout{width: 2}, true
	case codeInt32, codeUint32, codeFloat32, codeDate32:
		return layout{width: 4}, true
	case codeInt64, codeUint64, codeFloat64, codeTimestamp:
		return layout{width: 8}, true
	case codeDecimal128:
		return layout{width: 16}, true
	case codeUTF8:
		return layout{offsets: 4, utf8: true}, true
	case codeBinary:
		return layout{offsets: 4}, true
	case codeLargeUTF8:
		return layout{offsets: 8, utf8: true}, true
	case codeLargeBin:
		return layout{offsets: 8}, true
	}
	return layout{}, false
}

// typeName gives the ABI name and code of an Arrow type. Dictionary types
// are named by their value type: the host decodes them at the boundary.
func typeName(dt arrow.DataType) (string, uint8, error) {
	if d, ok := dt.(*arrow.DictionaryType); ok {
		return typeName(d.ValueType)
	}
	switch t := dt.(type) {
	case *arrow.BooleanType:
		return "bool", codeBool, nil
	case *arrow.Int8Type:
		return "int8", codeInt8, nil
	case *arrow.Int16Type:
		return "int16", codeInt16, nil
	case *arrow.Int32Type:
		return "int32", codeInt32, nil
	case *arrow.Int64Type:
		return "int64", codeInt64, nil
	case *arrow.Uint8Type:
		return "uint8", codeUint8, nil
	case *arrow.Uint16Type:
		return "uint16", codeUint16, nil
	case *arrow.Uint32Type:
		return "uint32", codeUint32, nil
	case *arrow.Uint64Type:
		return "uint64", codeUint64, nil
	case *arrow.Float32Type:
		return "float32", codeFloat32, nil
	case *arrow.Float64Type:
		return "float64", codeFloat64, nil
	case *arrow.StringType:
		return "utf8", codeUTF8, nil
	case *arrow.BinaryType:
		return "binary", codeBinary, nil
	case *arrow.LargeStringType:
		return "large_utf8", codeLargeUTF8, nil
	case *arrow.LargeBinaryType:
		return "large_binary", codeLargeBin, nil
	case *arrow.Date32Type:
		return "date32", codeDate32, nil
	case *arrow.TimestampType:
		if t.TimeZone != "" {
			return fmt.Sprintf("timestamp[%s,%s]", t.Unit, t.TimeZone), codeTimestamp, nil
		}
		return fmt.Sprintf("timestamp[%s]", t.Unit), codeTimestamp, nil
	case *arrow.Decimal128Type:
		return fmt.Sprintf("decimal128(%d,%d)", t.Precision, t.Scale), codeDecimal128, nil
	case *arrow.ListType, *arrow.StructType, *arrow.MapType:
		return nestedTypeName(dt, 0) // ABI v2 (nested_types.go)
	}
	return "", 0, fmt.Errorf("type %s is not in ABI v1", dt)
}

// parseType is typeName's inverse, for the types a guest declares.
func parseType(name string) (arrow.DataType, uint8, error) {
	simple := map[string]struct {
		dt   arrow.DataType
		code uint8
	}{
		"bool": {arrow.FixedWidthTypes.Boolean, codeBool}, "int8": {arrow.PrimitiveTypes.Int8, codeInt8},
		"int16": {arrow.PrimitiveTypes.Int16, codeInt16}, "int32": {arrow.PrimitiveTypes.Int32, codeInt32},
		"int64": {arrow.PrimitiveTypes.Int64, codeInt64}, "uint8": {arrow.PrimitiveTypes.Uint8, codeUint8},
		"uint16": {arrow.PrimitiveTypes.Uint16, codeUint16}, "uint32": {arrow.PrimitiveTypes.Uint32, codeUint32},
		"uint64": {arrow.PrimitiveTypes.Uint64, codeUint64}, "float32": {arrow.PrimitiveTypes.Float32, codeFloat32},
		"float64": {arrow.PrimitiveTypes.Float64, codeFloat64}, "utf8": {arrow.BinaryTypes.String, codeUTF8},
		"binary": {arrow.BinaryTypes.Binary, codeBinary}, "large_utf8": {arrow.BinaryTypes.LargeString, codeLargeUTF8},
		"large_binary": {arrow.BinaryTypes.LargeBinary, codeLargeBin}, "date32": {arrow.FixedWidthTypes.Date32, codeDate32},
	}
	if t, ok := simple[name]; ok {
		return t.dt, t.code, nil
	}
	if in, ok := strings.CutPrefix(name, "timestamp["); ok {
		in, ok = strings.CutSuffix(in, "]")
		unit, tz, _ := strings.Cut(in, ",")
		units := map[string]arrow.TimeUnit{"s": arrow.Second, "ms": arrow.Millisecond, "us": arrow.Microsecond, "ns": arrow.Nanosecond}
		if u, known := units[strings.TrimSpace(unit)]; ok && known {
			return &arrow.TimestampType{Unit: u, TimeZone: strings.TrimSpace(tz)}, codeTimestamp, nil
		}
	}
	if in, ok := strings.CutPrefix(name, "decimal128("); ok {
		in, ok = strings.CutSuffix(in, ")")
		ps, ss, _ := strings.Cut(in, ",")
		p, err1 := strconv.Atoi(strings.TrimSpace(ps))
		s, err2 := strconv.Atoi(strings.TrimSpace(ss))
		if ok && err1 == nil && err2 == nil && p >= 1 && p <= 38 && s >= 0 && s <= p {
			return &arrow.Decimal128Type{Precision: int32(p), Scale: int32(s)}, codeDecimal128, nil
		}
	}
	if dt, code, ok, err := parseNested(name, 0); ok { // ABI v2 (nested_types.go)
		return dt, code, err
	}
	return nil, 0, fmt.Errorf("type %q is not in ABI v1", name)
}
