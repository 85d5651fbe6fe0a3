package wasmabi

import (
	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/bitutil"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// nestWriter lays out a nested input column (ABI.md, "Nested types"):
// its descriptor in the batch's table points at a block of child
// descriptors, each child's buffers follow, 64-byte aligned like every
// buffer. With view nil it only counts the bytes (layoutSize), so the
// sizing and the writing walk the same code.
type nestWriter struct {
	view    []byte // the reserved region; nil: count only
	base    uint32 // its address in guest memory
	pos     int    // next free byte of view
	scratch [descSize]byte
}

func (w *nestWriter) place(size int) (int, uint32) {
	if size == 0 {
		return 0, 0
	}
	p := w.pos
	w.pos += align64(size)
	return p, w.base + uint32(p)
}

// nestedSize is the bytes a nested input column's buffers and child
// descriptors take, past its own descriptor.
func nestedSize(c inCol) int {
	w := nestWriter{}
	d := c.arr.Data()
	w.node(w.scratch[:], d, d.Offset(), d.Len())
	return w.pos
}

// writeNested writes column c's descriptor d (whose index is set) and
// everything below it at pos; it returns the next free position.
func writeNested(view []byte, base uint32, pos int, d []byte, c inCol) int {
	w := nestWriter{view: view, base: base, pos: pos}
	data := c.arr.Data()
	w.node(d, data, data.Offset(), data.Len())
	return w.pos
}

// node describes n rows of data starting at its row start (its own
// offset included) in descriptor d. Children get exactly the rows their
// parent's rows cover, so a child of a list starts at row 0 like a
// string's values start at byte 0; offsets are copied as they are.
func (w *nestWriter) node(d []byte, data arrow.ArrayData, start, n int) {
	_, code, _ := typeName(data.DataType()) // checked at bind
	d[4] = code
	bufs := data.Buffers()
	if len(bufs) > 0 && bufs[0] != nil && n > 0 {
		if nulls := n - bitutil.CountSetBits(bufs[0].Bytes(), start, n); nulls > 0 {
			le.PutUint32(d[8:], uint32(nulls))
			p, ptr := w.place((n + 7) / 8)
			if w.view != nil {
				copyBits(w.view[p:p+(n+7)/8], bufs[0].Bytes(), start, n)
			}
			le.PutUint32(d[12:], ptr)
		}
	}
	lay, _ := layoutOf(code)
	switch {
	case code == codeList || code == codeMap:
		lo, hi := w.offsets(d, bufs[1], start, n, 4)
		entries := data.Children()[0]
		if code == codeList {
			w.children(d, []arrow.ArrayData{entries}, int(lo), int(hi-lo))
			return
		}
		// A map's entries are a struct of key and value in Arrow; the
		// ABI hands the two columns over as the map's children.
		kv := entries.Children()
		w.children(d, kv, entries.Offset()+int(lo), int(hi-lo))
	case code == codeStruct:
		// A struct's children are indexed like the struct itself,
		// its offset included.
		w.children(d, data.Children(), start, n)
	case lay.offsets > 0:
		lo, hi := w.offsets(d, bufs[1], start, n, lay.offsets)
		w.values(d, bufs[2], int(lo), int(hi-lo))
	case lay.width > 0:
		w.values(d, bufs[1], start*lay.width, n*lay.width)
	default: // bool
		p, ptr := w.place((n + 7) / 8)
		if w.view != nil && n > 0 {
			copyBits(w.view[p:p+(n+7)/8], bufs[1].Bytes(), start, n)
		}
		le.PutUint32(d[20:], ptr)
		le.PutUint32(d[24:], uint32((n+7)/8))
	}
}

// offsets copies the n+1 offsets from row start (ow bytes each) and
// returns the first and last.
func (w *nestWriter) offsets(d []byte, buf *memory.Buffer, start, n, ow int) (int64, int64) {
	p, ptr := w.place((n + 1) * ow)
	le.PutUint32(d[16:], ptr)
	var src []byte
	if buf != nil {
		src = buf.Bytes()
	}
	if len(src) < (start+n+1)*ow {
		// An empty child may come without buffers: its offsets are 0.
		if w.view != nil {
			clear(w.view[p : p+(n+1)*ow])
		}
		return 0, 0
	}
	src = src[start*ow : (start+n+1)*ow]
	if w.view != nil {
		copy(w.view[p:], src)
	}
	if ow == 4 {
		return int64(int32(le.Uint32(src))), int64(int32(le.Uint32(src[4*n:])))
	}
	return int64(le.Uint64(src)), int64(le.Uint64(src[8*n:]))
}

// values copies size bytes of buf from byte from as the values buffer.
func (w *nestWriter) values(d []byte, buf *memory.Buffer, from, size int) {
	p, ptr := w.place(size)
	if w.view != nil && size > 0 {
		copy(w.view[p:p+size], buf.Bytes()[from:from+size])
	}
	le.PutUint32(d[20:], ptr)
	le.PutUint32(d[24:], uint32(size))
}

// children writes the block of descriptors of kids, each of n rows from
// logical row start (each kid's own offset is added), and points d at it
// (values = the block, values_len = how many). start is in the parent's
// index space: row start of the parent is row k.Offset()+start of kid k.
func (w *nestWriter) children(d []byte, kids []arrow.ArrayData, start, n int) {
	p, ptr := w.place(descSize * len(kids))
	le.PutUint32(d[20:], ptr)
	le.PutUint32(d[24:], uint32(len(kids)))
	for i, k := range kids {
		kd := w.scratch[:]
		if w.view != nil {
			kd = w.view[p+descSize*i : p+descSize*(i+1)]
		}
		clear(kd)
		le.PutUint32(kd, uint32(i))
		w.node(kd, k, k.Offset()+start, n)
	}
}
