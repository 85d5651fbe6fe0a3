package v2test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/bitutil"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/dataweaver/dataweaver/internal/wasmtesting"
)

var lineItem = arrow.StructOf(
	arrow.Field{Name: "sku", Type: arrow.BinaryTypes.String, Nullable: true},
	arrow.Field{Name: "qty", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
	arrow.Field{Name: "price", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
	arrow.Field{Name: "gift", Type: arrow.FixedWidthTypes.Boolean, Nullable: true},
	arrow.Field{Name: "day", Type: arrow.FixedWidthTypes.Date32, Nullable: true},
	arrow.Field{Name: "at", Type: &arrow.TimestampType{Unit: arrow.Microsecond, TimeZone: "UTC"}, Nullable: true},
	arrow.Field{Name: "note", Type: arrow.BinaryTypes.LargeString, Nullable: true},
	arrow.Field{Name: "n32", Type: arrow.PrimitiveTypes.Int32, Nullable: true},
)

var orderSchema = arrow.NewSchema([]arrow.Field{
	{Name: "order", Type: arrow.PrimitiveTypes.Int64},
	{Name: "items", Type: arrow.ListOf(lineItem), Nullable: true},
	{Name: "who", Type: arrow.BinaryTypes.String, Nullable: true},
}, nil)

// orderBatch makes n orders of random line items: null and empty lists,
// null structs, null fields, multi-byte strings.
func orderBatch(mem memory.Allocator, n int, seed uint64) arrow.RecordBatch {
	rng := rand.New(rand.NewPCG(seed, 7))
	b := array.NewRecordBuilder(mem, orderSchema)
	defer b.Release()
	words := []string{"", "a", "Île", "日本", strings.Repeat("x", 70)}
	items := b.Field(1).(*array.ListBuilder)
	st := items.ValueBuilder().(*array.StructBuilder)
	maybe := func(fb array.Builder, put func()) {
		if rng.IntN(7) == 0 {
			fb.AppendNull()
		} else {
			put()
		}
	}
	for i := range n {
		b.Field(0).(*array.Int64Builder).Append(int64(seed)*1000 + int64(i))
		maybe(b.Field(2), func() { b.Field(2).(*array.StringBuilder).Append(words[rng.IntN(len(words))]) })
		if rng.IntN(6) == 0 {
			items.AppendNull()
			continue
		}
		items.Append(true)
		for range rng.IntN(4) {
			if rng.IntN(8) == 0 {
				st.AppendNull()
				continue
			}
			st.Append(true)
			f := func(k int) array.Builder { return st.FieldBuilder(k) }
			maybe(f(0), func() { f(0).(*array.StringBuilder).Append(words[rng.IntN(len(words))]) })
			maybe(f(1), func() { f(1).(*array.Int64Builder).Append(rng.Int64() >> rng.IntN(64)) })
			maybe(f(2), func() { f(2).(*array.Float64Builder).Append(rng.NormFloat64() * 100) })
			maybe(f(3), func() { f(3).(*array.BooleanBuilder).Append(rng.IntN(2) == 0) })
			maybe(f(4), func() { f(4).(*array.Date32Builder).Append(arrow.Date32(rng.IntN(30000))) })
			maybe(f(5), func() { f(5).(*array.TimestampBuilder).Append(arrow.Timestamp(rng.Int64() >> 12)) })
			maybe(f(6), func() { f(6).(*array.LargeStringBuilder).Append(words[rng.IntN(len(words))]) })
			maybe(f(7), func() { f(7).(*array.Int32Builder).Append(rng.Int32()) })
		}
	}
	rec := b.NewRecordBatch()
	defer rec.Release()
	return nullOverFields(mem, rec)
}

// nullOverFields makes every 5th line item a null struct without nulling
// its fields: Arrow lets a null struct keep values behind it, which
// arrow-go's builders never write but other producers may, and explode
// must give nulls for it.
func nullOverFields(mem memory.Allocator, rec arrow.RecordBatch) arrow.RecordBatch {
	l := rec.Column(1).Data()
	st := l.Children()[0]
	n := st.Len()
	valid := memory.NewResizableBuffer(mem)
	defer valid.Release()
	valid.Resize((n + 7) / 8)
	nulls := 0
	for k := range n {
		ok := (st.Buffers()[0] == nil || bitutil.BitIsSet(st.Buffers()[0].Bytes(), st.Offset()+k)) && k%5 != 2
		bitutil.SetBitTo(valid.Bytes(), k, ok)
		if !ok {
			nulls++
		}
	}
	sd := array.NewData(st.DataType(), n, []*memory.Buffer{valid}, st.Children(), nulls, st.Offset())
	defer sd.Release()
	ld := array.NewData(l.DataType(), l.Len(), l.Buffers(), []arrow.ArrayData{sd}, l.NullN(), l.Offset())
	defer ld.Release()
	la := array.MakeFromData(ld)
	defer la.Release()
	cols := slices.Clone(rec.Columns())
	cols[1] = la
	return array.NewRecordBatch(rec.Schema(), cols, rec.NumRows())
}

// explodeStructsRef is the reference, from the input's Arrow arrays: per
// item of column items, the other columns (in order, the list left out)
// then the struct's fields (null when the struct is).
func explodeStructsRef(rec arrow.RecordBatch) []string {
	l := rec.Column(1).(*array.List)
	st := l.ListValues().(*array.Struct)
	str := func(a arrow.Array, i int) string {
		if a.IsNull(i) {
			return "null"
		}
		return a.ValueStr(i)
	}
	var out []string
	for i := range int(rec.NumRows()) {
		if l.IsNull(i) {
			continue
		}
		lo, hi := l.ValueOffsets(i)
		for k := int(lo); k < int(hi); k++ {
			parts := []string{str(rec.Column(0), i), str(rec.Column(2), i)}
			for f := range st.NumField() {
				if st.IsNull(k) {
					parts = append(parts, "null")
				} else {
					parts = append(parts, str(st.Field(f), k))
				}
			}
			out = append(out, strings.Join(parts, "|"))
		}
	}
	return out
}

// TestExplodeStructs: the C, Go and Rust explode turn a list of structs
// into one row per item with the struct's fields as columns (DuckDB's
// unnest(recursive := true)), the other columns handed on from the item's
// input row; a null struct gives a row of nulls, null and empty lists no
// row. Checked against the items read straight from the input arrays, on
// whole and sliced batches, and the three languages against each other.
func TestExplodeStructs(t *testing.T) {
	mem := wasmtesting.Allocator(t)
	mods := explodeModules(t)
	var recs []arrow.RecordBatch
	for seed := range uint64(3) {
		rec := wasmtesting.Release(t, orderBatch(mem, 200, seed))
		recs = append(recs, rec, wasmtesting.Release(t, rec.NewSlice(37, 151)))
	}
	outs := map[string][]arrow.RecordBatch{}
	for _, lang := range []string{"c", "go", "rust"} {
		s := wasmtesting.NewStage(t, mods[lang], map[string]any{"column": "items"}, mem, wasmtesting.Config())
		schema, err := s.Bind(context.Background(), orderSchema)
		if err != nil {
			t.Fatalf("%s: %v", lang, err)
		}
		if got, want := fmt.Sprint(schema), "schema:\n  fields: 10\n    - order: type=int64\n    - who: type=utf8, nullable\n    - sku: type=utf8, nullable\n    - qty: type=int64, nullable\n    - price: type=float64, nullable\n    - gift: type=bool, nullable\n    - day: type=date32, nullable\n    - at: type=timestamp[us, tz=UTC], nullable\n    - note: type=utf8, nullable\n    - n32: type=int32, nullable"; got != want {
			t.Errorf("%s: output schema\n%s\nwant\n%s", lang, got, want)
		}
		for _, rec := range recs {
			out, rejects, err := wasmtesting.Process(t, s, rec)
			if err != nil || len(rejects) > 0 {
				t.Fatalf("%s: %v, %d rejects", lang, err, len(rejects))
			}
			want := explodeStructsRef(rec)
			if got := rowLines(out); fmt.Sprint(got) != fmt.Sprint(want) {
				t.Fatalf("%s: %d rows, want %d\n got %q\nwant %q", lang, len(got), len(want), got[:min(3, len(got))], want[:min(3, len(want))])
			}
			outs[lang] = append(outs[lang], out)
		}
	}
	for i := range outs["c"] {
		for _, lang := range []string{"go", "rust"} {
			if !array.RecordEqual(outs["c"][i], outs[lang][i]) {
				t.Errorf("batch %d: C and %s differ", i, lang)
			}
		}
	}
	for lang, wasm := range mods {
		s := wasmtesting.NewStage(t, wasm, map[string]any{"column": "items", "as": "x"}, mem, wasmtesting.Config())
		if _, err := s.Bind(context.Background(), orderSchema); err == nil || !strings.Contains(err.Error(), "a list of structs gives its fields as columns") {
			t.Errorf("%s: as with a list of structs: %v", lang, err)
		}
	}
}
