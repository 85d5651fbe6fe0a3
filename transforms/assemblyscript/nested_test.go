package assemblyscript_test

import (
	"context"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/dataweaver/dataweaver/internal/wasmtesting"
)

func nestoutModule(t *testing.T) []byte {
	return wasmtesting.Committed(t, "transforms/assemblyscript/testdata/nestout", "transforms/assemblyscript/testdata/nestout/nestout.wasm")
}

var nestoutIn = arrow.NewSchema([]arrow.Field{{Name: "n", Type: arrow.PrimitiveTypes.Int64}}, nil)

// nestedValue is row i of a, nested types as Go values: lists as []any,
// structs as map[string]any, maps as []any of [key, value], integers as
// int64; nil for null.
func nestedValue(a arrow.Array, i int) any {
	if a.IsNull(i) {
		return nil
	}
	switch a := a.(type) {
	case *array.Map: // before *array.List: a Map is one
		lo, hi := a.ValueOffsets(i)
		out := []any{}
		for k := lo; k < hi; k++ {
			out = append(out, []any{nestedValue(a.Keys(), int(k)), nestedValue(a.Items(), int(k))})
		}
		return out
	case *array.List:
		lo, hi := a.ValueOffsets(i)
		out := []any{}
		for k := lo; k < hi; k++ {
			out = append(out, nestedValue(a.ListValues(), int(k)))
		}
		return out
	case *array.Struct:
		out := map[string]any{}
		for f := range a.NumField() {
			out[a.DataType().(*arrow.StructType).Field(f).Name] = nestedValue(a.Field(f), i)
		}
		return out
	case *array.Int64:
		return a.Value(i)
	case *array.Int32:
		return int64(a.Value(i))
	case *array.Float64:
		return a.Value(i)
	case *array.Boolean:
		return a.Value(i)
	case *array.String:
		return a.Value(i)
	}
	panic(fmt.Sprintf("nestedValue: %s", a.DataType()))
}

// nestoutWant is what testdata/nestout is specified to emit for v (its
// comment, the C SDK's nestout.c's), as nestedValue renders it.
func nestoutWant(v int64) map[string]any {
	words := []string{"", "a", "Île", "日本"}
	row := map[string]any{"n": v}
	switch {
	case v%5 == 0:
		row["l"] = nil
	case v%2 == 0:
		l := []any{}
		for k := range v % 4 {
			l = append(l, v+k)
		}
		row["l"] = l
	default:
		l := []any{}
		for k := range v % 4 {
			if k == 1 {
				l = append(l, nil)
			} else {
				l = append(l, 10*v+k)
			}
		}
		row["l"] = l
	}
	if v%7 == 0 {
		row["s"] = nil
	} else {
		var b any = words[v%4]
		if v%3 == 0 {
			b = nil
		}
		c := []any{}
		for k := range v % 3 {
			c = append(c, words[(v+k)%4])
		}
		row["s"] = map[string]any{"a": v, "b": b, "c": c}
	}
	if v%6 == 5 {
		row["m"] = nil
	} else {
		m := []any{}
		for k := range v % 3 {
			var val any = float64(v) + float64(k)/2
			if k == 1 {
				val = nil
			}
			m = append(m, []any{words[k+1], val})
		}
		row["m"] = m
	}
	ls, ll := []any{}, []any{}
	for k := range v % 3 {
		if (v+k)%4 == 3 {
			ls = append(ls, nil)
		} else {
			ls = append(ls, map[string]any{"x": 100*v + k, "y": k%2 == 0})
		}
		inner := []any{}
		for j := range k {
			inner = append(inner, int64(int32(v+j)))
		}
		ll = append(ll, inner)
	}
	row["ls"], row["ll"] = ls, ll
	return row
}

// TestNestedOutput: the SDK's nested output builders (writeNested, Node)
// lay out what testdata/nestout puts as the host reads it: lists,
// structs and maps, nested up to three levels, nulls at each level,
// whole lists put at once; batches of 0, 1 and 300 rows (validity bytes
// past the first, offsets of items spread over many rows) on one
// instance, so each call starts from empty columns.
func TestNestedOutput(t *testing.T) {
	mem := wasmtesting.Allocator(t)
	s := wasmtesting.NewStage(t, nestoutModule(t), nil, mem, wasmtesting.Config().WithCacheDir(cacheDir))
	out, err := s.Bind(context.Background(), nestoutIn)
	if err != nil {
		t.Fatal(err)
	}
	if want := "list<item: int64, nullable>"; !strings.Contains(out.String(), want) {
		t.Fatalf("output schema %s lacks %s", out, want)
	}
	for _, n := range []int{300, 0, 1, 37} {
		b := array.NewInt64Builder(mem)
		for i := range n {
			b.Append(int64(i*7+n) % 211)
		}
		col := b.NewArray()
		b.Release()
		in := wasmtesting.Release(t, array.NewRecordBatch(nestoutIn, []arrow.Array{col}, int64(n)))
		col.Release()
		rec, rejects, err := wasmtesting.Process(t, s, in)
		if err != nil || len(rejects) > 0 {
			t.Fatalf("%d rows: %v, %d rejects", n, err, len(rejects))
		}
		if rec.NumRows() != int64(n) {
			t.Fatalf("%d rows in, %d out", n, rec.NumRows())
		}
		vs := in.Column(0).(*array.Int64)
		for i := range n {
			got := map[string]any{}
			for c, f := range rec.Schema().Fields() {
				got[f.Name] = nestedValue(rec.Column(c), i)
			}
			if want := nestoutWant(vs.Value(i)); !reflect.DeepEqual(got, want) {
				t.Fatalf("%d rows: row %d (v %d):\n got %v\nwant %v", n, i, vs.Value(i), got, want)
			}
		}
	}
}

// TestNestedOutputMisuse: a stage that breaks the builders' rules fails
// the call with a message naming the column and the mistake.
func TestNestedOutputMisuse(t *testing.T) {
	mem := wasmtesting.Allocator(t)
	b := array.NewInt64Builder(mem)
	b.Append(1)
	col := b.NewArray()
	b.Release()
	in := wasmtesting.Release(t, array.NewRecordBatch(nestoutIn, []arrow.Array{col}, 1))
	col.Release()
	for misuse, want := range map[string]string{
		"unended": `output column "l": a row begun and not ended`,
		"outside": `a value outside its parent's begin/end (output column "l.item")`,
		"twice":   `a second value for a struct's field in one row (output column "s.a")`,
		"missing": `a struct row ended without a value for this field (output column "s.c")`,
		"mapkeys": `a map row ended with more keys than values or more values than keys (output column "m")`,
	} {
		s := wasmtesting.NewStage(t, nestoutModule(t), map[string]any{"misuse": misuse}, mem, wasmtesting.Config().WithCacheDir(cacheDir))
		if _, err := s.Bind(context.Background(), nestoutIn); err != nil {
			t.Fatal(err)
		}
		if _, _, err := s.Process(context.Background(), in); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want an error containing %s", misuse, err, want)
		}
	}
}
