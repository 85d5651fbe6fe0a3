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

// asExplode is the committed AssemblyScript explode (rebuilt and
// compared under DW_WASM_FRESH=1).
func asExplode(t *testing.T) []byte {
	return wasmtesting.Committed(t, "transforms/assemblyscript/explode", "transforms/assemblyscript/explode/explode.wasm")
}

// listsOf wraps each of items' columns as a list<T> column of n rows
// (random lengths 0 to 5, a null row in 6, lists past the items empty),
// beside an int64 id.
func listsOf(mem memory.Allocator, items arrow.RecordBatch, n int, seed uint64) arrow.RecordBatch {
	rng := rand.New(rand.NewPCG(seed, 5))
	offs := make([]int32, n+1)
	valid := make([]byte, bitutil.BytesForBits(int64(n)))
	nulls := 0
	for i := range n {
		offs[i+1] = min(offs[i]+int32(rng.IntN(6)), int32(items.NumRows()))
		ok := rng.IntN(6) > 0
		bitutil.SetBitTo(valid, i, ok)
		if !ok {
			nulls++
		}
	}
	ids := array.NewInt64Builder(mem)
	defer ids.Release()
	for i := range n {
		ids.Append(int64(seed)*1000 + int64(i))
	}
	fields := []arrow.Field{{Name: "id", Type: arrow.PrimitiveTypes.Int64}}
	cols := []arrow.Array{ids.NewArray()}
	defer cols[0].Release()
	for j, f := range items.Schema().Fields() {
		item := items.Column(j).Data()
		child := array.NewSliceData(item, 0, int64(offs[n]))
		lt := arrow.ListOf(f.Type)
		d := array.NewData(lt, n, []*memory.Buffer{memory.NewBufferBytes(valid), memory.NewBufferBytes(arrow.Int32Traits.CastToBytes(offs))}, []arrow.ArrayData{child}, nulls, 0)
		child.Release()
		fields = append(fields, arrow.Field{Name: f.Name, Type: lt, Nullable: true})
		a := array.MakeFromData(d)
		d.Release()
		defer a.Release()
		cols = append(cols, a)
	}
	return array.NewRecordBatch(arrow.NewSchema(fields, nil), cols, int64(n))
}

// TestExplodeAssemblyScriptTypes: for a list of every v1 type the Go
// explode handles but decimal128, the AssemblyScript explode gives the
// Go one's output (floats compared by their bits, NaNs included) and
// output type, on a whole and a sliced batch; a list of decimals is
// refused at bind, naming the type.
func TestExplodeAssemblyScriptTypes(t *testing.T) {
	mem := wasmtesting.Allocator(t)
	goWasm, as := explodeModules(t)["go"], asExplode(t)
	all := wasmtesting.Release(t, wasmtesting.AllTypesRecord(mem, 400, 11))
	var keep []int
	for j, f := range all.Schema().Fields() {
		if !slices.Contains([]string{"dict", "list", "dec"}, f.Name) {
			keep = append(keep, j)
		}
	}
	items := wasmtesting.Release(t, project(all, keep))
	rec := wasmtesting.Release(t, listsOf(mem, items, 150, 2))
	recs := []arrow.RecordBatch{rec, wasmtesting.Release(t, rec.NewSlice(17, 121))}
	for _, f := range items.Schema().Fields() {
		conf := map[string]any{"column": f.Name, "as": "item"}
		var got [2][]string
		for k, wasm := range [][]byte{goWasm, as} {
			s := wasmtesting.NewStage(t, wasm, conf, mem, wasmtesting.Config())
			schema, err := s.Bind(context.Background(), rec.Schema())
			if err != nil {
				t.Fatalf("%s: %v", f.Name, err)
			}
			got[k] = append(got[k], schema.String())
			for _, r := range recs {
				out, rejects, err := wasmtesting.Process(t, s, r)
				if err != nil || len(rejects) > 0 {
					t.Fatalf("%s: %v, %d rejects", f.Name, err, len(rejects))
				}
				for _, row := range wasmtesting.Rows(out) {
					got[k] = append(got[k], strings.Join(row, "|"))
				}
			}
		}
		if len(got[0]) < 100 {
			t.Fatalf("%s: only %d rows: the test tests less than it says", f.Name, len(got[0]))
		}
		if fmt.Sprint(got[0]) != fmt.Sprint(got[1]) {
			t.Errorf("%s: Go and AssemblyScript differ:\nGo: %q\nAS: %q", f.Name, got[0][:min(5, len(got[0]))], got[1][:min(5, len(got[1]))])
		}
	}
	dec := wasmtesting.Release(t, listsOf(mem, wasmtesting.Release(t, project(all, []int{all.Schema().FieldIndices("dec")[0]})), 10, 3))
	s := wasmtesting.NewStage(t, as, map[string]any{"column": "dec"}, mem, wasmtesting.Config())
	if _, err := s.Bind(context.Background(), dec.Schema()); err == nil || !strings.Contains(err.Error(), `column "dec": items of type decimal128(10,2) are not supported`) {
		t.Errorf("exploding a list of decimals: %v, want a bind error naming the type", err)
	}
}

// project is rec's columns idx.
func project(rec arrow.RecordBatch, idx []int) arrow.RecordBatch {
	var fields []arrow.Field
	var cols []arrow.Array
	for _, j := range idx {
		fields = append(fields, rec.Schema().Field(j))
		cols = append(cols, rec.Column(j))
	}
	return array.NewRecordBatch(arrow.NewSchema(fields, nil), cols, rec.NumRows())
}
