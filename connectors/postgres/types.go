package postgres

import (
	"fmt"
	"math/big"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/array"
	"github.com/apache/arrow/go/v15/arrow/decimal128"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"
)

// column reads one result column into an Arrow builder: scan is the
// destination handed to rows.Scan, put appends what it received.
type column struct {
	field arrow.Field
	scan  any
	put   func(b array.Builder) error
}

var tsUTC = &arrow.TimestampType{Unit: arrow.Microsecond, TimeZone: "UTC"}

// numericPrecision decodes numeric's type modifier: ((p << 16) | s) + 4,
// or -1 when the column has no declared precision.
func numericPrecision(typmod int32) (p, s int32, ok bool) {
	if typmod < 4 {
		return 0, 0, false
	}
	m := typmod - 4
	return (m >> 16) & 0xffff, m & 0xffff, true
}

// newColumn maps a result column to Arrow by its type OID (see the package
// documentation for the table).
func newColumn(fd pgconn.FieldDescription, typeName func(oid uint32) string) (*column, error) {
	c := &column{field: arrow.Field{Name: fd.Name, Nullable: true}}
	switch fd.DataTypeOID {
	case pgtype.BoolOID:
		var v pgtype.Bool
		c.field.Type, c.scan = arrow.FixedWidthTypes.Boolean, &v
		c.put = func(b array.Builder) error {
			if !v.Valid {
				b.AppendNull()
			} else {
				b.(*array.BooleanBuilder).Append(v.Bool)
			}
			return nil
		}
	case pgtype.Int2OID:
		var v pgtype.Int2
		c.field.Type, c.scan = arrow.PrimitiveTypes.Int16, &v
		c.put = func(b array.Builder) error {
			if !v.Valid {
				b.AppendNull()
			} else {
				b.(*array.Int16Builder).Append(v.Int16)
			}
			return nil
		}
	case pgtype.Int4OID:
		var v pgtype.Int4
		c.field.Type, c.scan = arrow.PrimitiveTypes.Int32, &v
		c.put = func(b array.Builder) error {
			if !v.Valid {
				b.AppendNull()
			} else {
				b.(*array.Int32Builder).Append(v.Int32)
			}
			return nil
		}
	case pgtype.Int8OID:
		var v pgtype.Int8
		c.field.Type, c.scan = arrow.PrimitiveTypes.Int64, &v
		c.put = func(b array.Builder) error {
			if !v.Valid {
				b.AppendNull()
			} else {
				b.(*array.Int64Builder).Append(v.Int64)
			}
			return nil
		}
	case pgtype.Float4OID:
		var v pgtype.Float4
		c.field.Type, c.scan = arrow.PrimitiveTypes.Float32, &v
		c.put = func(b array.Builder) error {
			if !v.Valid {
				b.AppendNull()
			} else {
				b.(*array.Float32Builder).Append(v.Float32)
			}
			return nil
		}
	case pgtype.Float8OID:
		var v pgtype.Float8
		c.field.Type, c.scan = arrow.PrimitiveTypes.Float64, &v
		c.put = func(b array.Builder) error {
			if !v.Valid {
				b.AppendNull()
			} else {
				b.(*array.Float64Builder).Append(v.Float64)
			}
			return nil
		}
	case pgtype.NumericOID:
		var v pgtype.Numeric
		c.scan = &v
		if p, s, ok := numericPrecision(fd.TypeModifier); ok && p >= 1 && p <= 38 {
			c.field.Type = &arrow.Decimal128Type{Precision: p, Scale: s}
			c.put = func(b array.Builder) error {
				if !v.Valid {
					b.AppendNull()
					return nil
				}
				n, err := numericToDecimal(v, s)
				if err != nil {
					return err
				}
				b.(*array.Decimal128Builder).Append(n)
				return nil
			}
		} else {
			// Unconstrained numeric has up to 131072 digits: text keeps them.
			c.field.Type = arrow.BinaryTypes.String
			c.put = func(b array.Builder) error {
				if !v.Valid {
					b.AppendNull()
					return nil
				}
				t, err := v.Value()
				if err != nil {
					return err
				}
				b.(*array.StringBuilder).Append(t.(string))
				return nil
			}
		}
	case pgtype.TextOID, pgtype.VarcharOID, pgtype.BPCharOID, pgtype.NameOID, pgtype.UUIDOID, pgtype.JSONOID, pgtype.JSONBOID:
		var v pgtype.Text
		c.field.Type, c.scan = arrow.BinaryTypes.String, &v
		if fd.DataTypeOID == pgtype.JSONOID || fd.DataTypeOID == pgtype.JSONBOID {
			// The JSON codecs scan into a string but not into pgtype.Text.
			var s *string
			c.scan = &s
			c.put = func(b array.Builder) error {
				if s == nil {
					b.AppendNull()
				} else {
					b.(*array.StringBuilder).Append(*s)
				}
				return nil
			}
			break
		}
		c.put = func(b array.Builder) error {
			if !v.Valid {
				b.AppendNull()
			} else {
				b.(*array.StringBuilder).Append(v.String)
			}
			return nil
		}
	case pgtype.ByteaOID:
		var v []byte
		c.field.Type, c.scan = arrow.BinaryTypes.Binary, &v
		c.put = func(b array.Builder) error {
			if v == nil {
				b.AppendNull()
			} else {
				b.(*array.BinaryBuilder).Append(v)
			}
			return nil
		}
	case pgtype.DateOID:
		var v pgtype.Date
		c.field.Type, c.scan = arrow.FixedWidthTypes.Date32, &v
		c.put = func(b array.Builder) error {
			switch {
			case !v.Valid:
				b.AppendNull()
			case v.InfinityModifier != pgtype.Finite:
				return fmt.Errorf("column %q: infinite date has no Arrow value", fd.Name)
			default:
				b.(*array.Date32Builder).Append(arrow.Date32FromTime(v.Time))
			}
			return nil
		}
	case pgtype.TimestampOID:
		var v pgtype.Timestamp
		c.field.Type, c.scan = &arrow.TimestampType{Unit: arrow.Microsecond}, &v
		c.put = func(b array.Builder) error {
			switch {
			case !v.Valid:
				b.AppendNull()
			case v.InfinityModifier != pgtype.Finite:
				return fmt.Errorf("column %q: infinite timestamp has no Arrow value", fd.Name)
			default:
				b.(*array.TimestampBuilder).Append(arrow.Timestamp(v.Time.UnixMicro()))
			}
			return nil
		}
	case pgtype.TimestamptzOID:
		var v pgtype.Timestamptz
		c.field.Type, c.scan = tsUTC, &v
		c.put = func(b array.Builder) error {
			switch {
			case !v.Valid:
				b.AppendNull()
			case v.InfinityModifier != pgtype.Finite:
				return fmt.Errorf("column %q: infinite timestamp has no Arrow value", fd.Name)
			default:
				b.(*array.TimestampBuilder).Append(arrow.Timestamp(v.Time.UnixMicro()))
			}
			return nil
		}
	default:
		return nil, fmt.Errorf("column %q has type %s (OID %d), which has no Arrow mapping: cast it in a query (%q::text)",
			fd.Name, typeName(fd.DataTypeOID), fd.DataTypeOID, fd.Name)
	}
	return c, nil
}

// numericToDecimal scales v (Int × 10^Exp) to scale digits after the point.
func numericToDecimal(v pgtype.Numeric, scale int32) (decimal128.Num, error) {
	if v.NaN || v.InfinityModifier != pgtype.Finite {
		return decimal128.Num{}, fmt.Errorf("numeric %s has no decimal128 value", fmtNumeric(v))
	}
	n := new(big.Int).Set(v.Int)
	shift := v.Exp + scale
	ten := big.NewInt(10)
	if shift > 0 {
		n.Mul(n, new(big.Int).Exp(ten, big.NewInt(int64(shift)), nil))
	} else if shift < 0 {
		// The server rounds to the column's scale, so only trailing zeros go.
		var rem big.Int
		n.QuoRem(n, new(big.Int).Exp(ten, big.NewInt(int64(-shift)), nil), &rem)
		if rem.Sign() != 0 {
			return decimal128.Num{}, fmt.Errorf("numeric %s has more than %d decimal places", fmtNumeric(v), scale)
		}
	}
	if n.BitLen() > 127 {
		return decimal128.Num{}, fmt.Errorf("numeric %s does not fit decimal128", fmtNumeric(v))
	}
	return decimal128.FromBigInt(n), nil
}

func fmtNumeric(v pgtype.Numeric) string {
	t, err := v.Value()
	if s, ok := t.(string); ok && err == nil {
		return s
	}
	return "?"
}

// pgType is the PostgreSQL column type create_table declares for an Arrow
// type, or "" when there is none.
func pgType(dt arrow.DataType) string {
	switch t := dt.(type) {
	case *arrow.BooleanType:
		return "boolean"
	case *arrow.Int8Type, *arrow.Int16Type, *arrow.Uint8Type:
		return "smallint"
	case *arrow.Int32Type, *arrow.Uint16Type:
		return "integer"
	case *arrow.Int64Type, *arrow.Uint32Type:
		return "bigint"
	case *arrow.Uint64Type:
		return "numeric(20,0)"
	case *arrow.Float32Type:
		return "real"
	case *arrow.Float64Type:
		return "double precision"
	case *arrow.StringType, *arrow.LargeStringType:
		return "text"
	case *arrow.BinaryType, *arrow.LargeBinaryType:
		return "bytea"
	case *arrow.Date32Type:
		return "date"
	case *arrow.TimestampType:
		if t.TimeZone != "" {
			return "timestamptz"
		}
		return "timestamp"
	case *arrow.Decimal128Type:
		return fmt.Sprintf("numeric(%d,%d)", t.Precision, t.Scale)
	}
	return ""
}

// value returns row i of a as the Go value pgx encodes into a column of
// the matching type (nil for null).
func value(a arrow.Array, i int) any {
	if a.IsNull(i) {
		return nil
	}
	switch a := a.(type) {
	case *array.Boolean:
		return a.Value(i)
	case *array.Int8:
		return int16(a.Value(i))
	case *array.Int16:
		return a.Value(i)
	case *array.Int32:
		return a.Value(i)
	case *array.Int64:
		return a.Value(i)
	case *array.Uint8:
		return int16(a.Value(i))
	case *array.Uint16:
		return int32(a.Value(i))
	case *array.Uint32:
		return int64(a.Value(i))
	case *array.Uint64:
		return pgtype.Numeric{Int: new(big.Int).SetUint64(a.Value(i)), Valid: true}
	case *array.Float32:
		return a.Value(i)
	case *array.Float64:
		return a.Value(i)
	case *array.String:
		return a.Value(i)
	case *array.LargeString:
		return a.Value(i)
	case *array.Binary:
		return a.Value(i)
	case *array.LargeBinary:
		return a.Value(i)
	case *array.Date32:
		return pgtype.Date{Time: a.Value(i).ToTime(), Valid: true}
	case *array.Timestamp:
		unit := a.DataType().(*arrow.TimestampType).Unit
		// UTC wall time: a timestamp (without time zone) column stores it as is.
		return a.Value(i).ToTime(unit).UTC()
	case *array.Decimal128:
		scale := a.DataType().(*arrow.Decimal128Type).Scale
		return pgtype.Numeric{Int: a.Value(i).BigInt(), Exp: -scale, Valid: true}
	}
	panic(fmt.Sprintf("postgres: no value for Arrow type %s", a.DataType()))
}

// checkTypes reports the first column whose type the sink cannot write.
func checkTypes(s *arrow.Schema) error {
	for _, f := range s.Fields() {
		if pgType(f.Type) == "" {
			return fmt.Errorf("column %q: Arrow type %s has no PostgreSQL mapping", f.Name, f.Type)
		}
	}
	return nil
}
