package rowcodec

import (
	"fmt"
	"math"
	"unsafe"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// Kind is the storage class of a column. Decoders switch on it per cell
// instead of calling through an interface, which keeps each format's hot
// loop in one function.
type Kind uint8

const (
	KindBool Kind = iota
	KindInt       // int8..int64, values range-checked against Lo/Hi
	KindUint      // uint8..uint64, values range-checked against UHi
	KindFloat32
	KindFloat64
	KindString // utf8
	KindLargeString
	KindBinary // base64 text
	KindDate32
	KindTimestamp
	KindDecimal
	KindStruct
	KindList
)

// Column accumulates one Arrow column in plain Go slices that are reused
// from batch to batch; Finish copies them into allocator-owned buffers.
// Keeping our own slices (rather than arrow builders) lets a rejected row be
// rolled back with Truncate, which arrow builders cannot do.
//
// The fields are exported because the decoders append to them directly in
// their per-cell loops: a method call per value would cost more than the
// append, and the decoders differ in how they append (CSV from cell text,
// JSONL from typed JSON values). A decoder appends to the value slice of
// its Kind and to Valid, and keeps every slice at the same row count.
type Column struct {
	Kind Kind
	Type arrow.DataType
	Name string

	Lo, Hi int64  // KindInt range
	UHi    uint64 // KindUint range
	Unit   arrow.TimeUnit
	Prec   int32 // KindDecimal
	Scale  int32

	Valid []byte // one 0/1 byte per row, packed into a bitmap by Finish

	B8   []byte  // KindBool
	I64  []int64 // KindInt, KindDate32, KindTimestamp
	U64  []uint64
	F64  []float64 // KindFloat32 too
	Data []byte    // string/binary bytes
	Offs []int64   // end offset of each row in Data (strings) or in Child (list)
	Dec  []decimal128.Num

	Children []*Column // KindStruct
	ByName   map[string]int
	Child    *Column // KindList

	// Seen[i] == Gen when child i was set by the object being decoded
	// (JSONL), so missing keys can be filled with nulls without clearing.
	Seen []uint32
	Gen  uint32
	// Token is the name as a JSON string, quotes included (JSONL keys).
	Token []byte
}

// NewColumn returns the column for dt, or an error naming the unsupported
// type. nested says whether struct and list are allowed (JSONL only).
func NewColumn(name string, dt arrow.DataType, nested bool) (*Column, error) {
	c := &Column{Name: name, Type: dt}
	switch t := dt.(type) {
	case *arrow.BooleanType:
		c.Kind = KindBool
	case *arrow.Int8Type:
		c.Kind, c.Lo, c.Hi = KindInt, math.MinInt8, math.MaxInt8
	case *arrow.Int16Type:
		c.Kind, c.Lo, c.Hi = KindInt, math.MinInt16, math.MaxInt16
	case *arrow.Int32Type:
		c.Kind, c.Lo, c.Hi = KindInt, math.MinInt32, math.MaxInt32
	case *arrow.Int64Type:
		c.Kind, c.Lo, c.Hi = KindInt, math.MinInt64, math.MaxInt64
	case *arrow.Uint8Type:
		c.Kind, c.UHi = KindUint, math.MaxUint8
	case *arrow.Uint16Type:
		c.Kind, c.UHi = KindUint, math.MaxUint16
	case *arrow.Uint32Type:
		c.Kind, c.UHi = KindUint, math.MaxUint32
	case *arrow.Uint64Type:
		c.Kind, c.UHi = KindUint, math.MaxUint64
	case *arrow.Float32Type:
		c.Kind = KindFloat32
	case *arrow.Float64Type:
		c.Kind = KindFloat64
	case *arrow.StringType:
		c.Kind = KindString
	case *arrow.LargeStringType:
		c.Kind = KindLargeString
	case *arrow.BinaryType:
		c.Kind = KindBinary
	case *arrow.Date32Type:
		c.Kind = KindDate32
	case *arrow.TimestampType:
		c.Kind, c.Unit = KindTimestamp, t.Unit
	case *arrow.Decimal128Type:
		if t.Precision < 1 || t.Precision > 38 || t.Scale < 0 || t.Scale > t.Precision {
			return nil, fmt.Errorf("column %q: %s: precision must be 1..38 and scale 0..precision", name, dt)
		}
		c.Kind, c.Prec, c.Scale = KindDecimal, t.Precision, t.Scale
	case *arrow.StructType:
		if !nested {
			return nil, fmt.Errorf("column %q: type %s is not supported by this format", name, dt)
		}
		c.Kind = KindStruct
		c.ByName = make(map[string]int, len(t.Fields()))
		c.Seen = make([]uint32, len(t.Fields()))
		for i, f := range t.Fields() {
			ch, err := NewColumn(f.Name, f.Type, nested)
			if err != nil {
				return nil, fmt.Errorf("column %q: %w", name, err)
			}
			c.Children = append(c.Children, ch)
			if _, dup := c.ByName[f.Name]; !dup {
				c.ByName[f.Name] = i
			}
		}
	case *arrow.ListType:
		if !nested {
			return nil, fmt.Errorf("column %q: type %s is not supported by this format", name, dt)
		}
		ch, err := NewColumn(t.ElemField().Name, t.ElemField().Type, nested)
		if err != nil {
			return nil, fmt.Errorf("column %q: %w", name, err)
		}
		c.Kind, c.Child = KindList, ch
	default:
		return nil, fmt.Errorf("column %q: type %s is not supported by this format", name, dt)
	}
	return c, nil
}

// Len is the number of rows appended since the last Finish or Reset.
func (c *Column) Len() int { return len(c.Valid) }

// AppendNull adds a null row; every storage slice grows by one so that row
// indexes stay aligned across slices.
func (c *Column) AppendNull() {
	c.Valid = append(c.Valid, 0)
	switch c.Kind {
	case KindBool:
		c.B8 = append(c.B8, 0)
	case KindInt, KindDate32, KindTimestamp:
		c.I64 = append(c.I64, 0)
	case KindUint:
		c.U64 = append(c.U64, 0)
	case KindFloat32, KindFloat64:
		c.F64 = append(c.F64, 0)
	case KindString, KindLargeString, KindBinary:
		c.Offs = append(c.Offs, int64(len(c.Data)))
	case KindDecimal:
		c.Dec = append(c.Dec, decimal128.Num{})
	case KindStruct:
		for _, ch := range c.Children {
			ch.AppendNull()
		}
	case KindList:
		c.Offs = append(c.Offs, int64(c.Child.Len()))
	}
}

// Truncate drops rows from n on; it undoes a partly decoded row.
func (c *Column) Truncate(n int) {
	// A nested column may be shorter than its children while a row is
	// half decoded, so only leaf columns can stop early.
	if n >= len(c.Valid) && c.Kind != KindStruct && c.Kind != KindList {
		return
	}
	c.Valid = c.Valid[:min(n, len(c.Valid))]
	switch c.Kind {
	case KindBool:
		c.B8 = c.B8[:n]
	case KindInt, KindDate32, KindTimestamp:
		c.I64 = c.I64[:n]
	case KindUint:
		c.U64 = c.U64[:n]
	case KindFloat32, KindFloat64:
		c.F64 = c.F64[:n]
	case KindString, KindLargeString, KindBinary:
		c.Offs = c.Offs[:n]
		end := int64(0)
		if n > 0 {
			end = c.Offs[n-1]
		}
		c.Data = c.Data[:end]
	case KindDecimal:
		c.Dec = c.Dec[:n]
	case KindStruct:
		for _, ch := range c.Children {
			ch.Truncate(n)
		}
	case KindList:
		c.Offs = c.Offs[:min(n, len(c.Offs))]
		n = len(c.Offs)
		end := 0
		if n > 0 {
			end = int(c.Offs[n-1])
		}
		c.Child.Truncate(end)
	}
}

// Reset empties the column, keeping its slices' capacity.
func (c *Column) Reset() { c.Truncate(0) }

// Finish copies the rows into buffers from mem, returns them as an array and
// empties the column for the next batch.
func (c *Column) Finish(mem memory.Allocator) (arrow.Array, error) {
	data, err := c.finishData(mem)
	if err != nil {
		return nil, err
	}
	defer data.Release()
	return array.MakeFromData(data), nil
}

func (c *Column) finishData(mem memory.Allocator) (arrow.ArrayData, error) {
	defer c.Reset()
	n := len(c.Valid)
	validity, nulls := packValidity(mem, c.Valid)
	bufs := []*memory.Buffer{validity, nil}
	var children []arrow.ArrayData
	defer func() {
		for _, b := range bufs {
			if b != nil {
				b.Release()
			}
		}
		for _, ch := range children {
			ch.Release()
		}
	}()
	switch c.Kind {
	case KindBool:
		b := newBitmap(mem, n)
		out := b.Bytes()
		for i, v := range c.B8 {
			if v != 0 {
				out[i>>3] |= 1 << (i & 7)
			}
		}
		bufs[1] = b
	case KindInt:
		switch c.Type.ID() {
		case arrow.INT8:
			bufs[1] = values[int8](mem, n, c.I64)
		case arrow.INT16:
			bufs[1] = values[int16](mem, n, c.I64)
		case arrow.INT32:
			bufs[1] = values[int32](mem, n, c.I64)
		default:
			bufs[1] = values[int64](mem, n, c.I64)
		}
	case KindTimestamp:
		bufs[1] = values[int64](mem, n, c.I64)
	case KindDate32:
		bufs[1] = values[int32](mem, n, c.I64)
	case KindUint:
		switch c.Type.ID() {
		case arrow.UINT8:
			bufs[1] = values[uint8](mem, n, c.U64)
		case arrow.UINT16:
			bufs[1] = values[uint16](mem, n, c.U64)
		case arrow.UINT32:
			bufs[1] = values[uint32](mem, n, c.U64)
		default:
			bufs[1] = values[uint64](mem, n, c.U64)
		}
	case KindFloat32:
		bufs[1] = values[float32](mem, n, c.F64)
	case KindFloat64:
		bufs[1] = values[float64](mem, n, c.F64)
	case KindString, KindBinary:
		if len(c.Data) > math.MaxInt32 {
			return nil, fmt.Errorf("column %q: %d bytes in one batch exceed the 2 GiB of %s; use large_utf8 or fewer rows per batch", c.Name, len(c.Data), c.Type)
		}
		ob := newBuf(mem, 4*(n+1))
		out := arrow.Int32Traits.CastFromBytes(ob.Bytes())
		out[0] = 0
		for i, v := range c.Offs {
			out[i+1] = int32(v)
		}
		db := newBuf(mem, len(c.Data))
		copy(db.Bytes(), c.Data)
		bufs = append(bufs[:1], ob, db)
	case KindLargeString:
		ob := newBuf(mem, 8*(n+1))
		out := arrow.Int64Traits.CastFromBytes(ob.Bytes())
		out[0] = 0
		copy(out[1:], c.Offs)
		db := newBuf(mem, len(c.Data))
		copy(db.Bytes(), c.Data)
		bufs = append(bufs[:1], ob, db)
	case KindDecimal:
		b := newBuf(mem, 16*n)
		copy(arrow.Decimal128Traits.CastFromBytes(b.Bytes()), c.Dec)
		bufs[1] = b
	case KindStruct:
		bufs = bufs[:1]
		for _, ch := range c.Children {
			d, err := ch.finishData(mem)
			if err != nil {
				return nil, err
			}
			children = append(children, d)
		}
	case KindList:
		end := c.Child.Len()
		if end > math.MaxInt32 {
			return nil, fmt.Errorf("column %q: %d list elements in one batch exceed the limit of %s", c.Name, end, c.Type)
		}
		ob := newBuf(mem, 4*(n+1))
		out := arrow.Int32Traits.CastFromBytes(ob.Bytes())
		out[0] = 0
		for i, v := range c.Offs {
			out[i+1] = int32(v)
		}
		bufs[1] = ob
		d, err := c.Child.finishData(mem)
		if err != nil {
			return nil, err
		}
		children = append(children, d)
	}
	return array.NewData(c.Type, n, bufs, children, nulls, 0), nil
}

// newBuf allocates n bytes from mem for values the caller overwrites in
// full. Clearing here too cost 10% of JSONL decoding in profiles.
// number is what the decoders accumulate (int64, uint64, float64) and
// what Arrow stores (any width).
type number interface {
	~int8 | ~int16 | ~int32 | ~int64 | ~uint8 | ~uint16 | ~uint32 | ~uint64 | ~float32 | ~float64
}

// values allocates an Arrow values buffer of n To and fills it from the
// accumulated values, narrowing each one (the decoders have already
// checked that it fits); a plain copy when the types are the same.
func values[To, From number](mem memory.Allocator, n int, from []From) *memory.Buffer {
	var zero To
	b := newBuf(mem, n*int(unsafe.Sizeof(zero)))
	out := arrow.GetData[To](b.Bytes())
	if same, ok := any(from).([]To); ok {
		copy(out, same)
		return b
	}
	for i, v := range from {
		out[i] = To(v)
	}
	return b
}

func newBuf(mem memory.Allocator, n int) *memory.Buffer {
	b := memory.NewResizableBuffer(mem)
	b.Resize(n)
	return b
}

// newBitmap allocates a cleared bitmap for n bits: allocators are not
// required to zero memory, and bitmaps are built by OR-ing bits in.
func newBitmap(mem memory.Allocator, n int) *memory.Buffer {
	b := newBuf(mem, (n+7)/8)
	clear(b.Bytes())
	return b
}

// packValidity turns one byte per row into a bitmap; it returns nil when no
// row is null, which Arrow reads as "all valid".
func packValidity(mem memory.Allocator, valid []byte) (*memory.Buffer, int) {
	nulls := 0
	for _, v := range valid {
		nulls += int(v ^ 1)
	}
	if nulls == 0 {
		return nil, 0
	}
	b := newBitmap(mem, len(valid))
	out := b.Bytes()
	for i, v := range valid {
		out[i>>3] |= v << (i & 7)
	}
	return b, nulls
}
