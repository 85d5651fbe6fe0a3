package postgres

import (
	"encoding/binary"
	"fmt"
	"math"
	"math/big"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"
)

// column reads one result column into an Arrow builder. Values of the
// common types in PostgreSQL's binary format are appended straight from
// the wire by appendWire (wire says how); the others, and every value of a
// text-format result, go through pgx: its scan plan fills scan, and put
// appends what it received.
type column struct {
	field arrow.Field
	oid   uint32
	wire  wireKind
	scan  any
	put   func(b array.Builder) error
}

// wireKind is how appendWire reads a column's binary values; viaScan
// leaves them to pgx.
type wireKind uint8

const (
	viaScan wireKind = iota
	wireBool
	wireInt16
	wireInt32
	wireInt64
	wireFloat32
	wireFloat64
	wireText  // text, varchar, char, name: the bytes are the value, in either format
	wireBytes // bytea: the bytes are the value (binary format only)
	wireDate
	wireTimestamp // timestamp and timestamptz alike: µs since 2000-01-01
)

// wireSize is each fixed-width kind's value length.
var wireSize = [...]int{wireBool: 1, wireInt16: 2, wireInt32: 4, wireInt64: 8, wireFloat32: 4, wireFloat64: 8, wireDate: 4, wireTimestamp: 8}

// PostgreSQL counts dates and timestamps from 2000-01-01, Arrow from 1970.
const (
	pgEpochDays   = 10_957
	pgEpochMicros = pgEpochDays * 86_400_000_000
)

// decoder appends one column's values as a result delivers them.
type decoder struct {
	c    *column
	wire bool
	plan pgtype.ScanPlan
}

// decoder returns how to read c's values in format (a result's
// FieldDescription.Format): from the wire when c's type allows and the
// format is binary (or, for text types, either), else through pgx's scan
// plan for that format.
func (c *column) decoder(m *pgtype.Map, format int16) decoder {
	if c.wire == wireText || c.wire != viaScan && format == pgtype.BinaryFormatCode {
		return decoder{c: c, wire: true}
	}
	return decoder{c: c, plan: m.PlanScan(c.oid, format, c.scan)}
}

// append appends v, the column's raw value in one row (nil for NULL).
func (d *decoder) append(b array.Builder, v []byte) error {
	if d.wire {
		return d.c.appendWire(b, v)
	}
	if err := d.plan.Scan(v, d.c.scan); err != nil {
		return fmt.Errorf("column %q: %w", d.c.field.Name, err)
	}
	return d.c.put(b)
}

// appendWire appends a binary-format value. Reading the wire form directly
// skips pgx's per-value scan machinery and, for strings, a Go string per
// value; it is what makes the snapshot fast (BENCHMARKS.md).
func (c *column) appendWire(b array.Builder, v []byte) error {
	if v == nil {
		b.AppendNull()
		return nil
	}
	if c.wire == wireText || c.wire == wireBytes {
		switch b := b.(type) {
		case *array.StringBuilder:
			b.BinaryBuilder.Append(v)
		case *array.BinaryBuilder:
			b.Append(v)
		}
		return nil
	}
	if len(v) != wireSize[c.wire] {
		return fmt.Errorf("column %q: %d-byte binary value, want %d", c.field.Name, len(v), wireSize[c.wire])
	}
	switch c.wire {
	case wireBool:
		b.(*array.BooleanBuilder).Append(v[0] != 0)
	case wireInt16:
		b.(*array.Int16Builder).Append(int16(binary.BigEndian.Uint16(v)))
	case wireInt32:
		b.(*array.Int32Builder).Append(int32(binary.BigEndian.Uint32(v)))
	case wireInt64:
		b.(*array.Int64Builder).Append(int64(binary.BigEndian.Uint64(v)))
	case wireFloat32:
		b.(*array.Float32Builder).Append(math.Float32frombits(binary.BigEndian.Uint32(v)))
	case wireFloat64:
		b.(*array.Float64Builder).Append(math.Float64frombits(binary.BigEndian.Uint64(v)))
	case wireDate:
		d := int32(binary.BigEndian.Uint32(v))
		if d == math.MaxInt32 || d == math.MinInt32 {
			return fmt.Errorf("column %q: infinite date has no Arrow value", c.field.Name)
		}
		b.(*array.Date32Builder).Append(arrow.Date32(d + pgEpochDays))
	case wireTimestamp:
		t := int64(binary.BigEndian.Uint64(v))
		switch {
		case t == math.MaxInt64 || t == math.MinInt64:
			return fmt.Errorf("column %q: infinite timestamp has no Arrow value", c.field.Name)
		case t > math.MaxInt64-pgEpochMicros:
			return errPastArrow(c.field.Name)
		}
		b.(*array.TimestampBuilder).Append(arrow.Timestamp(t + pgEpochMicros))
	}
	return nil
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
	c := &column{field: arrow.Field{Name: fd.Name, Nullable: true}, oid: fd.DataTypeOID}
	// infinite rejects the infinity values dates and timestamps may hold.
	infinite := func(what string, m pgtype.InfinityModifier) error {
		if m != pgtype.Finite {
			return fmt.Errorf("column %q: infinite %s has no Arrow value", fd.Name, what)
		}
		return nil
	}
	switch fd.DataTypeOID {
	case pgtype.BoolOID:
		c.wire = wireBool
		var v pgtype.Bool
		scalar[*array.BooleanBuilder](c, arrow.FixedWidthTypes.Boolean, &v, func() (bool, bool, error) { return v.Bool, v.Valid, nil })
	case pgtype.Int2OID:
		c.wire = wireInt16
		var v pgtype.Int2
		scalar[*array.Int16Builder](c, arrow.PrimitiveTypes.Int16, &v, func() (int16, bool, error) { return v.Int16, v.Valid, nil })
	case pgtype.Int4OID:
		c.wire = wireInt32
		var v pgtype.Int4
		scalar[*array.Int32Builder](c, arrow.PrimitiveTypes.Int32, &v, func() (int32, bool, error) { return v.Int32, v.Valid, nil })
	case pgtype.Int8OID:
		c.wire = wireInt64
		var v pgtype.Int8
		scalar[*array.Int64Builder](c, arrow.PrimitiveTypes.Int64, &v, func() (int64, bool, error) { return v.Int64, v.Valid, nil })
	case pgtype.Float4OID:
		c.wire = wireFloat32
		var v pgtype.Float4
		scalar[*array.Float32Builder](c, arrow.PrimitiveTypes.Float32, &v, func() (float32, bool, error) { return v.Float32, v.Valid, nil })
	case pgtype.Float8OID:
		c.wire = wireFloat64
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
		if fd.DataTypeOID != pgtype.UUIDOID { // binary uuid is 16 bytes, not its text
			c.wire = wireText
		}
		var v pgtype.Text
		scalar[*array.StringBuilder](c, arrow.BinaryTypes.String, &v, func() (string, bool, error) { return v.String, v.Valid, nil })
	case pgtype.ByteaOID:
		c.wire = wireBytes
		var v []byte
		scalar[*array.BinaryBuilder](c, arrow.BinaryTypes.Binary, &v, func() ([]byte, bool, error) { return v, v != nil, nil })
	case pgtype.DateOID:
		c.wire = wireDate
		var v pgtype.Date
		scalar[*array.Date32Builder](c, arrow.FixedWidthTypes.Date32, &v, func() (arrow.Date32, bool, error) {
			if !v.Valid {
				return 0, false, nil
			}
			return arrow.Date32FromTime(v.Time), true, infinite("date", v.InfinityModifier)
		})
	case pgtype.TimestampOID:
		c.wire = wireTimestamp
		var v pgtype.Timestamp
		scalar[*array.TimestampBuilder](c, &arrow.TimestampType{Unit: arrow.Microsecond}, &v, func() (arrow.Timestamp, bool, error) {
			if !v.Valid {
				return 0, false, nil
			}
			if err := infinite("timestamp", v.InfinityModifier); err != nil {
				return 0, true, err
			}
			return micros(fd.Name, v.Time)
		})
	case pgtype.TimestamptzOID:
		c.wire = wireTimestamp
		var v pgtype.Timestamptz
		scalar[*array.TimestampBuilder](c, tsUTC, &v, func() (arrow.Timestamp, bool, error) {
			if !v.Valid {
				return 0, false, nil
			}
			if err := infinite("timestamp", v.InfinityModifier); err != nil {
				return 0, true, err
			}
			return micros(fd.Name, v.Time)
		})
	default:
		return nil, fmt.Errorf("column %q has type %s (OID %d), which has no Arrow mapping: cast it in a query (%q::text)",
			fd.Name, typeName(fd.DataTypeOID), fd.DataTypeOID, fd.Name)
	}
	return c, nil
}

// scalar wires a column: scan is what pgx's scan plan fills, and get reads the
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

// maxTime is the last microsecond an Arrow timestamp[us] holds.
var maxTime = time.UnixMicro(math.MaxInt64)

// micros is t as an Arrow timestamp[us]; PostgreSQL's last 30 years
// (up to 294276 AD) are past Arrow's.
func micros(column string, t time.Time) (arrow.Timestamp, bool, error) {
	if t.After(maxTime) {
		return 0, true, errPastArrow(column)
	}
	return arrow.Timestamp(t.UnixMicro()), true, nil
}

func errPastArrow(column string) error {
	return fmt.Errorf("column %q: timestamp past Arrow's range (year 294247)", column)
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
