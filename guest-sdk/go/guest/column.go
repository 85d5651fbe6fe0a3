package guest

import (
	"strings"
	"unsafe"
)

// Decimal128 is one decimal128 value: the unscaled 128-bit two's complement
// integer, low word first (Arrow's layout).
type Decimal128 struct {
	Lo uint64
	Hi int64
}

// Fixed are the Go types a fixed-width column is viewed as.
type Fixed interface {
	~int8 | ~int16 | ~int32 | ~int64 | ~uint8 | ~uint16 | ~uint32 | ~uint64 |
		~float32 | ~float64 | Decimal128
}

// fits reports whether a column of ABI type typ can be viewed as []T:
// date32 is int32 days, timestamps are int64 in their unit.
func fits[T Fixed](typ string) bool {
	var z T
	switch any(z).(type) {
	case int8:
		return typ == "int8"
	case int16:
		return typ == "int16"
	case int32:
		return typ == "int32" || typ == "date32"
	case int64:
		return typ == "int64" || strings.HasPrefix(typ, "timestamp[")
	case uint8:
		return typ == "uint8"
	case uint16:
		return typ == "uint16"
	case uint32:
		return typ == "uint32"
	case uint64:
		return typ == "uint64"
	case float32:
		return typ == "float32"
	case float64:
		return typ == "float64"
	case Decimal128:
		return strings.HasPrefix(typ, "decimal128(")
	}
	return false
}

func goName[T Fixed]() string {
	var z T
	switch any(z).(type) {
	case Decimal128:
		return "Decimal128"
	}
	return strings.TrimPrefix(strings.TrimPrefix(typeName(any(z)), "guest."), "main.")
}

func typeName(v any) string {
	switch v.(type) {
	case int8:
		return "int8"
	case int16:
		return "int16"
	case int32:
		return "int32"
	case int64:
		return "int64"
	case uint8:
		return "uint8"
	case uint16:
		return "uint16"
	case uint32:
		return "uint32"
	case uint64:
		return "uint64"
	case float32:
		return "float32"
	case float64:
		return "float64"
	}
	return "?"
}

// Col is a fixed-width input column read as []T.
type Col[T Fixed] struct{ slot int }

// Read declares that the stage reads column name as []T. A missing column
// or a type that does not fit T is recorded on s (see Setup.Err).
func Read[T Fixed](s *Setup, name string) Col[T] {
	return Col[T]{s.read(name, fits[T], goName[T]())}
}

// FixedView is a zero-copy view of a fixed-width column in one batch.
type FixedView[T Fixed] struct {
	Values []T
	valid  []byte
}

// View returns the column's values in batch b (len = b.Len()).
func (c Col[T]) View(b *Batch) FixedView[T] {
	d := b.in(c.slot)
	return FixedView[T]{Values: unsafe.Slice((*T)(d.values), b.n), valid: d.valid}
}

// Valid reports whether row i is not null.
func (v FixedView[T]) Valid(i int) bool { return v.valid == nil || v.valid[i>>3]&(1<<(i&7)) != 0 }

// Validity returns the column's validity bitmap in this batch (bit i&7 of
// byte i>>3 is row i, 1 = not null), or nil when the batch has no nulls in
// it: a stage can test that once per batch instead of calling Valid per
// row, or combine it with a selection a byte at a time.
func (v FixedView[T]) Validity() []byte { return v.valid }

// BoolCol is a bool input column.
type BoolCol struct{ slot int }

// ReadBool declares a read of a bool column.
func ReadBool(s *Setup, name string) BoolCol {
	return BoolCol{s.read(name, func(t string) bool { return t == "bool" }, "bool")}
}

// BoolView is a zero-copy view of a bool column.
type BoolView struct{ bits, valid []byte }

// View returns the column in batch b.
func (c BoolCol) View(b *Batch) BoolView {
	d := b.in(c.slot)
	return BoolView{bits: unsafe.Slice((*byte)(d.values), (b.n+7)/8), valid: d.valid}
}

// Value returns row i (false for null rows).
func (v BoolView) Value(i int) bool { return v.bits[i>>3]&(1<<(i&7)) != 0 }

// Valid reports whether row i is not null.
func (v BoolView) Valid(i int) bool { return v.valid == nil || v.valid[i>>3]&(1<<(i&7)) != 0 }

// StrCol is a utf8/binary (or large_) input column.
type StrCol struct{ slot int }

// ReadString declares a read of a utf8, binary, large_utf8 or large_binary column.
func ReadString(s *Setup, name string) StrCol {
	return StrCol{s.read(name, func(t string) bool {
		return t == "utf8" || t == "binary" || t == "large_utf8" || t == "large_binary"
	}, "string")}
}

// StrView is a zero-copy view of a variable-width column.
type StrView struct {
	offs32 []int32
	offs64 []int64
	data   []byte
	valid  []byte
}

// View returns the column in batch b.
func (c StrCol) View(b *Batch) StrView { return strView(b.in(c.slot), b.n) }

// strView views the n rows of d.
func strView(d *inCol, n int) StrView {
	v := StrView{valid: d.valid}
	var base int64
	if d.large {
		v.offs64 = unsafe.Slice((*int64)(d.offsets), n+1)
		base = v.offs64[0]
	} else {
		v.offs32 = unsafe.Slice((*int32)(d.offsets), n+1)
		base = int64(v.offs32[0])
	}
	if d.valuesLen > 0 {
		v.data = unsafe.Slice((*byte)(d.values), d.valuesLen)
	}
	if base != 0 {
		v.offs64 = rebase(v.offs32, v.offs64, base)
		v.offs32 = nil
	}
	return v
}

// rebase is the rare path for sliced inputs whose first offset is not 0.
func rebase(o32 []int32, o64 []int64, base int64) []int64 {
	out := make([]int64, max(len(o32), len(o64)))
	for i := range out {
		if o32 != nil {
			out[i] = int64(o32[i]) - base
		} else {
			out[i] = o64[i] - base
		}
	}
	return out
}

// Bytes returns row i's bytes without copying; do not keep them past the batch.
func (v StrView) Bytes(i int) []byte {
	if v.offs32 != nil {
		return v.data[v.offs32[i]:v.offs32[i+1]]
	}
	return v.data[v.offs64[i]:v.offs64[i+1]]
}

// Value returns row i as a string sharing the batch's memory; copy it
// (strings.Clone) to keep it past the batch.
func (v StrView) Value(i int) string {
	b := v.Bytes(i)
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(&b[0], len(b))
}

// Valid reports whether row i is not null.
func (v StrView) Valid(i int) bool { return v.valid == nil || v.valid[i>>3]&(1<<(i&7)) != 0 }

// Validity is FixedView.Validity for a variable-width column.
func (v StrView) Validity() []byte { return v.valid }

// Raw returns the column's offsets and value bytes for loops that read
// them directly: exactly one of offs32 and offs64 is non-nil, it has
// Len()+1 entries starting at 0, and row i is data[offs[i]:offs[i+1]].
// Nothing may be written through them.
func (v StrView) Raw() (offs32 []int32, offs64 []int64, data []byte) {
	return v.offs32, v.offs64, v.data
}
