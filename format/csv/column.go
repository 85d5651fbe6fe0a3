package csv

// This file is kept identical (but for the package clause) in format/csv and
// format/jsonl; column_sync_test.go fails when the two copies drift. It lives
// twice because the brief for these packages allows no shared internal
// package yet; see BENCH_NOTES.md "open".

import (
	"fmt"
	"math"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/array"
	"github.com/apache/arrow/go/v15/arrow/decimal128"
	"github.com/apache/arrow/go/v15/arrow/memory"
)

// kind is the storage class of a column. Decoders switch on it per cell
// instead of calling through an interface, which keeps the hot loop inlined
// into one function per format.
type kind uint8

const (
	kBool kind = iota
	kInt       // int8..int64, values range-checked against lo/hi
	kUint      // uint8..uint64, values range-checked against uhi
	kFloat32
	kFloat64
	kString // utf8
	kLargeString
	kBinary // base64 text
	kDate32
	kTimestamp
	kDecimal
	kStruct
	kList
)

// column accumulates one Arrow column in plain Go slices that are reused
// from batch to batch; finish copies them into allocator-owned buffers.
// Keeping our own slices (rather than arrow builders) lets a rejected row be
// rolled back with truncate, which arrow builders cannot do.
type column struct {
	kind kind
	dt   arrow.DataType
	name string

	lo, hi int64  // kInt range
	uhi    uint64 // kUint range
	unit   arrow.TimeUnit
	prec   int32 // kDecimal
	scale  int32

	valid []byte // one 0/1 byte per row, packed into a bitmap by finish

	b8   []byte // kBool
	i64  []int64
	u64  []uint64
	f64  []float64
	data []byte  // string/binary bytes
	offs []int64 // end offset of each row in data (strings) or in child (list)
	dec  []decimal128.Num

	children []*column // kStruct
	byName   map[string]int
	child    *column // kList

	// seen[i] == gen when child i was set by the object being decoded
	// (JSONL), so missing keys can be filled with nulls without clearing.
	seen []uint32
	gen  uint32
	// token is the name as a JSON string, quotes included (JSONL keys).
	token []byte
}

// newColumn returns the column for dt, or an error naming the unsupported
// type. nested says whether struct and list are allowed (JSONL only).
func newColumn(name string, dt arrow.DataType, nested bool) (*column, error) {
	c := &column{name: name, dt: dt}
	switch t := dt.(type) {
	case *arrow.BooleanType:
		c.kind = kBool
	case *arrow.Int8Type:
		c.kind, c.lo, c.hi = kInt, math.MinInt8, math.MaxInt8
	case *arrow.Int16Type:
		c.kind, c.lo, c.hi = kInt, math.MinInt16, math.MaxInt16
	case *arrow.Int32Type:
		c.kind, c.lo, c.hi = kInt, math.MinInt32, math.MaxInt32
	case *arrow.Int64Type:
		c.kind, c.lo, c.hi = kInt, math.MinInt64, math.MaxInt64
	case *arrow.Uint8Type:
		c.kind, c.uhi = kUint, math.MaxUint8
	case *arrow.Uint16Type:
		c.kind, c.uhi = kUint, math.MaxUint16
	case *arrow.Uint32Type:
		c.kind, c.uhi = kUint, math.MaxUint32
	case *arrow.Uint64Type:
		c.kind, c.uhi = kUint, math.MaxUint64
	case *arrow.Float32Type:
		c.kind = kFloat32
	case *arrow.Float64Type:
		c.kind = kFloat64
	case *arrow.StringType:
		c.kind = kString
	case *arrow.LargeStringType:
		c.kind = kLargeString
	case *arrow.BinaryType:
		c.kind = kBinary
	case *arrow.Date32Type:
		c.kind = kDate32
	case *arrow.TimestampType:
		c.kind, c.unit = kTimestamp, t.Unit
	case *arrow.Decimal128Type:
		if t.Precision < 1 || t.Precision > 38 || t.Scale < 0 || t.Scale > t.Precision {
			return nil, fmt.Errorf("column %q: %s: precision must be 1..38 and scale 0..precision", name, dt)
		}
		c.kind, c.prec, c.scale = kDecimal, t.Precision, t.Scale
	case *arrow.StructType:
		if !nested {
			return nil, fmt.Errorf("column %q: type %s is not supported by this format", name, dt)
		}
		c.kind = kStruct
		c.byName = make(map[string]int, len(t.Fields()))
		c.seen = make([]uint32, len(t.Fields()))
		for i, f := range t.Fields() {
			ch, err := newColumn(f.Name, f.Type, nested)
			if err != nil {
				return nil, fmt.Errorf("column %q: %w", name, err)
			}
			c.children = append(c.children, ch)
			if _, dup := c.byName[f.Name]; !dup {
				c.byName[f.Name] = i
			}
		}
	case *arrow.ListType:
		if !nested {
			return nil, fmt.Errorf("column %q: type %s is not supported by this format", name, dt)
		}
		ch, err := newColumn(t.ElemField().Name, t.ElemField().Type, nested)
		if err != nil {
			return nil, fmt.Errorf("column %q: %w", name, err)
		}
		c.kind, c.child = kList, ch
	default:
		return nil, fmt.Errorf("column %q: type %s is not supported by this format", name, dt)
	}
	return c, nil
}

func (c *column) len() int { return len(c.valid) }

// appendNull adds a null row; every storage slice grows by one so that row
// indexes stay aligned across slices.
func (c *column) appendNull() {
	c.valid = append(c.valid, 0)
	switch c.kind {
	case kBool:
		c.b8 = append(c.b8, 0)
	case kInt, kDate32, kTimestamp:
		c.i64 = append(c.i64, 0)
	case kUint:
		c.u64 = append(c.u64, 0)
	case kFloat32, kFloat64:
		c.f64 = append(c.f64, 0)
	case kString, kLargeString, kBinary:
		c.offs = append(c.offs, int64(len(c.data)))
	case kDecimal:
		c.dec = append(c.dec, decimal128.Num{})
	case kStruct:
		for _, ch := range c.children {
			ch.appendNull()
		}
	case kList:
		c.offs = append(c.offs, int64(c.child.len()))
	}
}

// truncate drops rows from n on; it undoes a partly decoded row.
func (c *column) truncate(n int) {
	// A nested column may be shorter than its children while a row is
	// half decoded, so only leaf columns can stop early.
	if n >= len(c.valid) && c.kind != kStruct && c.kind != kList {
		return
	}
	c.valid = c.valid[:min(n, len(c.valid))]
	switch c.kind {
	case kBool:
		c.b8 = c.b8[:n]
	case kInt, kDate32, kTimestamp:
		c.i64 = c.i64[:n]
	case kUint:
		c.u64 = c.u64[:n]
	case kFloat32, kFloat64:
		c.f64 = c.f64[:n]
	case kString, kLargeString, kBinary:
		c.offs = c.offs[:n]
		end := int64(0)
		if n > 0 {
			end = c.offs[n-1]
		}
		c.data = c.data[:end]
	case kDecimal:
		c.dec = c.dec[:n]
	case kStruct:
		for _, ch := range c.children {
			ch.truncate(n)
		}
	case kList:
		c.offs = c.offs[:min(n, len(c.offs))]
		n = len(c.offs)
		end := 0
		if n > 0 {
			end = int(c.offs[n-1])
		}
		c.child.truncate(end)
	}
}

// reset empties the column, keeping its slices' capacity.
func (c *column) reset() { c.truncate(0) }

// finish copies the rows into buffers from mem, returns them as an array and
// empties the column for the next batch.
func (c *column) finish(mem memory.Allocator) (arrow.Array, error) {
	data, err := c.finishData(mem)
	if err != nil {
		return nil, err
	}
	defer data.Release()
	return array.MakeFromData(data), nil
}

func (c *column) finishData(mem memory.Allocator) (arrow.ArrayData, error) {
	defer c.reset()
	n := len(c.valid)
	validity, nulls := packValidity(mem, c.valid)
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
	switch c.kind {
	case kBool:
		b := newBitmap(mem, n)
		out := b.Bytes()
		for i, v := range c.b8 {
			if v != 0 {
				out[i>>3] |= 1 << (i & 7)
			}
		}
		bufs[1] = b
	case kInt:
		switch c.dt.ID() {
		case arrow.INT8:
			b := newBuf(mem, n)
			out := arrow.Int8Traits.CastFromBytes(b.Bytes())
			for i, v := range c.i64 {
				out[i] = int8(v)
			}
			bufs[1] = b
		case arrow.INT16:
			b := newBuf(mem, 2*n)
			out := arrow.Int16Traits.CastFromBytes(b.Bytes())
			for i, v := range c.i64 {
				out[i] = int16(v)
			}
			bufs[1] = b
		case arrow.INT32:
			b := newBuf(mem, 4*n)
			out := arrow.Int32Traits.CastFromBytes(b.Bytes())
			for i, v := range c.i64 {
				out[i] = int32(v)
			}
			bufs[1] = b
		default:
			b := newBuf(mem, 8*n)
			copy(arrow.Int64Traits.CastFromBytes(b.Bytes()), c.i64)
			bufs[1] = b
		}
	case kTimestamp:
		b := newBuf(mem, 8*n)
		copy(arrow.Int64Traits.CastFromBytes(b.Bytes()), c.i64)
		bufs[1] = b
	case kDate32:
		b := newBuf(mem, 4*n)
		out := arrow.Int32Traits.CastFromBytes(b.Bytes())
		for i, v := range c.i64 {
			out[i] = int32(v)
		}
		bufs[1] = b
	case kUint:
		switch c.dt.ID() {
		case arrow.UINT8:
			b := newBuf(mem, n)
			out := b.Bytes()
			for i, v := range c.u64 {
				out[i] = uint8(v)
			}
			bufs[1] = b
		case arrow.UINT16:
			b := newBuf(mem, 2*n)
			out := arrow.Uint16Traits.CastFromBytes(b.Bytes())
			for i, v := range c.u64 {
				out[i] = uint16(v)
			}
			bufs[1] = b
		case arrow.UINT32:
			b := newBuf(mem, 4*n)
			out := arrow.Uint32Traits.CastFromBytes(b.Bytes())
			for i, v := range c.u64 {
				out[i] = uint32(v)
			}
			bufs[1] = b
		default:
			b := newBuf(mem, 8*n)
			copy(arrow.Uint64Traits.CastFromBytes(b.Bytes()), c.u64)
			bufs[1] = b
		}
	case kFloat32:
		b := newBuf(mem, 4*n)
		out := arrow.Float32Traits.CastFromBytes(b.Bytes())
		for i, v := range c.f64 {
			out[i] = float32(v)
		}
		bufs[1] = b
	case kFloat64:
		b := newBuf(mem, 8*n)
		copy(arrow.Float64Traits.CastFromBytes(b.Bytes()), c.f64)
		bufs[1] = b
	case kString, kBinary:
		if len(c.data) > math.MaxInt32 {
			return nil, fmt.Errorf("column %q: %d bytes in one batch exceed the 2 GiB of %s; use large_utf8 or fewer rows per batch", c.name, len(c.data), c.dt)
		}
		ob := newBuf(mem, 4*(n+1))
		out := arrow.Int32Traits.CastFromBytes(ob.Bytes())
		out[0] = 0
		for i, v := range c.offs {
			out[i+1] = int32(v)
		}
		db := newBuf(mem, len(c.data))
		copy(db.Bytes(), c.data)
		bufs = append(bufs[:1], ob, db)
	case kLargeString:
		ob := newBuf(mem, 8*(n+1))
		out := arrow.Int64Traits.CastFromBytes(ob.Bytes())
		out[0] = 0
		copy(out[1:], c.offs)
		db := newBuf(mem, len(c.data))
		copy(db.Bytes(), c.data)
		bufs = append(bufs[:1], ob, db)
	case kDecimal:
		b := newBuf(mem, 16*n)
		copy(arrow.Decimal128Traits.CastFromBytes(b.Bytes()), c.dec)
		bufs[1] = b
	case kStruct:
		bufs = bufs[:1]
		for _, ch := range c.children {
			d, err := ch.finishData(mem)
			if err != nil {
				return nil, err
			}
			children = append(children, d)
		}
	case kList:
		end := c.child.len()
		if end > math.MaxInt32 {
			return nil, fmt.Errorf("column %q: %d list elements in one batch exceed the limit of %s", c.name, end, c.dt)
		}
		ob := newBuf(mem, 4*(n+1))
		out := arrow.Int32Traits.CastFromBytes(ob.Bytes())
		out[0] = 0
		for i, v := range c.offs {
			out[i+1] = int32(v)
		}
		bufs[1] = ob
		d, err := c.child.finishData(mem)
		if err != nil {
			return nil, err
		}
		children = append(children, d)
	}
	return array.NewData(c.dt, n, bufs, children, nulls, 0), nil
}

// newBuf allocates n bytes from mem for values the caller overwrites in
// full. Clearing here too cost 10% of JSONL decoding in profiles.
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
