package guest

import (
	"strings"
	"unsafe"
)

// ListCol is a list<T> input column of an ABI v2 stage, T a v1 type
// (wasmabi/ABI.md, "Nested types"). Its items are viewed as a column of
// their own, ListView.Range giving each row's items.
type ListCol struct {
	slot int
	elem string
}

// ReadList (v2) declares a read of a list<T> column whose items are of a
// v1 type; Elem gives T's ABI name ("int64", "utf8", "timestamp[us]"…).
func ReadList(s *Setup, name string) ListCol {
	var elem string
	slot := s.read(name, func(t string) bool {
		in, ok := strings.CutPrefix(t, "list<")
		in, ok2 := strings.CutSuffix(in, ">")
		if code, _ := typeCode(in); !ok || !ok2 || code == 0 {
			return false
		}
		elem = in
		return true
	}, "a list of a v1 type")
	return ListCol{slot: slot, elem: elem}
}

// Elem is the items' ABI type name.
func (c ListCol) Elem() string { return c.elem }

// ListView is a zero-copy view of a list column in one batch.
type ListView struct {
	offs  []int32
	valid []byte
	items *inCol
}

// View returns the column in batch b.
func (c ListCol) View(b *Batch) ListView {
	d := b.in(c.slot)
	return ListView{offs: unsafe.Slice((*int32)(d.offsets), b.n+1), valid: d.valid, items: &d.kids[0]}
}

// Valid reports whether row i is not null.
func (v ListView) Valid(i int) bool { return v.valid == nil || v.valid[i>>3]&(1<<(i&7)) != 0 }

// Range returns the items of row i: item rows lo to hi (hi excluded) of
// the views Items*, Strings and Bools return. A null row usually has
// none.
func (v ListView) Range(i int) (lo, hi int) {
	return int(v.offs[i] - v.offs[0]), int(v.offs[i+1] - v.offs[0])
}

// Items is the number of item rows in the batch.
func (v ListView) Items() int { return v.items.rows }

// ItemsOf views a list's fixed-width items as a FixedView of Items()
// rows; T must fit the items' type as Read's T fits a column's.
func ItemsOf[T Fixed](v ListView) FixedView[T] {
	if v.items.rows == 0 {
		return FixedView[T]{}
	}
	return FixedView[T]{Values: unsafe.Slice((*T)(v.items.values), v.items.rows), valid: v.items.valid}
}

// Bools views bool items.
func (v ListView) Bools() BoolView {
	return BoolView{bits: unsafe.Slice((*byte)(v.items.values), (v.items.rows+7)/8), valid: v.items.valid}
}

// Strings views utf8/binary (or large_) items.
func (v ListView) Strings() StrView { return strView(v.items, v.items.rows) }
