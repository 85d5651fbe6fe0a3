package avro

import (
	"fmt"
	"math/big"
	"unicode/utf8"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	hamba "github.com/hamba/avro/v2"
)

// decodeFn decodes one value from c and appends it to the builder it was
// made for; errors are left in c.err.
type decodeFn func(c *cursor)

// newDecoder builds the decoder for schema s appending to b, whose type
// came from toArrowField on the same schema.
func newDecoder(s hamba.Schema, b array.Builder) (decodeFn, error) {
	if r, ok := s.(*hamba.RefSchema); ok {
		s = r.Schema()
	}
	if u, ok := s.(*hamba.UnionSchema); ok {
		if branch, ok := nullableBranch(u); ok {
			inner, err := newDecoder(branch, b)
			if err != nil {
				return nil, err
			}
			nullIdx := int64(0)
			if u.Types()[1].Type() == hamba.Null {
				nullIdx = 1
			}
			return func(c *cursor) {
				switch c.long() {
				case nullIdx:
					b.AppendNull()
				case 1 - nullIdx:
					inner(c)
				default:
					c.fail(fmt.Errorf("union branch out of range"))
				}
			}, nil
		}
		return unionDecoder(u, b.(*array.DenseUnionBuilder))
	}

	switch b := b.(type) {
	case *array.NullBuilder:
		return func(*cursor) { b.AppendNull() }, nil
	case *array.BooleanBuilder:
		return func(c *cursor) { b.Append(c.bool()) }, nil
	case *array.Int32Builder:
		return func(c *cursor) { b.Append(c.int()) }, nil
	case *array.Date32Builder:
		return func(c *cursor) { b.Append(arrow.Date32(c.int())) }, nil
	case *array.Time32Builder:
		return func(c *cursor) { b.Append(arrow.Time32(c.int())) }, nil
	case *array.Int64Builder:
		return func(c *cursor) { b.Append(c.long()) }, nil
	case *array.Time64Builder:
		return func(c *cursor) { b.Append(arrow.Time64(c.long())) }, nil
	case *array.TimestampBuilder:
		return func(c *cursor) { b.Append(arrow.Timestamp(c.long())) }, nil
	case *array.Float32Builder:
		return func(c *cursor) { b.Append(c.float()) }, nil
	case *array.Float64Builder:
		return func(c *cursor) { b.Append(c.double()) }, nil
	case *array.BinaryBuilder:
		return func(c *cursor) { b.Append(c.bytes()) }, nil
	case *array.StringBuilder:
		if e, ok := s.(*hamba.EnumSchema); ok {
			symbols := e.Symbols()
			return func(c *cursor) {
				i := c.long()
				if i < 0 || i >= int64(len(symbols)) {
					c.fail(fmt.Errorf("enum index %d out of range", i))
					return
				}
				b.Append(symbols[i])
			}, nil
		}
		return func(c *cursor) {
			v := c.bytes()
			if !utf8.Valid(v) {
				c.fail(fmt.Errorf("string is not valid UTF-8"))
				return
			}
			b.BinaryBuilder.Append(v)
		}, nil
	case *array.FixedSizeBinaryBuilder:
		n := s.(*hamba.FixedSchema).Size()
		return func(c *cursor) {
			if v := c.fixed(n); v != nil {
				b.Append(v)
			}
		}, nil
	case *array.Decimal128Builder:
		if f, ok := s.(*hamba.FixedSchema); ok {
			n := f.Size()
			return func(c *cursor) { appendDecimal(c, b, c.fixed(n)) }, nil
		}
		return func(c *cursor) { appendDecimal(c, b, c.bytes()) }, nil
	case *array.ListBuilder:
		item, err := newDecoder(s.(*hamba.ArraySchema).Items(), b.ValueBuilder())
		if err != nil {
			return nil, err
		}
		return func(c *cursor) {
			b.Append(true)
			for n := c.blockCount(); n > 0 && c.err == nil; n = c.blockCount() {
				for ; n > 0 && c.err == nil; n-- {
					item(c)
				}
			}
		}, nil
	case *array.MapBuilder:
		keys := b.KeyBuilder().(*array.StringBuilder)
		value, err := newDecoder(s.(*hamba.MapSchema).Values(), b.ItemBuilder())
		if err != nil {
			return nil, err
		}
		return func(c *cursor) {
			b.Append(true)
			for n := c.blockCount(); n > 0 && c.err == nil; n = c.blockCount() {
				for ; n > 0 && c.err == nil; n-- {
					keys.BinaryBuilder.Append(c.bytes())
					value(c)
				}
			}
		}, nil
	case *array.StructBuilder:
		rs := s.(*hamba.RecordSchema)
		fields := make([]decodeFn, len(rs.Fields()))
		for i, f := range rs.Fields() {
			d, err := newDecoder(f.Type(), b.FieldBuilder(i))
			if err != nil {
				return nil, err
			}
			fields[i] = d
		}
		return func(c *cursor) {
			b.Append(true)
			for _, d := range fields {
				d(c)
			}
		}, nil
	}
	return nil, fmt.Errorf("no decoder for %s into %s", s.Type(), b.Type())
}

func unionDecoder(u *hamba.UnionSchema, b *array.DenseUnionBuilder) (decodeFn, error) {
	branches := make([]decodeFn, len(u.Types()))
	for i, t := range u.Types() {
		d, err := newDecoder(t, b.Child(i))
		if err != nil {
			return nil, err
		}
		branches[i] = d
	}
	return func(c *cursor) {
		i := c.long()
		if i < 0 || i >= int64(len(branches)) {
			c.fail(fmt.Errorf("union branch %d out of range", i))
			return
		}
		b.Append(arrow.UnionTypeCode(i))
		branches[i](c)
	}, nil
}

// appendDecimal appends a big-endian two's complement unscaled value.
func appendDecimal(c *cursor, b *array.Decimal128Builder, v []byte) {
	if c.err != nil {
		return
	}
	if len(v) > 16 {
		// Wider than 128 bits is only valid with sign-extension padding.
		bi := new(big.Int).SetBytes(v)
		if v[0]&0x80 != 0 {
			bi.Sub(bi, new(big.Int).Lsh(big.NewInt(1), uint(len(v)*8)))
		}
		if bi.BitLen() > 127 {
			c.fail(fmt.Errorf("decimal of %d bytes does not fit 128 bits", len(v)))
			return
		}
		b.Append(decimal128.FromBigInt(bi))
		return
	}
	var hi, lo uint64
	if len(v) > 0 && v[0]&0x80 != 0 {
		hi, lo = ^uint64(0), ^uint64(0)
	}
	for _, x := range v {
		hi = hi<<8 | lo>>56
		lo = lo<<8 | uint64(x)
	}
	b.Append(decimal128.New(int64(hi), lo))
}
