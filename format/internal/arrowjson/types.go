package arrowjson

import (
	"encoding/json"
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"
)

// jsonType is the union of every "type" object's keys in the integration format.
type jsonType struct {
	Name      string `json:"name"`
	BitWidth  int    `json:"bitWidth"`
	IsSigned  bool   `json:"isSigned"`
	Precision any    `json:"precision"` // "SINGLE"/"DOUBLE" for floats, a number for decimals
	Scale     int32  `json:"scale"`
	Unit      string `json:"unit"`
	Timezone  string `json:"timezone"`
	ByteWidth int    `json:"byteWidth"`
	ListSize  int32  `json:"listSize"`
}

func toField(jf jsonField, dictTypes map[int64]arrow.DataType, dictIDs map[*arrow.DictionaryType]int64) (arrow.Field, error) {
	children := make([]arrow.Field, len(jf.Children))
	for i, c := range jf.Children {
		f, err := toField(c, dictTypes, dictIDs)
		if err != nil {
			return arrow.Field{}, err
		}
		children[i] = f
	}
	dt, err := toType(jf.Type, children)
	if err != nil {
		return arrow.Field{}, fmt.Errorf("arrowjson: field %q: %w", jf.Name, err)
	}
	if jf.Dictionary != nil {
		it, err := toType(jf.Dictionary.IndexType, nil)
		if err != nil {
			return arrow.Field{}, fmt.Errorf("arrowjson: field %q index type: %w", jf.Name, err)
		}
		dictTypes[jf.Dictionary.ID] = dt
		d := &arrow.DictionaryType{IndexType: it, ValueType: dt, Ordered: jf.Dictionary.IsOrdered}
		dictIDs[d] = jf.Dictionary.ID
		dt = d
	}
	md := toMetadata(jf.Metadata)
	f := arrow.Field{Name: jf.Name, Type: dt, Nullable: jf.Nullable}
	if md != nil {
		f.Metadata = *md
	}
	return f, nil
}

func timeUnit(s string) (arrow.TimeUnit, error) {
	switch s {
	case "SECOND":
		return arrow.Second, nil
	case "MILLISECOND":
		return arrow.Millisecond, nil
	case "MICROSECOND":
		return arrow.Microsecond, nil
	case "NANOSECOND":
		return arrow.Nanosecond, nil
	}
	return 0, fmt.Errorf("unknown time unit %q", s)
}

func toType(raw json.RawMessage, children []arrow.Field) (arrow.DataType, error) {
	var t jsonType
	if err := json.Unmarshal(raw, &t); err != nil {
		return nil, err
	}
	switch t.Name {
	case "null":
		return arrow.Null, nil
	case "bool":
		return arrow.FixedWidthTypes.Boolean, nil
	case "int":
		return intType(t.BitWidth, t.IsSigned)
	case "floatingpoint":
		switch t.Precision {
		case "SINGLE":
			return arrow.PrimitiveTypes.Float32, nil
		case "DOUBLE":
			return arrow.PrimitiveTypes.Float64, nil
		}
		return nil, fmt.Errorf("unknown float precision %v", t.Precision)
	case "binary":
		return arrow.BinaryTypes.Binary, nil
	case "largebinary":
		return arrow.BinaryTypes.LargeBinary, nil
	case "utf8":
		return arrow.BinaryTypes.String, nil
	case "largeutf8":
		return arrow.BinaryTypes.LargeString, nil
	case "fixedsizebinary":
		return &arrow.FixedSizeBinaryType{ByteWidth: t.ByteWidth}, nil
	case "decimal":
		p, ok := t.Precision.(float64)
		if !ok {
			return nil, fmt.Errorf("decimal precision %v is not a number", t.Precision)
		}
		if t.BitWidth == 256 {
			return &arrow.Decimal256Type{Precision: int32(p), Scale: t.Scale}, nil
		}
		return &arrow.Decimal128Type{Precision: int32(p), Scale: t.Scale}, nil
	case "date":
		if t.Unit == "DAY" {
			return arrow.FixedWidthTypes.Date32, nil
		}
		return arrow.FixedWidthTypes.Date64, nil
	case "time":
		u, err := timeUnit(t.Unit)
		if err != nil {
			return nil, err
		}
		if t.BitWidth == 32 {
			return &arrow.Time32Type{Unit: u}, nil
		}
		return &arrow.Time64Type{Unit: u}, nil
	case "timestamp":
		u, err := timeUnit(t.Unit)
		if err != nil {
			return nil, err
		}
		return &arrow.TimestampType{Unit: u, TimeZone: t.Timezone}, nil
	case "duration":
		u, err := timeUnit(t.Unit)
		if err != nil {
			return nil, err
		}
		return &arrow.DurationType{Unit: u}, nil
	case "list", "largelist", "fixedsizelist":
		if len(children) != 1 {
			return nil, fmt.Errorf("%s has %d children, want 1", t.Name, len(children))
		}
		switch t.Name {
		case "list":
			return arrow.ListOfField(children[0]), nil
		case "largelist":
			return arrow.LargeListOfField(children[0]), nil
		}
		return arrow.FixedSizeListOfField(t.ListSize, children[0]), nil
	case "struct":
		return arrow.StructOf(children...), nil
	}
	return nil, fmt.Errorf("type %q is not supported by this reader", t.Name)
}

func intType(bits int, signed bool) (arrow.DataType, error) {
	switch {
	case bits == 8 && signed:
		return arrow.PrimitiveTypes.Int8, nil
	case bits == 16 && signed:
		return arrow.PrimitiveTypes.Int16, nil
	case bits == 32 && signed:
		return arrow.PrimitiveTypes.Int32, nil
	case bits == 64 && signed:
		return arrow.PrimitiveTypes.Int64, nil
	case bits == 8:
		return arrow.PrimitiveTypes.Uint8, nil
	case bits == 16:
		return arrow.PrimitiveTypes.Uint16, nil
	case bits == 32:
		return arrow.PrimitiveTypes.Uint32, nil
	case bits == 64:
		return arrow.PrimitiveTypes.Uint64, nil
	}
	return nil, fmt.Errorf("unsupported int bit width %d", bits)
}
