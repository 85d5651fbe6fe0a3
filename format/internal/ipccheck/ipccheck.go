// Package ipccheck validates Arrow IPC message metadata before arrow-go
// decodes it. It is shared by the Arrow IPC reader and by the Parquet
// reader, which decodes the Arrow schema stored in a Parquet footer.
package ipccheck

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// arrow-go v15 trusts the flatbuffers in IPC metadata: a corrupt vector
// length makes it allocate that many elements (a fatal out-of-memory that
// recover cannot catch), and offsets that point back at a parent make it
// recurse forever. Message walks the parts of a Message that arrow-go
// turns into allocations or recursion and checks every offset and length
// against the buffer first.

var errFlatbuf = errors.New("corrupt flatbuffer metadata")

// Message header types (format/Message.fbs) and the Type union members
// whose tables hold offsets (format/Schema.fbs).
const (
	headerSchema          = 1
	headerDictionaryBatch = 2
	headerRecordBatch     = 3
	typeTimestamp         = 10
	typeUnion             = 14
	maxNesting            = 64
)

type fbuf struct {
	b []byte
	// budget bounds the tables visited, so a DAG of shared sub-tables
	// (which arrow-go would walk as a tree) cannot blow up.
	budget int
}

func (f *fbuf) u32(pos int) (uint32, error) {
	if pos < 0 || pos+4 > len(f.b) {
		return 0, errFlatbuf
	}
	return binary.LittleEndian.Uint32(f.b[pos:]), nil
}

func (f *fbuf) u16(pos int) (int, error) {
	if pos < 0 || pos+2 > len(f.b) {
		return 0, errFlatbuf
	}
	return int(binary.LittleEndian.Uint16(f.b[pos:])), nil
}

// deref follows the uoffset stored at pos.
func (f *fbuf) deref(pos int) (int, error) {
	off, err := f.u32(pos)
	if err != nil || int64(pos)+int64(off) >= int64(len(f.b)) {
		return 0, errFlatbuf
	}
	return pos + int(off), nil
}

// table checks the table at tbl and its vtable.
func (f *fbuf) table(tbl int) error {
	if f.budget--; f.budget < 0 {
		return fmt.Errorf("%w: too many tables", errFlatbuf)
	}
	so, err := f.u32(tbl)
	if err != nil {
		return err
	}
	vt := int64(tbl) - int64(int32(so))
	if vt < 0 || vt+4 > int64(len(f.b)) {
		return errFlatbuf
	}
	size, err := f.u16(int(vt))
	if err != nil || vt+int64(size) > int64(len(f.b)) {
		return errFlatbuf
	}
	return nil
}

// field returns the position of field id of the table at tbl, or -1.
func (f *fbuf) field(tbl, id int) (int, error) {
	so, _ := f.u32(tbl)
	vt := tbl - int(int32(so))
	size, err := f.u16(vt)
	if err != nil {
		return 0, err
	}
	// Present when the slot starts inside the vtable, exactly as the
	// flatbuffers runtime decides (it reads a slot that starts at the
	// last byte of an odd-sized vtable).
	if 4+2*id >= size {
		return -1, nil
	}
	off, err := f.u16(vt + 4 + 2*id)
	if err != nil || off == 0 {
		return -1, err
	}
	if tbl+off >= len(f.b) {
		return 0, errFlatbuf
	}
	return tbl + off, nil
}

// child returns the table an offset field points to, or -1.
func (f *fbuf) child(tbl, id int) (int, error) {
	pos, err := f.field(tbl, id)
	if err != nil || pos < 0 {
		return -1, err
	}
	t, err := f.deref(pos)
	if err != nil {
		return 0, err
	}
	return t, f.table(t)
}

// vector returns the element start and count of a vector field whose
// elements are elemSize bytes, checking they lie within the buffer.
func (f *fbuf) vector(tbl, id, elemSize int) (start, n int, err error) {
	pos, err := f.field(tbl, id)
	if err != nil || pos < 0 {
		return 0, 0, err
	}
	v, err := f.deref(pos)
	if err != nil {
		return 0, 0, err
	}
	cnt, err := f.u32(v)
	if err != nil || int64(v)+4+int64(cnt)*int64(elemSize) > int64(len(f.b)) {
		return 0, 0, fmt.Errorf("%w: vector of %d elements overruns the metadata", errFlatbuf, cnt)
	}
	return v + 4, int(cnt), nil
}

// tables checks each table of a vector of tables with fn.
func (f *fbuf) tables(tbl, id int, fn func(t int) error) error {
	start, n, err := f.vector(tbl, id, 4)
	if err != nil {
		return err
	}
	for i := 0; i < n; i++ {
		t, err := f.deref(start + 4*i)
		if err != nil {
			return err
		}
		if err := f.table(t); err != nil {
			return err
		}
		if err := fn(t); err != nil {
			return err
		}
	}
	return nil
}

func (f *fbuf) keyValues(tbl, id int) error {
	return f.tables(tbl, id, func(kv int) error {
		for _, sid := range []int{0, 1} { // key, value strings
			if _, _, err := f.vector(kv, sid, 1); err != nil {
				return err
			}
		}
		return nil
	})
}

// Message validates an IPC Message flatbuffer and returns its body length.
func Message(meta []byte) (int64, error) {
	f := &fbuf{b: meta, budget: len(meta)}
	root, err := f.deref(0)
	if err != nil {
		return 0, err
	}
	if err := f.table(root); err != nil {
		return 0, err
	}
	if err := f.keyValues(root, 4); err != nil {
		return 0, err
	}
	var bodyLen int64
	if pos, err := f.field(root, 3); err != nil {
		return 0, err
	} else if pos >= 0 {
		if pos+8 > len(meta) {
			return 0, errFlatbuf
		}
		bodyLen = int64(binary.LittleEndian.Uint64(meta[pos:]))
		if bodyLen < 0 {
			return 0, fmt.Errorf("%w: negative body length", errFlatbuf)
		}
	}
	htype := 0
	if pos, err := f.field(root, 1); err != nil {
		return 0, err
	} else if pos >= 0 {
		htype = int(meta[pos])
	}
	header, err := f.child(root, 2)
	if err != nil || header < 0 {
		return 0, fmt.Errorf("%w: message without header", errFlatbuf)
	}
	switch htype {
	case headerSchema:
		err = f.schema(header)
	case headerDictionaryBatch:
		var rb int
		if rb, err = f.child(header, 1); err == nil && rb >= 0 {
			err = f.recordBatch(rb, bodyLen)
		}
	case headerRecordBatch:
		err = f.recordBatch(header, bodyLen)
	}
	return bodyLen, err
}

func (f *fbuf) schema(s int) error {
	if err := f.keyValues(s, 2); err != nil {
		return err
	}
	if _, _, err := f.vector(s, 3, 8); err != nil { // features
		return err
	}
	return f.tables(s, 1, func(t int) error { return f.fieldTable(t, 0) })
}

func (f *fbuf) fieldTable(t, depth int) error {
	if depth > maxNesting {
		return fmt.Errorf("%w: types nested deeper than %d", errFlatbuf, maxNesting)
	}
	if _, _, err := f.vector(t, 0, 1); err != nil { // name
		return err
	}
	if err := f.keyValues(t, 6); err != nil {
		return err
	}
	if d, err := f.child(t, 4); err != nil { // dictionary encoding
		return err
	} else if d >= 0 {
		if _, err := f.child(d, 1); err != nil { // index type
			return err
		}
	}
	ttype := 0
	if pos, err := f.field(t, 2); err != nil {
		return err
	} else if pos >= 0 {
		ttype = int(f.b[pos])
	}
	typ, err := f.child(t, 3)
	if err != nil {
		return err
	}
	if typ >= 0 {
		switch ttype {
		case typeTimestamp:
			_, _, err = f.vector(typ, 1, 1) // timezone
		case typeUnion:
			_, _, err = f.vector(typ, 1, 4) // typeIds
		}
		if err != nil {
			return err
		}
	}
	return f.tables(t, 5, func(c int) error { return f.fieldTable(c, depth+1) })
}

// recordBatch checks the vectors of a RecordBatch, that every buffer lies
// inside the body, and that lengths and null counts are not negative.
func (f *fbuf) recordBatch(rb int, bodyLen int64) error {
	if _, _, err := f.vector(rb, 4, 8); err != nil { // variadic buffer counts
		return err
	}
	if pos, err := f.field(rb, 0); err != nil { // length
		return err
	} else if pos >= 0 && (pos+8 > len(f.b) || int64(binary.LittleEndian.Uint64(f.b[pos:])) < 0) {
		return fmt.Errorf("%w: bad record batch length", errFlatbuf)
	}
	start, n, err := f.vector(rb, 1, 16) // nodes: length, null_count
	if err != nil {
		return err
	}
	for i := 0; i < n; i++ {
		length := int64(binary.LittleEndian.Uint64(f.b[start+16*i:]))
		nulls := int64(binary.LittleEndian.Uint64(f.b[start+16*i+8:]))
		if length < 0 || nulls < 0 || nulls > length {
			return fmt.Errorf("%w: field node %d has length %d and %d nulls", errFlatbuf, i, length, nulls)
		}
	}
	start, n, err = f.vector(rb, 2, 16) // buffers: offset, length
	if err != nil {
		return err
	}
	for i := 0; i < n; i++ {
		off := int64(binary.LittleEndian.Uint64(f.b[start+16*i:]))
		length := int64(binary.LittleEndian.Uint64(f.b[start+16*i+8:]))
		if off < 0 || length < 0 || off > bodyLen || length > bodyLen-off {
			return fmt.Errorf("%w: buffer %d (offset %d, length %d) lies outside the %d-byte body", errFlatbuf, i, off, length, bodyLen)
		}
	}
	_, err = f.child(rb, 3) // compression
	return err
}

// Stream validates the first message of an IPC stream (continuation
// marker, length, metadata), as stored for example in a Parquet file's
// ARROW:schema.
func Stream(b []byte) error {
	if len(b) >= 4 && binary.LittleEndian.Uint32(b) == 0xFFFFFFFF {
		b = b[4:]
	}
	if len(b) < 4 {
		return fmt.Errorf("%w: truncated message", errFlatbuf)
	}
	n := int64(binary.LittleEndian.Uint32(b))
	if n > int64(len(b)-4) {
		return fmt.Errorf("%w: message of %d bytes in %d", errFlatbuf, n, len(b)-4)
	}
	body, err := Message(b[4 : 4+n])
	if err == nil && body > int64(len(b))-4-n {
		err = fmt.Errorf("%w: body of %d bytes overruns the stream", errFlatbuf, body)
	}
	return err
}
