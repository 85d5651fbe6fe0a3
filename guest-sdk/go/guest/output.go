package guest

import (
	"errors"
	"strconv"
	"unsafe"
)

// Out is a fixed-width output column written as []T.
type Out[T Fixed] struct{ slot int }

// Write declares an output column of ABI type typ ("int64", "float64",
// "timestamp[ms]", "decimal128(12,2)", …) filled as []T. A name equal to an
// input column replaces it in place; other names are appended.
func Write[T Fixed](s *Setup, name, typ string) Out[T] {
	if !fits[T](typ) {
		s.fail("column " + quote(name) + ": type " + typ + " cannot be written as " + goName[T]())
	}
	return Out[T]{s.write(name, typ)}
}

// Values returns the column's values for batch b, len b.Len(), zeroed.
// Every row must be set (or marked null with SetNull).
func (o Out[T]) Values(b *Batch) []T {
	c := b.out(o.slot)
	if b.n == 0 {
		return nil
	}
	return unsafe.Slice((*T)(unsafe.Pointer(&c.values[0])), b.n)
}

// SetNull marks row i of the column null in batch b.
func (o Out[T]) SetNull(b *Batch, i int) { b.out(o.slot).setNull(b.n, i) }

// OutBool is a bool output column.
type OutBool struct{ slot int }

// WriteBool declares a bool output column.
func WriteBool(s *Setup, name string) OutBool { return OutBool{s.write(name, "bool")} }

// Set sets row i of batch b.
func (o OutBool) Set(b *Batch, i int, v bool) {
	c := b.out(o.slot)
	if v {
		c.values[i>>3] |= 1 << (i & 7)
	} else {
		c.values[i>>3] &^= 1 << (i & 7)
	}
}

// SetNull marks row i null.
func (o OutBool) SetNull(b *Batch, i int) { b.out(o.slot).setNull(b.n, i) }

// OutStr is a utf8 or binary output column, built by appending one value
// per row in row order.
type OutStr struct{ slot int }

// WriteString declares a utf8 output column.
func WriteString(s *Setup, name string) OutStr { return OutStr{s.write(name, "utf8")} }

// WriteBinary declares a binary output column.
func WriteBinary(s *Setup, name string) OutStr { return OutStr{s.write(name, "binary")} }

// StrBuilder appends a variable-width column's values, one per row.
type StrBuilder struct{ c *outCol }

// Builder returns the column's builder for batch b.
func (o OutStr) Builder(b *Batch) *StrBuilder {
	return &StrBuilder{b.out(o.slot)}
}

// Reserve makes room for about n more bytes of values.
func (sb *StrBuilder) Reserve(n int) {
	if cap(sb.c.values)-len(sb.c.values) < n {
		v := make([]byte, len(sb.c.values), len(sb.c.values)+n)
		copy(v, sb.c.values)
		sb.c.values = v
	}
}

// Append adds the next row's value.
func (sb *StrBuilder) Append(s string) {
	sb.c.values = append(sb.c.values, s...)
	sb.c.offs = append(sb.c.offs, int32(len(sb.c.values)))
}

// AppendConcat adds the next row's value as the concatenation of parts,
// without building the string first (no allocation per row).
func (sb *StrBuilder) AppendConcat(parts ...string) {
	// The common short forms are unrolled: under a stage timeout every
	// loop iteration costs the guest an exit to the host (BENCH_NOTES.md).
	switch len(parts) {
	case 2:
		sb.c.values = append(append(sb.c.values, parts[0]...), parts[1]...)
	case 3:
		sb.c.values = append(append(append(sb.c.values, parts[0]...), parts[1]...), parts[2]...)
	default:
		for _, p := range parts {
			sb.c.values = append(sb.c.values, p...)
		}
	}
	sb.c.offs = append(sb.c.offs, int32(len(sb.c.values)))
}

// AppendBytes adds the next row's value.
func (sb *StrBuilder) AppendBytes(p []byte) {
	sb.c.values = append(sb.c.values, p...)
	sb.c.offs = append(sb.c.offs, int32(len(sb.c.values)))
}

// Raw returns the builder's value bytes and offsets, for loops that write
// rows without a call per row (under a stage timeout every call and loop
// iteration in a Go guest costs an exit to the host, wasmabi/BENCH_NOTES.md).
// *offs holds len(*values) after each row so far, after a leading 0: to
// add a row, append its bytes to *values and then len(*values) to *offs.
// Bytes past len(*values), within its capacity, may be used as scratch.
// Store the slices back through the pointers before calling the builder's
// other methods (AppendNull, Append…) and reload them after.
func (sb *StrBuilder) Raw() (values *[]byte, offs *[]int32) { return &sb.c.values, &sb.c.offs }

// AppendNull adds a null for the next row.
func (sb *StrBuilder) AppendNull(b *Batch) {
	i := len(sb.c.offs) - 1
	sb.c.offs = append(sb.c.offs, int32(len(sb.c.values)))
	sb.c.setNull(b.n, i)
}

// outCol holds one output column's buffers; they are reused batch to batch.
type outCol struct {
	field   Field
	code    uint8
	values  []byte
	offs    []int32
	valid   []byte
	hasNull bool
	touched bool
	rows    int // v2: values put in this call
}

func (c *outCol) setNull(n, i int) {
	if !c.hasNull {
		c.valid = grow(c.valid, (n+7)/8)
		fillOnes(c.valid)
		c.hasNull = true
	}
	c.valid[i>>3] &^= 1 << (i & 7)
}

func (c *outCol) check(n int) error {
	if !c.touched {
		return errors.New("output column " + quote(c.field.Name) + " was not written for this batch")
	}
	if c.code == codeUTF8 || c.code == codeBinary {
		if got := len(c.offs) - 1; got != n {
			return errors.New("output column " + quote(c.field.Name) + ": " + strconv.Itoa(got) + " values appended for " + strconv.Itoa(n) + " rows")
		}
	}
	return nil
}

func grow(b []byte, n int) []byte {
	if cap(b) < n {
		return make([]byte, n, n+n/4)
	}
	return b[:n]
}
