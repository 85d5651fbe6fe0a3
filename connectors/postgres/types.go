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
	// infinite rejects the infinity values dates and timestamps may hold.
	infinite := func(what string, m pgtype.InfinityModifier) error {
		if m != pgtype.Finite {
			return fmt.Errorf("column %q: infinite %s has no Arrow value", fd.Name, what)
		}
		return nil
	}
	switch fd.DataTypeOID {
	case pgtype.BoolOID:
		var v pgtype.Bool
		scalar[*array.BooleanBuilder](c, arrow.FixedWidthTypes.Boolean, &v, func() (bool, bool, error) { return v.Bool, v.Valid, nil })
	case pgtype.Int2OID:
		var v pgtype.Int2
		scalar[*array.Int16Builder](c, arrow.PrimitiveTypes.Int16, &v, func() (int16, bool, error) { return v.Int16, v.Valid, nil })
	case pgtype.Int4OID:
		var v pgtype.Int4
		scalar[*array.Int32Builder](c, arrow.PrimitiveTypes.Int32, &v, func() (int32, bool, error) { return v.Int32, v.Valid, nil })
	case pgtype.Int8OID:
		var v pgtype.Int8
		scalar[*array.Int64Builder](c, arrow.PrimitiveTypes.Int64, &v, func() (int64, bool, error) { return v.Int64, v.Valid, nil })
	case pgtype.Float4OID:
		var v pgtype.Float4
		scalar[*array.Float32Builder](c, arrow.PrimitiveTypes.Float32, &v, func() (float32, bool, error) { return v.Float32, v.Valid, nil })
	case pgtype.Float8OID:
		var v pgtype.Float8
		scalar[*array.Float64Builder](c, arrow.PrimitiveTypes.Float64, &v, func() (float64, bool, error) { return v.Float64, v.Valid, nil })
	case pgtype.NumericOID:
		var v pgtype.Numeric
		if p, s, ok := numericPrecision(fd.TypeModifier); ok && p >= 1 && p <= 38 {
			scalar[*array.Decimal128Builder](c, &arrow.Decimal128Type{Precision: p, Scale: s}, &v, func() (decimal128.Num, bool, error) {
				if !v.Valid {
					return decimal128.Num{}, false, nil
				}
				n, err := numericToDecimal(v, s)
				return n, true, err
			})
			break
		}
		// Unconstrained numeric has up to 131072 digits: text keeps them.
		scalar[*array.StringBuilder](c, arrow.BinaryTypes.String, &v, func() (string, bool, error) {
			if !v.Valid {
				return "", false, nil
			}
			t, err := v.Value()
			if err != nil {
				return "", true, err
			}
			return t.(string), true, nil
		})
	case pgtype.JSONOID, pgtype.JSONBOID:
		// The JSON codecs scan into a string but not into pgtype.Text.
		var s *string
		scalar[*array.StringBuilder](c, arrow.BinaryTypes.String, &s, func() (string, bool, error) {
			if s == nil {
				return "", false, nil
			}
			return *s, true, nil
		})
	case pgtype.TextOID, pgtype.VarcharOID, pgtype.BPCharOID, pgtype.NameOID, pgtype.UUIDOID:
		var v pgtype.Text
		scalar[*array.StringBuilder](c, arrow.BinaryTypes.String, &v, func() (string, bool, error) { return v.String, v.Valid, nil })
	case pgtype.ByteaOID:
		var v []byte
		scalar[*array.BinaryBuilder](c, arrow.BinaryTypes.Binary, &v, func() ([]byte, bool, error) { return v, v != nil, nil })
	case pgtype.DateOID:
		var v pgtype.Date
		scalar[*array.Date32Builder](c, arrow.FixedWidthTypes.Date32, &v, func() (arrow.Date32, bool, error) {
			if !v.Valid {
				return 0, false, nil
			}
			return arrow.Date32FromTime(v.Time), true, infinite("date", v.InfinityModifier)
		})
	case pgtype.TimestampOID:
		var v pgtype.Timestamp
		scalar[*array.TimestampBuilder](c, &arrow.TimestampType{Unit: arrow.Microsecond}, &v, func() (arrow.Timestamp, bool, error) {
			if !v.Valid {
				return 0, false, nil
			}
			return arrow.Timestamp(v.Time.UnixMicro()), true, infinite("timestamp", v.InfinityModifier)
		})
	case pgtype.TimestamptzOID:
		var v pgtype.Timestamptz
		scalar[*array.TimestampBuilder](c, tsUTC, &v, func() (arrow.Timestamp, bool, error) {
			if !v.Valid {
				return 0, false, nil
			}
			return arrow.Timestamp(v.Time.UnixMicro()), true, infinite("timestamp", v.InfinityModifier)
		})
	default:
		return nil, fmt.Errorf("column %q has type %s (OID %d), which has no Arrow mapping: cast it in a query (%q::text)",
			fd.Name, typeName(fd.DataTypeOID), fd.DataTypeOID, fd.Name)
	}
	return c, nil
}

// scalar wires a column: scan is what rows.Scan fills, and get reads the
// value from it after each row (ok false for NULL, err for a value Arrow
// cannot hold). One helper for every type keeps the NULL and error
// handling in one place.
func scalar[B interface {
	array.Builder
	Append(T)
}, T any](c *column, typ arrow.DataType, scan any, get func() (T, bool, error)) {
	c.field.Type, c.scan = typ, scan
	c.put = func(b array.Builder) error {
		x, ok, err := get()
		switch {
		case err != nil:
			return err
		case !ok:
			b.AppendNull()
		default:
			b.(B).Append(x)
		}
		return nil
	}
}

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
