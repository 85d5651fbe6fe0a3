package assemblyscript_test

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/dataweaver/dataweaver/internal/wasmtesting"
	"github.com/dataweaver/dataweaver/internal/windowtest"
	"github.com/dataweaver/dataweaver/wasmabi"
)

// TestSDKV2: testdata/sdkcheckv2 (the SDK's v2 through the host) gives
// the output of the C SDK's stagev2, call by call: every put type and
// its null (nulls before and after the 8th row, so the validity bitmap
// grows), pass-through by origin or drop_all, rejects of input rows,
// snapshot bytes, a restore (of its own or the C snapshot) and end of
// input.
func TestSDKV2(t *testing.T) {
	as := wasmtesting.Committed(t, "transforms/assemblyscript/testdata/sdkcheckv2", "transforms/assemblyscript/testdata/sdkcheckv2/sdkcheckv2.wasm")
	c := wasmtesting.Committed(t, "guest-sdk/c/sdktest/testdata/stagev2", "guest-sdk/c/sdktest/testdata/stagev2/stagev2.wasm")
	mem := wasmtesting.Allocator(t)
	schema := arrow.NewSchema([]arrow.Field{{Name: "id", Type: arrow.PrimitiveTypes.Int64}, {Name: "s", Type: arrow.BinaryTypes.String}}, nil)
	b := array.NewRecordBuilder(mem, schema)
	for i := range 40 {
		id := int64(i*7 - 5)
		b.Field(0).(*array.Int64Builder).Append(id)
		b.Field(1).(*array.StringBuilder).Append(fmt.Sprint("r", id, strings.Repeat("é", i%4)))
	}
	rec := wasmtesting.Release(t, b.NewRecordBatch())
	b.Release()
	ctx := context.Background()
	bound := func(wasm []byte, conf any) *wasmabi.Stage {
		s := wasmtesting.NewStage(t, wasm, conf, mem, wasmtesting.Config().WithCacheDir(cacheDir))
		if _, err := s.Bind(ctx, schema); err != nil {
			t.Fatal(err)
		}
		return s
	}
	// calls renders a process of rec, a snapshot restored into a fresh
	// stage of restoreInto, and that stage's end of input.
	calls := func(wasm, restoreInto []byte, conf any) (string, []byte) {
		s := bound(wasm, conf)
		out, rejects, err := wasmtesting.Process(t, s, rec)
		if err != nil {
			t.Fatal(err)
		}
		msgs := make([]string, len(rejects))
		for i, r := range rejects {
			msgs[i] = fmt.Sprintf("%d: %v", r.Row, r.Err)
		}
		var w strings.Builder
		fmt.Fprintln(&w, windowtest.Render(out, msgs))
		state, err := s.Snapshot(ctx)
		if err != nil {
			t.Fatal(err)
		}
		r := bound(restoreInto, conf)
		if err := r.Restore(ctx, state); err != nil {
			t.Fatal(err)
		}
		recs, err := r.Finish(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range recs {
			fmt.Fprintln(&w, windowtest.Render(wasmtesting.Release(t, e), nil))
		}
		return w.String(), state
	}
	for _, dropAll := range []bool{false, true} {
		conf := map[string]any{"drop_all": dropAll}
		got, gotState := calls(as, as, conf)
		want, wantState := calls(c, c, conf)
		if got != want {
			t.Fatalf("drop_all=%v: AssemblyScript:\n%s\nC:\n%s", dropAll, got, want)
		}
		if !bytes.Equal(gotState, wantState) {
			t.Fatalf("drop_all=%v: snapshot %x, C's %x", dropAll, gotState, wantState)
		}
		if cross, _ := calls(c, as, conf); cross != want {
			t.Fatalf("drop_all=%v: the C snapshot restored into AssemblyScript gave\n%s", dropAll, cross)
		}
		for _, w := range []string{"null null null", "0: negative id", "end"} {
			if dropAll && !strings.Contains(got, w) {
				t.Fatalf("drop_all: output lacks %s: the test tests less than it says\n%s", w, got)
			}
		}
	}
	if err := bound(as, nil).Restore(ctx, make([]byte, 8+3)); err == nil || !strings.Contains(err.Error(), "want 8 bytes of state") {
		t.Fatalf("restoring 3 bytes: %v; want the stage's refusal", err)
	}
}

// TestSDKV2Misuse: a stage that breaks the SDK's v2 rules fails the call
// with a message naming what it did, not with a result the host refuses.
func TestSDKV2Misuse(t *testing.T) {
	as := wasmtesting.Committed(t, "transforms/assemblyscript/testdata/sdkcheckv2", "transforms/assemblyscript/testdata/sdkcheckv2/sdkcheckv2.wasm")
	mem := wasmtesting.Allocator(t)
	schema := arrow.NewSchema([]arrow.Field{{Name: "id", Type: arrow.PrimitiveTypes.Int64}, {Name: "s", Type: arrow.BinaryTypes.String}}, nil)
	b := array.NewRecordBuilder(mem, schema)
	b.Field(0).(*array.Int64Builder).AppendValues([]int64{1, 2}, nil)
	b.Field(1).(*array.StringBuilder).AppendValues([]string{"a", "b"}, nil)
	rec := wasmtesting.Release(t, b.NewRecordBatch())
	b.Release()
	for mode, want := range map[string]string{
		"missing": `output column "txt": 0 values put for 2 rows emitted`,
		"twice":   `output column "n": a value put for no emitted row`,
		"origin":  "emit: origin 2 is not a row of this call's 2 input rows",
	} {
		s := wasmtesting.NewStage(t, as, map[string]any{"mode": mode}, mem, wasmtesting.Config().WithCacheDir(cacheDir))
		if _, err := s.Bind(context.Background(), schema); err != nil {
			t.Fatal(err)
		}
		_, _, err := s.Process(context.Background(), rec)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("mode %s: %v; want %q", mode, err, want)
		}
	}
}

// TestSDKListItemTypes: a view of a list's items that does not fit their
// type (ListCol.itemsOf<T>, strings, bools) fails the bind naming the
// column, the items' type and the view; one that fits binds.
func TestSDKListItemTypes(t *testing.T) {
	as := wasmtesting.Committed(t, "transforms/assemblyscript/testdata/sdkcheckv2", "transforms/assemblyscript/testdata/sdkcheckv2/sdkcheckv2.wasm")
	mem := wasmtesting.Allocator(t)
	schema := arrow.NewSchema([]arrow.Field{
		{Name: "id", Type: arrow.PrimitiveTypes.Int64},
		{Name: "s", Type: arrow.BinaryTypes.String},
		{Name: "tags", Type: arrow.ListOf(arrow.BinaryTypes.String), Nullable: true},
	}, nil)
	for items, want := range map[string]string{
		"f64":    `list column "tags": items are utf8, this stage reads them as f64`,
		"bool":   `list column "tags": items are utf8, this stage reads them as bool`,
		"string": "",
	} {
		s := wasmtesting.NewStage(t, as, map[string]any{"items": items}, mem, wasmtesting.Config().WithCacheDir(cacheDir))
		_, err := s.Bind(context.Background(), schema)
		if want == "" && err != nil || want != "" && (err == nil || !strings.Contains(err.Error(), want)) {
			t.Errorf("items %s: %v, want %q", items, err, want)
		}
	}
}
