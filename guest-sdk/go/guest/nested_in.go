package guest

import (
	"strings"
	"unsafe"
)

// Struct columns, and lists of structs, read by a v2 stage
// (wasmabi/ABI.md, "Nested types"): each field viewed as a column of the
// struct's rows, as ReadList views a list's items.

// StructFields returns the fields of a struct<…> type, or of the items of
// a list<struct<…>> ("struct<a:int64,b:utf8>" gives a: int64 and b:
// utf8), or nil when typ is neither.
func StructFields(typ string) []Field {
	if in, ok := strings.CutPrefix(typ, "list<"); ok && strings.HasSuffix(in, ">") {
		typ = in[:len(in)-1]
	}
	code, skip := nestedCode(typ)
	if code != codeStruct {
		return nil
	}
	var fields []Field
	for in := typ[skip : len(typ)-1]; ; {
		n := splitType(in)
		name, t, _ := strings.Cut(in[:n], ":")
		fields = append(fields, Field{Name: name, Type: t, Nullable: true})
		if n == len(in) {
			return fields
		}
		in = in[n+1:]
	}
}

// v1Struct reports whether typ is a struct of v1 fields.
func v1Struct(typ string) bool {
	if !strings.HasPrefix(typ, "struct<") {
		return false
	}
	fields := StructFields(typ)
	for _, f := range fields {
		if code, _ := typeCode(f.Type); code == 0 {
			return false
		}
	}
	return len(fields) > 0
}

// StructCol is a struct<…> input column of v1 fields.
type StructCol struct {
	slot   int
	fields []Field
}

// ReadStruct (v2) declares a read of a struct column whose fields are of
// v1 types.
func ReadStruct(s *Setup, name string) StructCol {
	var fields []Field
	slot := s.read(name, func(t string) bool {
		fields = StructFields(t)
		return v1Struct(t)
	}, "a struct of v1 types")
	return StructCol{slot: slot, fields: fields}
}

// Fields are the struct's fields, in order.
func (c StructCol) Fields() []Field { return c.fields }

// View returns the column in batch b.
func (c StructCol) View(b *Batch) StructView {
	d := b.in(c.slot)
	return StructView{rows: b.n, valid: d.valid, kids: d.kids}
}

// ReadListOfStructs (v2) declares a read of a list<struct<…>> column of
// v1 fields; its ListView's Structs views the items.
func ReadListOfStructs(s *Setup, name string) ListCol {
	var elem string
	slot := s.read(name, func(t string) bool {
		in, ok := strings.CutPrefix(t, "list<")
		in, ok2 := strings.CutSuffix(in, ">")
		elem = in
		return ok && ok2 && v1Struct(in)
	}, "a list of structs of v1 types")
	return ListCol{slot: slot, elem: elem}
}

// Structs views the items of a list of structs (ReadListOfStructs).
func (v ListView) Structs() StructView {
	return StructView{rows: v.items.rows, valid: v.items.valid, kids: v.items.kids}
}

// StructView is a zero-copy view of a struct column, or of a list's
// struct items, in one batch.
type StructView struct {
	rows  int
	valid []byte
	kids  []inCol
}

// Len is the number of rows.
func (v StructView) Len() int { return v.rows }

// Valid reports whether row i is not null.
func (v StructView) Valid(i int) bool { return v.valid == nil || v.valid[i>>3]&(1<<(i&7)) != 0 }

// FieldOf views fixed-width field k; T must fit its type as Read's T
// fits a column's.
func FieldOf[T Fixed](v StructView, k int) FixedView[T] {
	if v.rows == 0 {
		return FixedView[T]{}
	}
	c := &v.kids[k]
	return FixedView[T]{Values: unsafe.Slice((*T)(c.values), v.rows), valid: c.valid}
}

// Bools views bool field k.
func (v StructView) Bools(k int) BoolView {
	c := &v.kids[k]
	return BoolView{bits: unsafe.Slice((*byte)(c.values), (v.rows+7)/8), valid: c.valid}
}

// Strings views utf8/binary (or large_) field k.
func (v StructView) Strings(k int) StrView { return strView(&v.kids[k], v.rows) }
