package guest

import (
	"errors"
	"strconv"
	"strings"
	"unsafe"
)

// Nested output columns of a v2 stage (wasmabi/ABI.md, "Nested types"),
// the same builders as the C SDK's dw_child/dw_begin/dw_end: the tree of
// a declared type's children, each a column of its own that the Put
// methods fill, kept in step with its parent's rows. The SDK refuses a put
// that would break that step (a value outside its parent's Begin/End, a
// second value for a struct's field) with a message naming the column:
// the host would refuse the result anyway, but could not say which call
// went wrong.

// Node is a nested output column (WriteNested) or one of its children
// (Child, Field): a list's items, a struct's field, a map's keys or
// values. Its Put methods give the next value as a column's do.
type Node struct{ id int }

type node struct {
	path, name  string // "items.sku" as the host names it; "sku"
	code        uint8
	width       int
	parent      int // a node, or -1: the output column itself
	slot        int // the output column it belongs to
	kid0, nkids int
	open        bool   // between Begin and End
	own         outCol // a child's rows (an output column's are batch.outs')
	kdesc       []uint32
}

var nodes struct {
	n   []node
	top []int // output slot -> its node, or -1
}

var nestedPrefixes = [...]struct {
	prefix string
	code   uint8
}{{"list<", codeList}, {"struct<", codeStruct}, {"map<", codeMap}}

// nestedCode is the type code of a nested type name and the length of
// its prefix, or 0.
func nestedCode(t string) (uint8, int) {
	for _, p := range nestedPrefixes {
		if len(t) > len(p.prefix) && strings.HasPrefix(t, p.prefix) && t[len(t)-1] == '>' {
			return p.code, len(p.prefix)
		}
	}
	return 0, 0
}

// splitType returns the length of t's first part before a comma outside
// <>, [] and ().
func splitType(t string) int {
	depth := 0
	for i := 0; i < len(t); i++ {
		switch t[i] {
		case '<', '[', '(':
			depth++
		case '>', ']', ')':
			depth--
		case ',':
			if depth == 0 {
				return i
			}
		}
	}
	return len(t)
}

// WriteNested (v2) declares an output column of a nested type,
// "list<int64>", "struct<sku:utf8,qty:int64>", "map<utf8,list<float64>>"
// (at most 4 levels). Per emitted row: Begin, the children's values,
// End; or PutNull.
func WriteNested(s *Setup, name, typ string) Node {
	slot := s.write(name, typ)
	if code, _ := nestedCode(typ); code == 0 {
		s.fail("column " + quote(name) + ": " + typ + " is not a list, struct or map")
		return Node{-1}
	}
	for len(nodes.top) <= slot {
		nodes.top = append(nodes.top, -1)
	}
	k := len(nodes.n)
	nodes.n = append(nodes.n, node{path: name, name: name, parent: -1, slot: slot})
	nodes.top[slot] = k
	declareNode(s, k, typ, 1)
	return Node{k}
}

// declareNode makes node k of type t and its children, numbered
// consecutively.
func declareNode(s *Setup, k int, t string, depth int) {
	code, skip := nestedCode(t)
	path := nodes.n[k].path
	if code == 0 {
		code, width := typeCode(t)
		if code == 0 || code == codeLargeUTF8 || code == codeLargeBin {
			s.fail("column " + quote(path) + ": type " + quote(t) + " cannot be written (v1 types but large_ ones, or list, struct, map)")
		}
		nodes.n[k].code, nodes.n[k].width = code, width
		return
	}
	nodes.n[k].code = code
	if depth > 4 {
		s.fail("column " + quote(path) + ": nested deeper than 4 levels")
		return
	}
	var parts []string
	for in := t[skip : len(t)-1]; ; {
		n := splitType(in)
		parts = append(parts, in[:n])
		if n == len(in) {
			break
		}
		in = in[n+1:]
	}
	if code == codeList && len(parts) != 1 || code == codeMap && len(parts) != 2 {
		s.fail("column " + quote(path) + ": " + t + " is not a type")
		return
	}
	kid0 := len(nodes.n)
	nodes.n[k].kid0, nodes.n[k].nkids, nodes.n[k].kdesc = kid0, len(parts), make([]uint32, 8*len(parts))
	for i, part := range parts {
		name := "item"
		if code == codeMap {
			name = [2]string{"key", "value"}[i]
		}
		if code == codeStruct {
			colon := strings.IndexByte(part, ':')
			if colon <= 0 {
				s.fail("column " + quote(path) + ": struct field " + quote(part) + " has no name")
				return
			}
			name, part = part[:colon], part[colon+1:]
		}
		nodes.n = append(nodes.n, node{path: path + "." + name, name: name, parent: k, slot: nodes.n[k].slot})
		parts[i] = part
	}
	for i, part := range parts {
		declareNode(s, kid0+i, part, depth+1)
	}
}

// Child (at setup) is child i of a nested column: a list's items (0), a
// map's keys (0) and values (1), a struct's field i.
func (n Node) Child(s *Setup, i int) Node {
	if n.id < 0 || n.id >= len(nodes.n) {
		return Node{-1} // WriteNested recorded why
	}
	p := &nodes.n[n.id]
	if i < 0 || i >= p.nkids {
		s.fail("column " + quote(p.path) + " has " + strconv.Itoa(p.nkids) + " children, not " + strconv.Itoa(i+1))
		return Node{-1}
	}
	return Node{p.kid0 + i}
}

// Field (at setup) is a struct's field by name.
func (n Node) Field(s *Setup, name string) Node {
	if n.id < 0 || n.id >= len(nodes.n) {
		return Node{-1}
	}
	p := &nodes.n[n.id]
	for i := range p.nkids {
		if nodes.n[p.kid0+i].name == name {
			return Node{p.kid0 + i}
		}
	}
	s.fail("column " + quote(p.path) + " has no field " + quote(name))
	return Node{-1}
}

func misuse(what, path string) { panic("guest: " + what + " (output column " + quote(path) + ")") }

// col returns the column a value of n goes to, checking that it may take
// one now: an output column's row must have been emitted, a child's
// parent must be begun (and a struct's field have no value for the row).
func (n Node) col(b *Batch) *outCol {
	if n.id < 0 || n.id >= len(nodes.n) {
		panic("guest: a value for a nested column that setup did not declare")
	}
	nd := &nodes.n[n.id]
	if nd.parent < 0 {
		return b.emitCol(nd.slot)
	}
	p := &nodes.n[nd.parent]
	if !p.open {
		misuse("a value outside its parent's begin/end", nd.path)
	}
	if p.code == codeStruct && nd.own.rows != nodeCol(b, nd.parent).rows {
		misuse("a second value for a struct's field in one row", nd.path)
	}
	return &nd.own
}

func nodeCol(b *Batch, k int) *outCol {
	if nd := &nodes.n[k]; nd.parent >= 0 {
		return &nd.own
	}
	return &b.outs[nodes.n[k].slot]
}

// Begin opens a non-null row of a list, map or struct: then give its
// items, entries (a key, then a value) or fields, and End it.
func (n Node) Begin(b *Batch) {
	n.col(b)
	nd := &nodes.n[n.id]
	if nd.code < codeList {
		misuse("a begin of a column that is not a list, struct or map", nd.path)
	}
	if nd.open {
		misuse("a begin of a row already begun", nd.path)
	}
	nd.open = true
}

// End closes the row Begin opened.
func (n Node) End(b *Batch) {
	nd := &nodes.n[n.id]
	if !nd.open {
		misuse("an end without a begin", nd.path)
	}
	c := nodeCol(b, n.id)
	switch nd.code {
	case codeStruct:
		for i := range nd.nkids {
			if kid := &nodes.n[nd.kid0+i]; kid.own.rows != c.rows+1 {
				misuse("a struct row ended without a value for this field", kid.path)
			}
		}
	case codeMap:
		if nodes.n[nd.kid0].own.rows != nodes.n[nd.kid0+1].own.rows {
			misuse("a map row ended with more keys than values or more values than keys", nd.path)
		}
		fallthrough
	default:
		c.offs = append(c.offs, int32(nodes.n[nd.kid0].own.rows))
	}
	c.rows++
	nd.open = false
}

// PutNull gives a null: a null list or map has no items, a null
// struct's fields get null rows.
func (n Node) PutNull(b *Batch) {
	c := n.col(b)
	if nodes.n[n.id].open {
		misuse("a null inside the begin/end of the same row", nodes.n[n.id].path)
	}
	nullRow(n.id, c)
}

func nullRow(k int, c *outCol) {
	nd := &nodes.n[k]
	switch nd.code {
	case codeList, codeMap:
		c.offs = append(c.offs, c.offs[len(c.offs)-1])
	case codeStruct:
		for i := range nd.nkids {
			nullRow(nd.kid0+i, &nodes.n[nd.kid0+i].own)
		}
	case codeBool:
		if c.rows%8 == 0 {
			c.values = append(c.values, 0)
		}
	case codeUTF8, codeBinary:
		c.offs = append(c.offs, int32(len(c.values)))
	default:
		var zero [16]byte
		c.values = append(c.values, zero[:nd.width]...)
	}
	c.rows++
	c.putNull()
}

// fixed returns the column a fixed-width value of width bytes goes to.
func (n Node) fixed(b *Batch, width int) *outCol {
	c := n.col(b)
	if nodes.n[n.id].width != width {
		misuse("a value of the wrong width for the column's type", nodes.n[n.id].path)
	}
	return c
}

// PutInt64 gives an int64 (or timestamp) value.
func (n Node) PutInt64(b *Batch, v int64) { PutValue(b, n, v) }

// PutInt32 gives an int32 value.
func (n Node) PutInt32(b *Batch, v int32) { PutValue(b, n, v) }

// PutFloat64 gives a float64 value.
func (n Node) PutFloat64(b *Batch, v float64) { PutValue(b, n, v) }

// PutValue gives a fixed-width value; T must have the column's width
// (int64 for timestamps, Decimal128 for decimal128).
func PutValue[T Fixed](b *Batch, n Node, v T) {
	c := n.fixed(b, int(unsafe.Sizeof(v)))
	c.values = append(c.values, unsafe.Slice((*byte)(unsafe.Pointer(&v)), unsafe.Sizeof(v))...)
	c.rows++
}

// PutBool gives a bool value.
func (n Node) PutBool(b *Batch, v bool) {
	c := n.col(b)
	if nodes.n[n.id].code != codeBool {
		misuse("a bool for a column that is not bool", nodes.n[n.id].path)
	}
	if c.rows%8 == 0 {
		c.values = append(c.values, 0)
	}
	if v {
		c.values[c.rows>>3] |= 1 << (c.rows & 7)
	}
	c.rows++
}

// PutString gives a utf8 or binary value.
func (n Node) PutString(b *Batch, v string) {
	c := n.col(b)
	if code := nodes.n[n.id].code; code != codeUTF8 && code != codeBinary {
		misuse("a string for a column that is not utf8 or binary", nodes.n[n.id].path)
	}
	c.values = append(c.values, v...)
	c.offs = append(c.offs, int32(len(c.values)))
	c.rows++
}

// PutBytes gives a utf8 or binary value.
func (n Node) PutBytes(b *Batch, v []byte) {
	n.PutString(b, unsafe.String(unsafe.SliceData(v), len(v)))
}

// PutList gives a whole non-null list row of fixed-width items.
func PutList[T Fixed](b *Batch, n Node, vs []T) {
	n.Begin(b)
	nd := &nodes.n[n.id]
	var zero T
	if it := &nodes.n[nd.kid0]; nd.code != codeList || it.width != int(unsafe.Sizeof(zero)) || it.code == codeBool {
		misuse("a list of the wrong type for the list's items", nd.path)
	}
	it := &nodes.n[nd.kid0].own
	if len(vs) > 0 {
		it.values = append(it.values, unsafe.Slice((*byte)(unsafe.Pointer(&vs[0])), len(vs)*int(unsafe.Sizeof(zero)))...)
	}
	it.rows += len(vs)
	n.End(b)
}

// beginNested readies the children for a call.
func beginNested() {
	for k := range nodes.n {
		nd := &nodes.n[k]
		nd.open = false
		if nd.parent >= 0 {
			c := &nd.own
			c.values, c.offs, c.valid = c.values[:0], append(c.offs[:0], 0), c.valid[:0]
			c.hasNull, c.rows = false, 0
		}
	}
}

// checkNested fails a call that left a nested row begun.
func checkNested() error {
	for k := range nodes.n {
		if nodes.n[k].open {
			return errors.New("output column " + quote(nodes.n[k].path) + ": a row begun and not ended")
		}
	}
	return nil
}

// nestedDesc appends output column slot's descriptor (column c) to desc,
// its children's in their blocks, checking the rows each child holds.
func nestedDesc(desc []uint32, slot int, c *outCol) ([]uint32, error) {
	d := [8]uint32{uint32(slot), uint32(c.code)}
	if err := fillNode(nodes.top[slot], c, d[:]); err != nil {
		return desc, err
	}
	return append(desc, d[:]...), nil
}

func fillNode(k int, c *outCol, d []uint32) error {
	nd := &nodes.n[k]
	for c.hasNull && len(c.valid) < (c.rows+7)/8 {
		c.valid = append(c.valid, 0xff)
	}
	d[2], d[3], d[7] = 0, 0, 0
	if c.hasNull {
		d[3] = ptr32(unsafe.Pointer(&c.valid[0]))
	}
	if nd.code < codeList {
		d[4] = 0
		if nd.code == codeUTF8 || nd.code == codeBinary {
			d[4] = ptr32(unsafe.Pointer(&c.offs[0]))
		}
		d[5], d[6] = 0, uint32(len(c.values))
		if len(c.values) > 0 {
			d[5] = ptr32(unsafe.Pointer(&c.values[0]))
		}
		return nil
	}
	want := c.rows
	d[4] = 0
	if nd.code != codeStruct {
		d[4], want = ptr32(unsafe.Pointer(&c.offs[0])), int(c.offs[c.rows])
	}
	d[5], d[6] = ptr32(unsafe.Pointer(&nd.kdesc[0])), uint32(nd.nkids)
	for i := range nd.nkids {
		kid := &nodes.n[nd.kid0+i]
		if kid.own.rows != want {
			return errors.New("output column " + quote(kid.path) + ": " + strconv.Itoa(kid.own.rows) + " values put for the " + strconv.Itoa(want) + " rows its parent holds")
		}
		if nd.code == codeMap && i == 0 && kid.own.hasNull {
			return errors.New("output column " + quote(kid.path) + ": a map key is null")
		}
		kd := nd.kdesc[8*i : 8*i+8]
		kd[0], kd[1] = uint32(i), uint32(kid.code)
		if err := fillNode(nd.kid0+i, &kid.own, kd); err != nil {
			return err
		}
	}
	return nil
}

// ptr32 is a guest address (wasm32); natively, a truncated one, used by
// tests only to tell buffers apart.
func ptr32(p unsafe.Pointer) uint32 { return uint32(uintptr(p)) }
