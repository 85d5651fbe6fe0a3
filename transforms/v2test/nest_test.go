package v2test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/dataweaver/dataweaver/internal/wasmtesting"
)

// nestModules are the Go nest (built once per test binary) and the
// committed C and Rust ones.
func nestModules(t *testing.T) map[string][]byte {
	t.Helper()
	return map[string][]byte{
		"go":   goModule(t, "transforms/nest"),
		"c":    wasmtesting.Committed(t, "transforms/c/nest", "transforms/c/nest/nest.wasm"),
		"rust": wasmtesting.Committed(t, "transforms/rust/nest", "transforms/rust/nest/nest.wasm"),
	}
}

// The line items of orderSchema's struct, flat.
var flatSchema = arrow.NewSchema(append([]arrow.Field{{Name: "order", Type: arrow.PrimitiveTypes.Int64}},
	lineItem.Fields()...), nil)

// flatBatch is orderBatch's line items one per row, nulls in every
// column.
func flatBatch(mem memory.Allocator, n int, seed uint64) arrow.RecordBatch {
	rec := orderBatch(mem, n, seed)
	defer rec.Release()
	b := array.NewRecordBuilder(mem, flatSchema)
	defer b.Release()
	l := rec.Column(1).(*array.List)
	st := l.ListValues().(*array.Struct)
	rng := rand.New(rand.NewPCG(seed, 9))
	for k := range st.Len() {
		b.Field(0).(*array.Int64Builder).Append(int64(k))
		for f := range st.NumField() {
			fb, col := b.Field(f+1), st.Field(f)
			if col.IsNull(k) || st.IsNull(k) || rng.IntN(9) == 0 {
				fb.AppendNull()
				continue
			}
			if err := fb.AppendValueFromString(col.ValueStr(k)); err != nil {
				panic(err)
			}
		}
	}
	return b.NewRecordBatch()
}

// nestRef is what nest {columns: <all but order>, as: item} is specified
// to give, built with arrow-go from the input's arrays: order, then the
// struct of the other columns (large_utf8 as utf8), never null.
func nestRef(mem memory.Allocator, rec arrow.RecordBatch) arrow.RecordBatch {
	var fields []arrow.Field
	for _, f := range lineItem.Fields() {
		if f.Type.ID() == arrow.LARGE_STRING {
			f.Type = arrow.BinaryTypes.String
		}
		fields = append(fields, f)
	}
	schema := arrow.NewSchema([]arrow.Field{
		{Name: "order", Type: arrow.PrimitiveTypes.Int64},
		{Name: "item", Type: arrow.StructOf(fields...), Nullable: true},
	}, nil)
	b := array.NewRecordBuilder(mem, schema)
	defer b.Release()
	st := b.Field(1).(*array.StructBuilder)
	for i := range int(rec.NumRows()) {
		b.Field(0).(*array.Int64Builder).Append(rec.Column(0).(*array.Int64).Value(i))
		st.Append(true)
		for f := range st.NumField() {
			col := rec.Column(f + 1)
			if col.IsNull(i) {
				st.FieldBuilder(f).AppendNull()
			} else if err := st.FieldBuilder(f).AppendValueFromString(col.ValueStr(i)); err != nil {
				panic(err)
			}
		}
	}
	return b.NewRecordBatch()
}

// TestNest: the C, Go and Rust nest (built on each SDK's struct builder)
// pack columns of every supported type into one struct column exactly as
// arrow-go's builders do from the same arrays, handing the other columns
// on; explode of that struct (each SDK reading a struct column) gives the
// input back; a column named like
// `as` is replaced in place.
func TestNest(t *testing.T) {
	mem := wasmtesting.Allocator(t)
	mods := nestModules(t)
	explode := explodeModules(t)
	var recs []arrow.RecordBatch
	for seed := range uint64(2) {
		rec := wasmtesting.Release(t, flatBatch(mem, 200, seed))
		recs = append(recs, rec, wasmtesting.Release(t, rec.NewSlice(5, 77)))
	}
	var cols []any
	for _, f := range lineItem.Fields() {
		cols = append(cols, f.Name)
	}
	conf := map[string]any{"columns": cols, "as": "item"}
	for lang, wasm := range mods {
		s := wasmtesting.NewStage(t, wasm, conf, mem, wasmtesting.Config())
		if _, err := s.Bind(context.Background(), flatSchema); err != nil {
			t.Fatalf("%s: %v", lang, err)
		}
		// Each language's explode unnests the struct of the same
		// language's nest (a struct column read by each SDK).
		unnest := wasmtesting.NewStage(t, explode[lang], map[string]any{"column": "item"}, mem, wasmtesting.Config())
		for _, rec := range recs {
			out, rejects, err := wasmtesting.Process(t, s, rec)
			if err != nil || len(rejects) > 0 {
				t.Fatalf("%s: %v, %d rejects", lang, err, len(rejects))
			}
			want := nestRef(mem, rec)
			if !array.RecordEqual(out, want) {
				t.Errorf("%s: the output differs from arrow-go's\n got %v\nwant %v", lang, firstRows(out), firstRows(want))
			}
			want.Release()
			if _, err := unnest.Bind(context.Background(), out.Schema()); err != nil {
				t.Fatal(err)
			}
			back, _, err := wasmtesting.Process(t, unnest, out)
			if err != nil {
				t.Fatal(err)
			}
			if got, want := rowLines(back), rowLines(rec); fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("%s: explode of nest's struct: %q, want the input %q", lang, got[:min(2, len(got))], want[:min(2, len(want))])
			}
		}
		// as naming a packed column: the struct takes its place.
		s = wasmtesting.NewStage(t, wasm, map[string]any{"columns": []any{"qty", "sku"}, "as": "sku"}, mem, wasmtesting.Config())
		schema, err := s.Bind(context.Background(), flatSchema)
		if err != nil {
			t.Fatalf("%s: %v", lang, err)
		}
		var names []string
		for _, f := range schema.Fields() {
			names = append(names, f.Name+" "+f.Type.String())
		}
		if got := strings.Join(names, ", "); !strings.HasPrefix(got, "order int64, sku struct<qty: int64 nullable, sku: utf8 nullable>, price float64") {
			t.Errorf("%s: output schema %s", lang, got)
		}
	}
}
