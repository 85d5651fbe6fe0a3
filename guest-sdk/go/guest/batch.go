package guest

import (
	"strings"
	"unsafe"
)

// Type codes of the column descriptors (wasmabi/ABI.md).
const (
	codeBool       = 1
	codeUTF8       = 12
	codeBinary     = 13
	codeLargeUTF8  = 14
	codeLargeBin   = 15
	codeDate32     = 16
	codeTimestamp  = 17
	codeDecimal128 = 18
	codeList       = 19
	codeStruct     = 20
	codeMap        = 21
)

// typeCode maps an ABI type name to its descriptor code and value width in
// bytes (0 for bool and variable-width types).
func typeCode(typ string) (code uint8, width int) {
	switch typ {
	case "bool":
		return codeBool, 0
	case "int8":
		return 2, 1
	case "int16":
		return 3, 2
	case "int32":
		return 4, 4
	case "int64":
		return 5, 8
	case "uint8":
		return 6, 1
	case "uint16":
		return 7, 2
	case "uint32":
		return 8, 4
	case "uint64":
		return 9, 8
	case "float32":
		return 10, 4
	case "float64":
		return 11, 8
	case "utf8":
		return codeUTF8, 0
	case "binary":
		return codeBinary, 0
	case "large_utf8":
		return codeLargeUTF8, 0
	case "large_binary":
		return codeLargeBin, 0
	case "date32":
		return codeDate32, 4
	}
	switch {
	case strings.HasPrefix(typ, "timestamp["):
		return codeTimestamp, 8
	case strings.HasPrefix(typ, "decimal128("):
		return codeDecimal128, 16
	}
	return 0, 0
}

// inCol is one input column descriptor, resolved to pointers into the arena.
type inCol struct {
	values    unsafe.Pointer
	offsets   unsafe.Pointer
	valid     []byte
	valuesLen int
	large     bool
	rows      int     // the column's rows (a list's items: its children's)
	kids      []inCol // a nested column's children (nested.go)
}

type rowErr struct {
	row int
	msg []byte
}

// Batch is one batch handed to a ProcessFunc.
type Batch struct {
	n      int
	ins    []inCol
	outs   []outCol
	sel    []byte // selection bitmap, nil = all rows kept
	errs   []rowErr
	failed bool
	// emitted counts the rows a v2 call emitted (v2.go).
	emitted int
}

// Len is the number of rows.
func (b *Batch) Len() int { return b.n }

// Drop leaves row i out of the output (the stage must have called
// Setup.Filter).
func (b *Batch) Drop(i int) {
	if b.sel == nil {
		b.sel = grow(selBuf, (b.n+7)/8)
		selBuf = b.sel
		fillOnes(b.sel)
	}
	b.sel[i>>3] &^= 1 << (i & 7)
}

// KeepBits returns the batch's selection bitmap for a stage that fills it
// a byte (8 rows) or a word (64 rows) at a time: bit i&7 of byte i>>3 is
// row i, 1 = kept; len is (Len()+7)/8 and bits past Len() are ignored. The
// stage must have called Setup.Filter. If Drop was not called in this batch
// the bitmap starts all zero (every row dropped), so the stage sets the
// bits of the rows it keeps; otherwise it holds Drop's result so far.
//
// Under a stage timeout every loop iteration in the guest costs an exit to
// the host (wasmabi/BENCH_NOTES.md), so a filter that writes whole bytes
// runs up to 8x (words: 64x) fewer of them than one calling Drop per row.
func (b *Batch) KeepBits() []byte {
	if b.sel == nil {
		b.sel = grow(selBuf, (b.n+7)/8)
		selBuf = b.sel
		clear(b.sel)
	}
	return b.sel
}

// fillOnes sets every byte of p to 0xff by doubling copies: log2(len)
// iterations instead of len (memmove is one bulk-memory instruction).
func fillOnes(p []byte) {
	if len(p) == 0 {
		return
	}
	p[0] = 0xff
	for k := 1; k < len(p); k *= 2 {
		copy(p[k:], p[:k])
	}
}

// Reject reports row i as failed with err: the engine applies the stage's
// error policy (fail, skip, dead letter) to it and leaves it out of the output.
func (b *Batch) Reject(i int, err error) {
	b.errs = append(b.errs, rowErr{row: i, msg: []byte(err.Error())})
}

// Rejectf is Reject with a formatted message (package doc, "Messages",
// for the verbs it takes).
func (b *Batch) Rejectf(i int, format string, args ...any) {
	b.errs = append(b.errs, rowErr{row: i, msg: appendf(nil, format, args)})
}

func (b *Batch) in(slot int) *inCol { return &b.ins[slot] }

// out returns output column slot, preparing its buffers on its first use in
// this batch.
func (b *Batch) out(slot int) *outCol {
	c := &b.outs[slot]
	if c.touched {
		return c
	}
	c.touched, c.hasNull = true, false
	switch code, w := typeCode(c.field.Type); {
	case code == codeBool:
		c.values = grow(c.values, (b.n+7)/8)
		clear(c.values)
	case w > 0:
		c.values = grow(c.values, b.n*w)
		clear(c.values)
	default:
		c.offs = append(c.offs[:0], 0)
		c.values = c.values[:0]
	}
	return c
}

var selBuf []byte
