package sdktest_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
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
