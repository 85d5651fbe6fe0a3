package guest

import (
	"slices"
	"strings"
	"testing"
	"unsafe"
)

// nestedBatch declares the nested columns typs on a fresh setup and
// returns it with a batch ready for a v2 call, as dw_bind and callV2 do.
func nestedBatch(t *testing.T, typs ...string) (*Setup, *Batch, []Node) {
	t.Helper()
	nodes.n, nodes.top = nil, nil
	t.Cleanup(func() { nodes.n, nodes.top = nil, nil })
	s := newSetup(`{}`)
	var ns []Node
	for i, typ := range typs {
		ns = append(ns, WriteNested(s, string(rune('a'+i)), typ))
	}
	b := &Batch{}
	for _, w := range s.writes {
		code, _ := nestedCode(w.Type)
		b.outs = append(b.outs, outCol{field: w, code: code})
	}
	b.beginV2()
	beginNested()
	return s, b, ns
}

func int32s(p []int32) []int32 { return slices.Clone(p) }

// TestNestedOutLayout: a list<struct<x:int64,s:utf8>> built row by row
// has the offsets, validity and child rows ABI.md lays out: a null list
// adds no items, a null struct item gives its fields a null row each.
func TestNestedOutLayout(t *testing.T) {
	s, b, ns := nestedBatch(t, "list<struct<x:int64,s:utf8>>")
	l := ns[0]
	it := l.Child(s, 0)
	x, str := it.Field(s, "x"), it.Field(s, "s")
	if err := s.Err(); err != nil {
		t.Fatal(err)
	}
	b.n = 3
	b.Emit(0) // [{1,"a"}, null, {3,""}]
	l.Begin(b)
	it.Begin(b)
	x.PutInt64(b, 1)
	str.PutString(b, "a")
	it.End(b)
	it.PutNull(b)
	it.Begin(b)
	x.PutInt64(b, 3)
	str.PutString(b, "")
	it.End(b)
	l.End(b)
	b.Emit(1) // null
	l.PutNull(b)
	b.Emit(2) // []
	l.Begin(b)
	l.End(b)
	if err := checkNested(); err != nil {
		t.Fatal(err)
	}
	top := b.outs[0]
	if got := int32s(top.offs); !slices.Equal(got, []int32{0, 3, 3, 3}) || top.rows != 3 || top.valid[0]&7 != 0b101 {
		t.Errorf("list offsets %v rows %d validity %08b", got, top.rows, top.valid)
	}
	item := nodes.n[it.id].own
	if item.rows != 3 || item.valid[0]&7 != 0b101 {
		t.Errorf("item rows %d validity %08b", item.rows, item.valid)
	}
	xs := unsafe.Slice((*int64)(unsafe.Pointer(&nodes.n[x.id].own.values[0])), 3)
	if !slices.Equal(xs, []int64{1, 0, 3}) || nodes.n[x.id].own.valid[0]&7 != 0b101 {
		t.Errorf("x %v validity %08b", xs, nodes.n[x.id].own.valid)
	}
	if sc := nodes.n[str.id].own; string(sc.values) != "a" || !slices.Equal(int32s(sc.offs), []int32{0, 1, 1, 1}) {
		t.Errorf("s %q offsets %v", sc.values, sc.offs)
	}
	desc, err := nestedDesc(nil, 0, &b.outs[0])
	if err != nil || len(desc) != 8 || desc[1] != codeList || desc[6] != 1 {
		t.Errorf("descriptor %v, %v", desc, err)
	}
	// The item's block: a struct of two children, no offsets.
	if kd := nodes.n[l.id].kdesc; kd[1] != codeStruct || kd[4] != 0 || kd[6] != 2 {
		t.Errorf("item descriptor %v", kd)
	}
}

// TestNestedOutTypes: what WriteNested parses (commas inside <>, [] and
// () belong to the inner type) and what it refuses at setup.
func TestNestedOutTypes(t *testing.T) {
	s, _, ns := nestedBatch(t, "map<utf8,list<decimal128(10,2)>>", "struct<t:timestamp[us,UTC],m:map<int32,bool>>", "list<list<list<list<int8>>>>")
	if err := s.Err(); err != nil {
		t.Fatal(err)
	}
	var paths []string
	for _, n := range nodes.n {
		paths = append(paths, n.path)
	}
	if want := "a a.key a.value a.value.item b b.t b.m b.m.key b.m.value c c.item c.item.item c.item.item.item c.item.item.item.item"; strings.Join(paths, " ") != want {
		t.Errorf("paths %q, want %q", strings.Join(paths, " "), want)
	}
	if w := nodes.n[ns[0].Child(s, 1).Child(s, 0).id].width; w != 16 {
		t.Errorf("decimal item width %d", w)
	}
	for _, c := range []struct{ typ, want string }{
		{"list<large_utf8>", `column "a.item": type "large_utf8" cannot be written`},
		{"struct<int64>", `struct field "int64" has no name`},
		{"map<utf8>", `map<utf8> is not a type`},
		{"list<list<list<list<list<int8>>>>>", `column "a.item.item.item.item": nested deeper than 4 levels`},
		{"int64", `int64 is not a list, struct or map`},
	} {
		s, _, _ := nestedBatch(t, c.typ)
		if err := s.Err(); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want %q", c.typ, err, c.want)
		}
	}
	s, _, ns = nestedBatch(t, "struct<a:int64>")
	ns[0].Child(s, 1)
	ns[0].Field(s, "b")
	if err := s.Err(); err == nil || !strings.Contains(err.Error(), `column "a" has 1 children, not 2`) || !strings.Contains(err.Error(), `has no field "b"`) {
		t.Errorf("children past the type: %v", err)
	}
}

// TestNestedOutMisuse: each misuse panics naming the column, and a row
// left begun fails the call.
func TestNestedOutMisuse(t *testing.T) {
	for _, c := range []struct {
		name, want string
		do         func(b *Batch, s, m, l Node)
	}{
		{"outside", `a value outside its parent's begin/end (output column "a.x")`, func(b *Batch, s, m, l Node) { s.Field(nil, "x").PutInt64(b, 1) }},
		{"twice", `a second value for a struct's field`, func(b *Batch, s, m, l Node) {
			s.Begin(b)
			s.Field(nil, "x").PutInt64(b, 1)
			s.Field(nil, "x").PutInt64(b, 1)
		}},
		{"missing", `a struct row ended without a value for this field (output column "a.x")`, func(b *Batch, s, m, l Node) { s.Begin(b); s.End(b) }},
		{"mapkeys", `more keys than values`, func(b *Batch, s, m, l Node) { m.Begin(b); m.Child(nil, 0).PutString(b, "k"); m.End(b) }},
		{"end", `an end without a begin`, func(b *Batch, s, m, l Node) { l.End(b) }},
		{"width", `a value of the wrong width`, func(b *Batch, s, m, l Node) { l.Begin(b); PutValue(b, l.Child(nil, 0), int32(1)) }},
		{"list type", `a list of the wrong type`, func(b *Batch, s, m, l Node) { PutList(b, l, []int32{1}) }},
		{"no row", `call Emit first`, func(b *Batch, s, m, l Node) { b.emitted = 0; l.PutNull(b) }},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, b, ns := nestedBatch(t, "struct<x:int64>", "map<utf8,int64>", "list<int64>")
			b.n = 1
			b.Emit(0)
			defer func() {
				r := recover()
				if msg, _ := r.(string); !strings.Contains(msg, c.want) {
					t.Errorf("panic %v, want %q", r, c.want)
				}
			}()
			c.do(b, ns[0], ns[1], ns[2])
		})
	}
	_, b, ns := nestedBatch(t, "list<int64>")
	b.n = 1
	b.Emit(0)
	ns[0].Begin(b)
	if err := checkNested(); err == nil || err.Error() != `output column "a": a row begun and not ended` {
		t.Errorf("a row left begun: %v", err)
	}
}
