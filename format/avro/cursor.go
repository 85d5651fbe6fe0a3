package avro

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
)

var errShort = errors.New("unexpected end of block")

// cursor decodes Avro's binary encoding from one decompressed block. Every
// length is checked against the bytes left, so corrupt input gives an
// error, never a panic or a huge allocation.
type cursor struct {
	b   []byte
	off int
	err error
	// items bounds the array and map items one block may declare, so that
	// zero-byte items (null) cannot make a few bytes expand without limit.
	items int64
}

func newCursor(b []byte) cursor { return cursor{b: b, items: int64(len(b)) + 1<<16} }

func (c *cursor) fail(err error) {
	if c.err == nil {
		c.err = err
	}
}

// long reads a zig-zag varint.
func (c *cursor) long() int64 {
	var u uint64
	for shift := 0; shift < 64; shift += 7 {
		if c.off >= len(c.b) {
			c.fail(errShort)
			return 0
		}
		b := c.b[c.off]
		c.off++
		u |= uint64(b&0x7f) << shift
		if b < 0x80 {
			return int64(u>>1) ^ -int64(u&1)
		}
	}
	c.fail(errors.New("varint longer than 10 bytes"))
	return 0
}

func (c *cursor) int() int32 {
	v := c.long()
	if v < math.MinInt32 || v > math.MaxInt32 {
		c.fail(fmt.Errorf("int %d out of range", v))
		return 0
	}
	return int32(v)
}

func (c *cursor) bool() bool {
	if c.off >= len(c.b) {
		c.fail(errShort)
		return false
	}
	v := c.b[c.off]
	c.off++
	return v != 0
}

func (c *cursor) fixed(n int) []byte {
	if n < 0 || n > len(c.b)-c.off {
		c.fail(errShort)
		return nil
	}
	v := c.b[c.off : c.off+n]
	c.off += n
	return v
}

func (c *cursor) float() float32 {
	b := c.fixed(4)
	if b == nil {
		return 0
	}
	return math.Float32frombits(binary.LittleEndian.Uint32(b))
}

func (c *cursor) double() float64 {
	b := c.fixed(8)
	if b == nil {
		return 0
	}
	return math.Float64frombits(binary.LittleEndian.Uint64(b))
}

// bytes returns a view into the block; builders copy it.
func (c *cursor) bytes() []byte {
	n := c.long()
	if n < 0 || n > int64(len(c.b)-c.off) {
		c.fail(fmt.Errorf("length %d exceeds the %d bytes left in the block", n, len(c.b)-c.off))
		return nil
	}
	return c.fixed(int(n))
}

// blockCount reads an array or map block header: the item count, with the
// byte size that follows a negative count skipped. A count larger than
// the bytes left (plus slack for zero-byte items such as null) is corrupt.
func (c *cursor) blockCount() int64 {
	n := c.long()
	if n < 0 {
		n = -n
		c.long()
	}
	if n < 0 || n > c.items {
		c.fail(fmt.Errorf("array or map block of %d items exceeds what the block can hold", n))
		return 0
	}
	c.items -= n
	return n
}
