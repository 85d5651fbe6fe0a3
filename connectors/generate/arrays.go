package generate

import (
	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/bitutil"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// buffer allocates a zeroed buffer of size bytes from mem.
func buffer(mem memory.Allocator, size int) *memory.Buffer {
	b := memory.NewResizableBuffer(mem)
	b.Resize(size)
	memory.Set(b.Bytes(), 0)
	return b
}

// validity is a null bitmap being filled; a column with no nulls has none.
type validity struct {
	buf   *memory.Buffer
	bits  []byte
	nulls int
}

func newValidity(mem memory.Allocator, n int) *validity {
	v := &validity{buf: buffer(mem, int(bitutil.BytesForBits(int64(n))))}
	v.bits = v.buf.Bytes()
	return v
}

func (v *validity) set(i int, valid bool) {
	if valid {
		bitutil.SetBit(v.bits, i)
	} else {
		v.nulls++
	}
}

// finish returns the bitmap buffer and null count to build array data with;
// a column that turned out to have no null drops its bitmap.
func (v *validity) finish() (*memory.Buffer, int) {
	if v == nil {
		return nil, 0
	}
	if v.nulls == 0 {
		v.buf.Release()
		return nil, 0
	}
	return v.buf, v.nulls
}

// makeArray wraps buffers into an array and drops this function's
// references to them (the array data retains what it keeps).
func makeArray(dt arrow.DataType, n int, valid *validity, bufs ...*memory.Buffer) arrow.Array {
	vb, nulls := valid.finish()
	all := append([]*memory.Buffer{vb}, bufs...)
	d := array.NewData(dt, n, all, nil, nulls, 0)
	for _, b := range all {
		if b != nil {
			b.Release()
		}
	}
	defer d.Release()
	return array.MakeFromData(d)
}

// fixed builds a fixed-width column, calling fill with the value slice to
// write into directly.
func fixed[T arrow.FixedWidthType](mem memory.Allocator, dt arrow.DataType, n int, valid *validity, fill func(vals []T)) arrow.Array {
	var zero T
	buf := buffer(mem, n*sizeOf(zero))
	fill(arrow.GetData[T](buf.Bytes())[:n])
	return makeArray(dt, n, valid, buf)
}

func sizeOf[T arrow.FixedWidthType](T) int {
	var z T
	return len(arrow.GetBytes([]T{z}))
}

// pool is a fixed set of strings laid out for copying: the column builder
// copies pool bytes into the data buffer without touching Go strings.
type pool struct {
	data []byte
	offs []int32 // len(strings)+1
}

func newPool(strs []string) *pool {
	p := &pool{offs: make([]int32, 0, len(strs)+1)}
	for _, s := range strs {
		p.offs = append(p.offs, int32(len(p.data)))
		p.data = append(p.data, s...)
	}
	p.offs = append(p.offs, int32(len(p.data)))
	return p
}

func (p *pool) len() int { return len(p.offs) - 1 }

func (p *pool) size(i int) int32 { return p.offs[i+1] - p.offs[i] }

// strings builds a utf8 (or binary) column whose row i is pool entry
// idx[i], or null where idx[i] < 0.
func (p *pool) strings(mem memory.Allocator, dt arrow.DataType, idx []int32) arrow.Array {
	n := len(idx)
	var valid *validity
	offBuf := buffer(mem, (n+1)*4)
	offs := arrow.GetData[int32](offBuf.Bytes())[:n+1]
	var total int32
	for i, k := range idx {
		offs[i] = total
		if k >= 0 {
			total += p.size(int(k))
		} else if valid == nil {
			valid = newValidity(mem, n)
			for j := 0; j < i; j++ {
				bitutil.SetBit(valid.bits, j)
			}
		}
		if valid != nil {
			valid.set(i, k >= 0)
		}
	}
	offs[n] = total
	dataBuf := buffer(mem, int(total))
	data := dataBuf.Bytes()
	pos := 0
	for _, k := range idx {
		if k >= 0 {
			pos += copy(data[pos:], p.data[p.offs[k]:p.offs[k+1]])
		}
	}
	return makeArray(dt, n, valid, offBuf, dataBuf)
}

// newRecord builds a record from freshly made columns, handing this
// function's references to the record.
func newRecord(schema *arrow.Schema, cols []arrow.Array, n int) arrow.RecordBatch {
	rec := array.NewRecordBatch(schema, cols, int64(n))
	for _, c := range cols {
		c.Release()
	}
	return rec
}
