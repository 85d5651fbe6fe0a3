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

	"github.com/dataweaver/dataweaver/internal/gather"
	"github.com/dataweaver/dataweaver/internal/wasmtesting"
)

// explodeModules are the Go explode (built once per test binary, as
// dedupe is) and the committed C and Rust ones (rebuilt and compared
// under DW_WASM_FRESH=1).
func explodeModules(t *testing.T) map[string][]byte {
	t.Helper()
	return map[string][]byte{
		"go":   goModule(t, "transforms/explode"),
		"c":    wasmtesting.Committed(t, "transforms/c/explode", "transforms/c/explode/explode.wasm"),
		"rust": wasmtesting.Committed(t, "transforms/rust/explode", "transforms/rust/explode/explode.wasm"),
	}
}

var listSchema = arrow.NewSchema([]arrow.Field{
	{Name: "id", Type: arrow.PrimitiveTypes.Int64},
	{Name: "tags", Type: arrow.ListOf(arrow.BinaryTypes.String), Nullable: true},
	{Name: "nums", Type: arrow.ListOf(arrow.PrimitiveTypes.Int64), Nullable: true},
}, nil)

// listBatch makes n rows of random lists: null lists, empty ones, null
// items, multi-byte strings.
func listBatch(mem memory.Allocator, n int, seed uint64) arrow.RecordBatch {
	rng := rand.New(rand.NewPCG(seed, 3))
	b := array.NewRecordBuilder(mem, listSchema)
	defer b.Release()
	words := []string{"", "a", "red", "Île", "日本", strings.Repeat("x", 70)}
	tags, nums := b.Field(1).(*array.ListBuilder), b.Field(2).(*array.ListBuilder)
	for i := range n {
		b.Field(0).(*array.Int64Builder).Append(int64(seed)*1000 + int64(i))
		for _, l := range []*array.ListBuilder{tags, nums} {
			if rng.IntN(6) == 0 {
				l.AppendNull()
				continue
			}
			l.Append(true)
			for range rng.IntN(5) {
				switch v := l.ValueBuilder().(type) {
				case *array.StringBuilder:
					if rng.IntN(8) == 0 {
						v.AppendNull()
					} else {
						v.Append(words[rng.IntN(len(words))])
					}
				case *array.Int64Builder:
					if rng.IntN(8) == 0 {
						v.AppendNull()
					} else {
						v.Append(rng.Int64() >> rng.IntN(64))
					}
				}
			}
		}
	}
	rec := b.NewRecordBatch()
	defer rec.Release()
	return nullOverItems(mem, rec)
}

// nullOverItems makes every 7th row's tags null without emptying its
// list: Arrow lets a null list keep items behind it, which builders never
// write but other producers may, and explode must give no row for it.
func nullOverItems(mem memory.Allocator, rec arrow.RecordBatch) arrow.RecordBatch {
	tags := rec.Column(1).Data()
	n := tags.Len()
	valid := memory.NewResizableBuffer(mem)
	defer valid.Release()
	valid.Resize((n + 7) / 8)
	nulls := 0
	for i := range n {
		ok := rec.Column(1).IsValid(i) && i%7 != 3
		bitutil.SetBitTo(valid.Bytes(), i, ok)
		if !ok {
			nulls++
		}
	}
	d := array.NewData(tags.DataType(), n, []*memory.Buffer{valid, tags.Buffers()[1]}, tags.Children(), nulls, tags.Offset())
	defer d.Release()
	l := array.MakeFromData(d)
	defer l.Release()
	cols := slices.Clone(rec.Columns())
	cols[1] = l
	return array.NewRecordBatch(rec.Schema(), cols, rec.NumRows())
}

// explodeRef is the reference, straight from the input's Arrow arrays:
// one line per item of column col, with the input row's other columns.
func explodeRef(rec arrow.RecordBatch, col int) []string {
	l := rec.Column(col).(*array.List)
	var out []string
	for i := range int(rec.NumRows()) {
		if l.IsNull(i) {
			continue
		}
		lo, hi := l.ValueOffsets(i)
		for k := lo; k < hi; k++ {
			item := "null"
			if l.ListValues().IsValid(int(k)) {
				item = l.ListValues().ValueStr(int(k))
			}
			var parts []string
			for c := range int(rec.NumCols()) {
				switch {
				case c == col:
					parts = append(parts, item)
				case rec.Column(c).IsNull(i):
					parts = append(parts, "null")
				default:
					parts = append(parts, rec.Column(c).ValueStr(i))
				}
			}
			out = append(out, strings.Join(parts, "|"))
		}
	}
	return out
}

func rowLines(rec arrow.RecordBatch) []string {
	var out []string
	for i := range int(rec.NumRows()) {
		var parts []string
		for _, c := range rec.Columns() {
			if c.IsNull(i) {
				parts = append(parts, "null")
			} else {
				parts = append(parts, c.ValueStr(i))
			}
		}
		out = append(out, strings.Join(parts, "|"))
	}
	return out
}

// TestExplode: the C, Go, Rust and AssemblyScript explode (ABI v2, a
// list column read across the boundary) give one row per item, each from
// its input row, so the other columns (another list among them) are
// handed on with it; null and empty lists give none. Checked against the
// items read straight from the input arrays, on whole, sliced and empty
// batches and a selection, and the four languages against each other
// (output schema and batches).
func TestExplode(t *testing.T) {
	mem := wasmtesting.Allocator(t)
	mods := explodeModules(t)
	mods["as"] = asExplode(t)
	var recs []arrow.RecordBatch
	for seed := range uint64(3) {
		rec := wasmtesting.Release(t, listBatch(mem, 200, seed))
		recs = append(recs, rec, wasmtesting.Release(t, rec.NewSlice(37, 151)))
	}
	recs = append(recs, wasmtesting.Release(t, recs[0].NewSlice(5, 5)))
	for _, col := range []struct {
		name string
		idx  int
		conf map[string]any
	}{
		{name: "tags in place", idx: 1, conf: map[string]any{"column": "tags"}},
		// num is appended where nums was dropped: the order is the same.
		{name: "nums as num", idx: 2, conf: map[string]any{"column": "nums", "as": "num"}},
	} {
		t.Run(col.name, func(t *testing.T) {
			outs := map[string][]arrow.RecordBatch{}
			for _, lang := range []string{"c", "go", "rust", "as"} {
				s := wasmtesting.NewStage(t, mods[lang], col.conf, mem, wasmtesting.Config())
				schema, err := s.Bind(context.Background(), listSchema)
				if err != nil {
					t.Fatalf("%s: %v", lang, err)
				}
				for _, rec := range recs {
					out, rejects, err := wasmtesting.Process(t, s, rec)
					if err != nil || len(rejects) > 0 {
						t.Fatalf("%s: %v, %d rejects", lang, err, len(rejects))
					}
					want := explodeRef(rec, col.idx)
					got := rowLines(out)
					if fmt.Sprint(got) != fmt.Sprint(want) {
						t.Fatalf("%s: %d rows, want %d\n got %q\nwant %q", lang, len(got), len(want), got[:min(4, len(got))], want[:min(4, len(want))])
					}
					outs[lang] = append(outs[lang], out)
				}
				// A selection (rows a filter upstream kept): the host
				// gathers the list column's rows before writing them.
				rec := recs[0]
				var sel []int
				for i := 0; i < int(rec.NumRows()); i += 3 {
					sel = append(sel, i)
				}
				out, _, rejects, err := s.ProcessSelected(context.Background(), rec, sel)
				if err != nil || len(rejects) > 0 {
					t.Fatalf("%s, selected: %v, %d rejects", lang, err, len(rejects))
				}
				picked, err := gather.Record(mem, rec, sel)
				if err != nil {
					t.Fatal(err)
				}
				if got, want := rowLines(out), explodeRef(picked, col.idx); fmt.Sprint(got) != fmt.Sprint(want) {
					t.Errorf("%s, selected: %d rows, want %d", lang, len(got), len(want))
				}
				out.Release()
				picked.Release()
				if lang == "c" {
					t.Logf("output schema: %s", schema)
				}
			}
			for i := range outs["c"] {
				for _, lang := range []string{"go", "rust", "as"} {
					if !outs["c"][i].Schema().Equal(outs[lang][i].Schema()) {
						t.Errorf("batch %d: output schemas of C and %s differ:\n%s\n%s", i, lang, outs["c"][i].Schema(), outs[lang][i].Schema())
					}
					if !array.RecordEqual(outs["c"][i], outs[lang][i]) {
						t.Errorf("batch %d: C and %s differ", i, lang)
					}
				}
			}
		})
	}
	for lang, wasm := range mods {
		s := wasmtesting.NewStage(t, wasm, map[string]any{"column": "id"}, mem, wasmtesting.Config())
		if _, err := s.Bind(context.Background(), listSchema); err == nil || !strings.Contains(err.Error(), `column "id" is int64`) {
			t.Errorf("%s: exploding an int64 column: %v, want a bind error naming it", lang, err)
		}
	}
}
