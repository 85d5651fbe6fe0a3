package v2test

import (
	"context"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/dataweaver/dataweaver/internal/wasmtesting"
)

// nestoutModules are the three SDKs' nestout test stages: the same
// nested columns built with each SDK's builders (the Go one built once
// per test binary, the others committed).
func nestoutModules(t *testing.T) map[string][]byte {
	t.Helper()
	return map[string][]byte{
		"c":    wasmtesting.Committed(t, "guest-sdk/c/sdktest/testdata/nestout", "guest-sdk/c/sdktest/testdata/nestout/nestout.wasm"),
		"go":   goModule(t, "guest-sdk/go/sdktest/testdata/nestout"),
		"rust": wasmtesting.Committed(t, "transforms/rust/testdata/nestout", "transforms/rust/testdata/nestout/nestout.wasm"),
	}
}

var nestoutIn = arrow.NewSchema([]arrow.Field{{Name: "n", Type: arrow.PrimitiveTypes.Int64}}, nil)

var nestoutWords = []string{"", "a", "Île", "日本"}

// nestoutWant builds, with arrow-go's builders, what the nestout stages
// are specified to emit for inputs ns (guest-sdk/c/sdktest/testdata/
// nestout/nestout.c says what): the oracle the three are checked against.
func nestoutWant(mem memory.Allocator, ns []int64) arrow.RecordBatch {
	schema := arrow.NewSchema([]arrow.Field{
		{Name: "n", Type: arrow.PrimitiveTypes.Int64},
		{Name: "l", Type: arrow.ListOf(arrow.PrimitiveTypes.Int64), Nullable: true},
		{Name: "s", Type: arrow.StructOf(
			arrow.Field{Name: "a", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
			arrow.Field{Name: "b", Type: arrow.BinaryTypes.String, Nullable: true},
			arrow.Field{Name: "c", Type: arrow.ListOf(arrow.BinaryTypes.String), Nullable: true}), Nullable: true},
		{Name: "m", Type: arrow.MapOf(arrow.BinaryTypes.String, arrow.PrimitiveTypes.Float64), Nullable: true},
		{Name: "ls", Type: arrow.ListOf(arrow.StructOf(
			arrow.Field{Name: "x", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
			arrow.Field{Name: "y", Type: arrow.FixedWidthTypes.Boolean, Nullable: true})), Nullable: true},
		{Name: "ll", Type: arrow.ListOf(arrow.ListOf(arrow.PrimitiveTypes.Int32)), Nullable: true},
	}, nil)
	b := array.NewRecordBuilder(mem, schema)
	defer b.Release()
	l := b.Field(1).(*array.ListBuilder)
	li := l.ValueBuilder().(*array.Int64Builder)
	s := b.Field(2).(*array.StructBuilder)
	sa, sb := s.FieldBuilder(0).(*array.Int64Builder), s.FieldBuilder(1).(*array.StringBuilder)
	sc := s.FieldBuilder(2).(*array.ListBuilder)
	sci := sc.ValueBuilder().(*array.StringBuilder)
	m := b.Field(3).(*array.MapBuilder)
	mk, mv := m.KeyBuilder().(*array.StringBuilder), m.ItemBuilder().(*array.Float64Builder)
	ls := b.Field(4).(*array.ListBuilder)
	lsi := ls.ValueBuilder().(*array.StructBuilder)
	lsx, lsy := lsi.FieldBuilder(0).(*array.Int64Builder), lsi.FieldBuilder(1).(*array.BooleanBuilder)
	ll := b.Field(5).(*array.ListBuilder)
	lli := ll.ValueBuilder().(*array.ListBuilder)
	llii := lli.ValueBuilder().(*array.Int32Builder)
	for _, v := range ns {
		b.Field(0).(*array.Int64Builder).Append(v)
		switch {
		case v%5 == 0:
			l.AppendNull()
		default:
			l.Append(true)
			for k := range v % 4 {
				switch {
				case v%2 == 0:
					li.Append(v + k)
				case k == 1:
					li.AppendNull()
				default:
					li.Append(10*v + k)
				}
			}
		}
		if v%7 == 0 {
			s.AppendNull()
		} else {
			s.Append(true)
			sa.Append(v)
			if v%3 == 0 {
				sb.AppendNull()
			} else {
				sb.Append(nestoutWords[v%4])
			}
			sc.Append(true)
			for k := range v % 3 {
				sci.Append(nestoutWords[(v+k)%4])
			}
		}
		if v%6 == 5 {
			m.AppendNull()
		} else {
			m.Append(true)
			for k := range v % 3 {
				mk.Append(nestoutWords[k+1])
				if k == 1 {
					mv.AppendNull()
				} else {
					mv.Append(float64(v) + float64(k)/2)
				}
			}
		}
		ls.Append(true)
		for k := range v % 3 {
			if (v+k)%4 == 3 {
				lsi.AppendNull()
				continue
			}
			lsi.Append(true)
			lsx.Append(100*v + k)
			lsy.Append(k%2 == 0)
		}
		ll.Append(true)
		for k := range v % 3 {
			lli.Append(true)
			for j := range k {
				llii.Append(int32(v + j))
			}
		}
	}
	return b.NewRecordBatch()
}

func nestoutInput(mem memory.Allocator, ns []int64) arrow.RecordBatch {
	b := array.NewRecordBuilder(mem, nestoutIn)
	defer b.Release()
	b.Field(0).(*array.Int64Builder).AppendValues(ns, nil)
	return b.NewRecordBatch()
}

// TestNestedOutput: the C, Go, Rust and AssemblyScript SDKs' nested
// output builders (lists, a struct holding a list, a map with null
// values, a list of structs with null items, a list of lists; whole-slice
// puts and nulls at each level) give exactly the columns arrow-go's builders make from the
// same specification, on batches of 0, 1 and 300 rows, and the same as
// each other.
func TestNestedOutput(t *testing.T) {
	mem := wasmtesting.Allocator(t)
	var big []int64
	for i := range int64(300) {
		big = append(big, i*7%211)
	}
	mods := nestoutModules(t)
	// The AssemblyScript SDK's builders make the same columns
	// (transforms/assemblyscript/testdata/nestout).
	mods["assemblyscript"] = wasmtesting.Committed(t, "transforms/assemblyscript/testdata/nestout", "transforms/assemblyscript/testdata/nestout/nestout.wasm")
	for lang, wasm := range mods {
		s := wasmtesting.NewStage(t, wasm, nil, mem, wasmtesting.Config())
		if _, err := s.Bind(context.Background(), nestoutIn); err != nil {
			t.Fatalf("%s: %v", lang, err)
		}
		for _, ns := range [][]int64{{}, {13}, big} {
			in := nestoutInput(mem, ns)
			out, rejects, err := wasmtesting.Process(t, s, in)
			in.Release()
			if err != nil || len(rejects) > 0 {
				t.Fatalf("%s: %v, %d rejects", lang, err, len(rejects))
			}
			want := nestoutWant(mem, ns)
			if !array.RecordEqual(out, want) {
				t.Errorf("%s, %d rows: the output differs from arrow-go's\n got %v\nwant %v", lang, len(ns), firstRows(out), firstRows(want))
			}
			want.Release()
		}
	}
}

// firstRows renders a few rows for a failure message.
func firstRows(rec arrow.RecordBatch) string {
	var b strings.Builder
	for i := range min(int(rec.NumRows()), 4) {
		for c := range int(rec.NumCols()) {
			b.WriteString(rec.ColumnName(c) + "=" + rec.Column(c).ValueStr(i) + " ")
		}
		b.WriteString("\n")
	}
	return b.String()
}

// TestNestedOutputMisuse: each SDK stops a misuse of its builders with a
// message naming the column, before the host sees the result; what the
// SDKs leave to the host (a utf8 child's bytes) the host refuses.
func TestNestedOutputMisuse(t *testing.T) {
	mem := wasmtesting.Allocator(t)
	in := wasmtesting.Release(t, nestoutInput(mem, []int64{13}))
	for lang, wasm := range nestoutModules(t) {
		for _, c := range []struct{ misuse, want string }{
			{"unended", `output column "l": a row begun and not ended`},
			{"outside", `a value outside its parent's begin/end (output column "l.item")`},
			{"twice", `a second value for a struct's field in one row (output column "s.a")`},
			{"missing", `a struct row ended without a value for this field (output column "s.c")`},
			{"mapkeys", `more keys than values or more values than keys (output column "m")`},
			// Not the SDKs' to check: the host refuses it, naming the
			// child by its path.
			{"utf8", `column "s.b": row 0 is not valid UTF-8`},
		} {
			s := wasmtesting.NewStage(t, wasm, map[string]any{"misuse": c.misuse}, mem, wasmtesting.Config())
			if _, err := s.Bind(context.Background(), nestoutIn); err != nil {
				t.Fatalf("%s: %v", lang, err)
			}
			_, _, err := wasmtesting.Process(t, s, in)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("%s, %s: %v, want an error containing %q", lang, c.misuse, err, c.want)
			}
		}
	}
}
