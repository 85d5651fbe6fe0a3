package avro

import (
	"encoding/json"
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"
	hamba "github.com/hamba/avro/v2"
)

// enumKey is the Arrow field metadata key that keeps an Avro enum's name
// and symbols on the utf8 column it is read into, so the writer can write
// the enum back.
const enumKey = "avro.enum"

// maxFixedBytes bounds a fixed type's size: a corrupt schema must not make
// every row allocate gigabytes. Real fixeds (hashes, uuids, decimals) are
// tens of bytes.
const maxFixedBytes = 1 << 20

type enumMeta struct {
	Name    string   `json:"name"`
	Symbols []string `json:"symbols"`
}

// toArrowField maps one Avro schema to an Arrow field. Nullable is true only
// for a two-branch union with null ([null, T] or [T, null]); every other
// union becomes a dense union whose children are named after the branches.
// inProgress holds the named types being mapped, to reject recursive types.
func toArrowField(name string, s hamba.Schema, inProgress map[string]bool) (arrow.Field, error) {
	f := arrow.Field{Name: name}
	if u, ok := s.(*hamba.UnionSchema); ok {
		if branch, ok := nullableBranch(u); ok {
			inner, err := toArrowField(name, branch, inProgress)
			if err != nil {
				return f, err
			}
			inner.Nullable = true
			return inner, nil
		}
	}
	dt, md, err := toArrowType(s, inProgress)
	if err != nil {
		return f, fmt.Errorf("field %q: %w", name, err)
	}
	f.Type, f.Metadata = dt, md
	return f, nil
}

// nullableBranch returns T of a [null, T] or [T, null] union.
func nullableBranch(u *hamba.UnionSchema) (hamba.Schema, bool) {
	types := u.Types()
	if len(types) != 2 {
		return nil, false
	}
	switch {
	case types[0].Type() == hamba.Null && types[1].Type() != hamba.Null:
		return types[1], true
	case types[1].Type() == hamba.Null && types[0].Type() != hamba.Null:
		return types[0], true
	}
	return nil, false
}

func toArrowType(s hamba.Schema, inProgress map[string]bool) (arrow.DataType, arrow.Metadata, error) {
	var none arrow.Metadata
	switch s := s.(type) {
	case *hamba.RefSchema:
		if inProgress[s.Schema().FullName()] {
			return nil, none, fmt.Errorf("recursive type %s cannot be represented in Arrow", s.Schema().FullName())
		}
		return toArrowType(s.Schema(), inProgress)
	case *hamba.NullSchema:
		return arrow.Null, none, nil
	case *hamba.PrimitiveSchema:
		return primitiveType(s)
	case *hamba.FixedSchema:
		if d, ok := s.Logical().(*hamba.DecimalLogicalSchema); ok {
			dt, err := decimalType(d)
			return dt, none, err
		}
		if s.Size() < 0 || s.Size() > maxFixedBytes {
			return nil, none, fmt.Errorf("fixed %s of %d bytes is outside 0..%d", s.FullName(), s.Size(), maxFixedBytes)
		}
		return &arrow.FixedSizeBinaryType{ByteWidth: s.Size()}, none, nil
	case *hamba.EnumSchema:
		b, _ := json.Marshal(enumMeta{Name: s.FullName(), Symbols: s.Symbols()})
		return arrow.BinaryTypes.String, arrow.NewMetadata([]string{enumKey}, []string{string(b)}), nil
	case *hamba.ArraySchema:
		item, err := toArrowField("item", s.Items(), inProgress)
		if err != nil {
			return nil, none, err
		}
		return arrow.ListOfField(item), none, nil
	case *hamba.MapSchema:
		item, err := toArrowField("value", s.Values(), inProgress)
		if err != nil {
			return nil, none, err
		}
		mt := arrow.MapOfWithMetadata(arrow.BinaryTypes.String, arrow.Metadata{}, item.Type, item.Metadata)
		if !item.Nullable {
			mt.SetItemNullable(false)
		}
		return mt, none, nil
	case *hamba.RecordSchema:
		inProgress[s.FullName()] = true
		defer delete(inProgress, s.FullName())
		fields := make([]arrow.Field, len(s.Fields()))
		for i, af := range s.Fields() {
			f, err := toArrowField(af.Name(), af.Type(), inProgress)
			if err != nil {
				return nil, none, fmt.Errorf("record %s: %w", s.FullName(), err)
			}
			fields[i] = f
		}
		return arrow.StructOf(fields...), none, nil
	case *hamba.UnionSchema:
		types := s.Types()
		fields := make([]arrow.Field, len(types))
		codes := make([]arrow.UnionTypeCode, len(types))
		for i, t := range types {
			f, err := toArrowField(branchName(t), t, inProgress)
			if err != nil {
				return nil, none, err
			}
			f.Nullable = true
			fields[i], codes[i] = f, arrow.UnionTypeCode(i)
		}
		if len(types) > 127 {
			return nil, none, fmt.Errorf("union of %d branches exceeds Arrow's 127", len(types))
		}
		return arrow.DenseUnionOf(fields, codes), none, nil
	}
	return nil, none, fmt.Errorf("unsupported Avro schema %s", s.Type())
}

func branchName(s hamba.Schema) string {
	if n, ok := s.(hamba.NamedSchema); ok {
		return n.FullName()
	}
	if r, ok := s.(*hamba.RefSchema); ok {
		return r.Schema().FullName()
	}
	return string(s.Type())
}

func primitiveType(s *hamba.PrimitiveSchema) (arrow.DataType, arrow.Metadata, error) {
	var none arrow.Metadata
	var logical hamba.LogicalType
	if l := s.Logical(); l != nil {
		logical = l.Type()
	}
	switch s.Type() {
	case hamba.Null:
		return arrow.Null, none, nil
	case hamba.Boolean:
		return arrow.FixedWidthTypes.Boolean, none, nil
	case hamba.Int:
		switch logical {
		case hamba.Date:
			return arrow.FixedWidthTypes.Date32, none, nil
		case hamba.TimeMillis:
			return arrow.FixedWidthTypes.Time32ms, none, nil
		}
		return arrow.PrimitiveTypes.Int32, none, nil
	case hamba.Long:
		switch logical {
		case hamba.TimeMicros:
			return arrow.FixedWidthTypes.Time64us, none, nil
		case hamba.TimestampMillis:
			return &arrow.TimestampType{Unit: arrow.Millisecond, TimeZone: "UTC"}, none, nil
		case hamba.TimestampMicros:
			return &arrow.TimestampType{Unit: arrow.Microsecond, TimeZone: "UTC"}, none, nil
		case hamba.LocalTimestampMillis:
			return &arrow.TimestampType{Unit: arrow.Millisecond}, none, nil
		case hamba.LocalTimestampMicros:
			return &arrow.TimestampType{Unit: arrow.Microsecond}, none, nil
		}
		return arrow.PrimitiveTypes.Int64, none, nil
	case hamba.Float:
		return arrow.PrimitiveTypes.Float32, none, nil
	case hamba.Double:
		return arrow.PrimitiveTypes.Float64, none, nil
	case hamba.Bytes:
		if d, ok := s.Logical().(*hamba.DecimalLogicalSchema); ok {
			dt, err := decimalType(d)
			return dt, none, err
		}
		return arrow.BinaryTypes.Binary, none, nil
	case hamba.String:
		// uuid stays a string: Arrow has no uuid type outside extensions.
		return arrow.BinaryTypes.String, none, nil
	}
	return nil, none, fmt.Errorf("unsupported Avro type %s", s.Type())
}

func decimalType(d *hamba.DecimalLogicalSchema) (arrow.DataType, error) {
	if d.Precision() < 1 || d.Precision() > 38 {
		return nil, fmt.Errorf("decimal precision %d is outside decimal128's 1..38", d.Precision())
	}
	return &arrow.Decimal128Type{Precision: int32(d.Precision()), Scale: int32(d.Scale())}, nil
}
