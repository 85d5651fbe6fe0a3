package sdktest_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/dataweaver/dataweaver/internal/wasmtest"
	"github.com/dataweaver/dataweaver/internal/wasmtesting"
)

const checkV2Dir = "guest-sdk/go/sdktest/testdata/checkv2"

var checkV2 struct {
	once sync.Once
	wasm []byte
	err  error
}

func checkV2Module(t *testing.T) []byte {
	t.Helper()
	checkV2.once.Do(func() {
		out := filepath.Join(filepath.Dir(cacheDir), "checkv2.wasm")
		if checkV2.err = wasmtest.Build(checkV2Dir, out); checkV2.err == nil {
			checkV2.wasm, checkV2.err = os.ReadFile(out)
		}
	})
	if checkV2.err != nil {
		t.Fatalf("building the v2 check stage: %v", checkV2.err)
	}
	return checkV2.wasm
}

// TestV2: the v2 check stage's rows, recomputed from its input: two per
// input row (one from it, one of nulls and no origin), values put in
// every column type; its state (rows seen) survives a snapshot restored
// into a fresh instance, and end of input emits the count.
func TestV2(t *testing.T) {
	mem := wasmtesting.Allocator(t)
	schema := arrow.NewSchema([]arrow.Field{{Name: "id", Type: arrow.PrimitiveTypes.Int64}, {Name: "s", Type: arrow.BinaryTypes.String}}, nil)
	in := func(ids ...int64) arrow.RecordBatch {
		b := array.NewRecordBuilder(mem, schema)
		defer b.Release()
		for _, id := range ids {
			b.Field(0).(*array.Int64Builder).Append(id)
			b.Field(1).(*array.StringBuilder).Append(fmt.Sprint("row", id))
		}
		return wasmtesting.Release(t, b.NewRecordBatch())
	}
	render := func(r arrow.RecordBatch) []string {
		var out []string
		for i := range int(r.NumRows()) {
			row := ""
			for c := range int(r.NumCols()) {
				v := "null"
				if r.Column(c).IsValid(i) {
					v = r.Column(c).ValueStr(i)
				}
				row += v + " "
			}
			out = append(out, row)
		}
		return out
	}
	ctx := context.Background()
	a := wasmtesting.NewStage(t, checkV2Module(t), nil, mem, wasmtesting.Config().WithCacheDir(cacheDir))
	if _, err := a.Bind(ctx, schema); err != nil {
		t.Fatal(err)
	}
	out, _, err := wasmtesting.Process(t, a, in(13, 20, -3))
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"10 false row13 ", "null null null ", "20 true row20 ", "null null null ", "-10 false row-3 ", "null null null "}
	if got := render(out); !slices.Equal(got, want) {
		t.Fatalf("emitted %q, want %q", got, want)
	}
	state, err := a.Snapshot(ctx)
	if err != nil {
		t.Fatal(err)
	}
	b := wasmtesting.NewStage(t, checkV2Module(t), nil, mem, wasmtesting.Config().WithCacheDir(cacheDir))
	if _, err := b.Bind(ctx, schema); err != nil {
		t.Fatal(err)
	}
	if err := b.Restore(ctx, state); err != nil {
		t.Fatal(err)
	}
	if _, _, err := wasmtesting.Process(t, b, in(1)); err != nil {
		t.Fatal(err)
	}
	recs, err := b.Finish(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range recs {
		wasmtesting.Release(t, r)
	}
	if len(recs) != 1 || !slices.Equal(render(recs[0]), []string{"4 true end "}) {
		t.Fatalf("end of input gave %v, want one row counting 4 rows seen", recs)
	}

	// With an event-time column the watermark's row follows the batch's.
	tsSchema := arrow.NewSchema(append(schema.Fields(), arrow.Field{Name: "ts", Type: &arrow.TimestampType{Unit: arrow.Second}}), nil)
	w := wasmtesting.NewStage(t, checkV2Module(t), nil, mem, wasmtesting.Config().WithCacheDir(cacheDir).WithEventTime("ts", 5*time.Second))
	if _, err := w.Bind(ctx, tsSchema); err != nil {
		t.Fatal(err)
	}
	tb := array.NewRecordBuilder(mem, tsSchema)
	tb.Field(0).(*array.Int64Builder).Append(1)
	tb.Field(1).(*array.StringBuilder).Append("row1")
	tb.Field(2).(*array.TimestampBuilder).Append(100)
	trec := wasmtesting.Release(t, tb.NewRecordBatch())
	tb.Release()
	out, _, err = wasmtesting.Process(t, w, trec)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := render(out), []string{"0 false row1 ", "null null null ", "95 false wm:ts "}; !slices.Equal(got, want) {
		t.Fatalf("with a watermark: %q, want %q", got, want)
	}
}

const checkListDir = "guest-sdk/go/sdktest/testdata/checklist"

var checkList struct {
	once sync.Once
	wasm []byte
	err  error
}

func checkListModule(t *testing.T) []byte {
	t.Helper()
	checkList.once.Do(func() {
		out := filepath.Join(filepath.Dir(cacheDir), "checklist.wasm")
		if checkList.err = wasmtest.Build(checkListDir, out); checkList.err == nil {
			checkList.wasm, checkList.err = os.ReadFile(out)
		}
	})
	if checkList.err != nil {
		t.Fatalf("building the list check stage: %v", checkList.err)
	}
	return checkList.wasm
}

// TestLists: the list check stage's rows, recomputed from its input's
// Arrow arrays: each row's three lists (null lists, empty ones, null
// items, sliced batches), then the item types and counts.
func TestLists(t *testing.T) {
	mem := wasmtesting.Allocator(t)
	schema := arrow.NewSchema([]arrow.Field{
		{Name: "nums", Type: arrow.ListOf(arrow.PrimitiveTypes.Int32), Nullable: true},
		{Name: "flags", Type: arrow.ListOf(arrow.FixedWidthTypes.Boolean), Nullable: true},
		{Name: "words", Type: arrow.ListOf(arrow.BinaryTypes.String), Nullable: true},
	}, nil)
	rec, _, err := array.RecordFromJSON(mem, schema, strings.NewReader(`[
		{"nums": [1, -2, null], "flags": [true, null, false, true, true, false, true, true, false], "words": ["a", "", null, "Île"]},
		{"nums": null, "flags": [], "words": null},
		{"nums": [], "flags": null, "words": []},
		{"nums": [2147483647], "flags": [false], "words": ["日本", "x,y"]},
		{"nums": [7, 8], "flags": [true, true], "words": ["z"]}
	]`))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(rec.Release)
	s := wasmtesting.NewStage(t, checkListModule(t), nil, mem, wasmtesting.Config())
	if _, err := s.Bind(context.Background(), schema); err != nil {
		t.Fatal(err)
	}
	for _, r := range [][2]int64{{0, 5}, {1, 4}, {3, 5}} {
		in := rec.NewSlice(r[0], r[1])
		out, rejects, err := wasmtesting.Process(t, s, in)
		if err != nil || len(rejects) > 0 {
			t.Fatalf("rows %v: %v, %d rejects", r, err, len(rejects))
		}
		var want []string
		items := make([]int, 3)
		for i := range int(in.NumRows()) {
			var parts []string
			for c := range 3 {
				l := in.Column(c).(*array.List)
				if l.IsNull(i) {
					parts = append(parts, "null")
					continue
				}
				lo, hi := l.ValueOffsets(i)
				var vals []string
				for k := lo; k < hi; k++ {
					v := l.ListValues()
					switch {
					case v.IsNull(int(k)):
						vals = append(vals, "null")
					case c == 2:
						vals = append(vals, strconv.Quote(v.(*array.String).Value(int(k))))
					default:
						vals = append(vals, v.ValueStr(int(k)))
					}
				}
				parts = append(parts, "["+strings.Join(vals, ",")+"]")
			}
			want = append(want, strings.Join(parts, ";"))
		}
		for c := range 3 {
			l := in.Column(c).(*array.List)
			lo, _ := l.ValueOffsets(0)
			_, hi := l.ValueOffsets(l.Len() - 1)
			items[c] = int(hi - lo)
		}
		want = append(want, fmt.Sprintf("elems:int32,bool,utf8 items:%d,%d,%d", items[0], items[1], items[2]))
		got := out.Column(0).(*array.String)
		if got.Len() != len(want) {
			t.Fatalf("rows %v: %d rows, want %d", r, got.Len(), len(want))
		}
		for i, w := range want {
			if got.Value(i) != w {
				t.Errorf("rows %v, row %d: %q, want %q", r, i, got.Value(i), w)
			}
		}
		in.Release()
	}
}
