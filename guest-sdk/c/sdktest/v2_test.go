package sdktest_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/dataweaver/dataweaver/internal/wasmtesting"
)

// TestV2: the v2 stage (testdata/stagev2) emits zero, one or two rows per
// input row, each value type put and put null (a null after 8 values, so
// the validity bitmap grows with the rows), passes the input through from
// each row's origin, reports rejects as input rows, and after a snapshot
// restored into a fresh instance emits its count at end of input.
func TestV2(t *testing.T) {
	wasm := wasmtesting.Committed(t, "guest-sdk/c/sdktest/testdata/stagev2", "guest-sdk/c/sdktest/testdata/stagev2/stagev2.wasm")
	mem := wasmtesting.Allocator(t)
	schema := arrow.NewSchema([]arrow.Field{{Name: "id", Type: arrow.PrimitiveTypes.Int64}, {Name: "s", Type: arrow.BinaryTypes.String}}, nil)
	ids := []int64{3, -1, 4, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 21}
	b := array.NewRecordBuilder(mem, schema)
	for _, id := range ids {
		b.Field(0).(*array.Int64Builder).Append(id)
		b.Field(1).(*array.StringBuilder).Append(fmt.Sprint("r", id))
	}
	rec := wasmtesting.Release(t, b.NewRecordBatch())
	b.Release()
	render := func(r arrow.RecordBatch) []string {
		var out []string
		for i := range int(r.NumRows()) {
			var row []string
			for c := range int(r.NumCols()) {
				v := "null"
				if r.Column(c).IsValid(i) {
					v = r.Column(c).ValueStr(i)
				}
				row = append(row, v)
			}
			out = append(out, strings.Join(row, " "))
		}
		return out
	}
	var want []string
	for _, id := range ids {
		if id < 0 {
			continue
		}
		want = append(want, fmt.Sprintf("%d r%d %d %d %t r%d %v", id, id, id-id%10, id, id%2 == 0, id, float64(id)/2))
		if id%3 == 0 {
			want = append(want, fmt.Sprintf("%d r%d null null null null null", id, id))
		}
	}
	ctx := context.Background()
	for _, dropAll := range []bool{false, true} {
		t.Run(fmt.Sprint("drop_all=", dropAll), func(t *testing.T) {
			conf := map[string]any{"drop_all": dropAll}
			a := wasmtesting.NewStage(t, wasm, conf, mem, wasmtesting.Config())
			if _, err := a.Bind(ctx, schema); err != nil {
				t.Fatal(err)
			}
			out, rejects, err := wasmtesting.Process(t, a, rec)
			if err != nil {
				t.Fatal(err)
			}
			if len(rejects) != 1 || rejects[0].Row != 1 || rejects[0].Err.Error() != "negative id" {
				t.Errorf("rejects %v, want row 1: negative id", rejects)
			}
			w := want
			if dropAll {
				w = nil
				for _, l := range want {
					w = append(w, strings.SplitN(l, " ", 3)[2]) // without id and s
				}
			}
			if got := render(out); !slices.Equal(got, w) {
				t.Fatalf("emitted:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(w, "\n"))
			}
			state, err := a.Snapshot(ctx)
			if err != nil {
				t.Fatal(err)
			}
			c := wasmtesting.NewStage(t, wasm, conf, mem, wasmtesting.Config())
			if _, err := c.Bind(ctx, schema); err != nil {
				t.Fatal(err)
			}
			if err := c.Restore(ctx, state); err != nil {
				t.Fatal(err)
			}
			recs, err := c.Finish(ctx)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, r := range recs {
				got = append(got, render(wasmtesting.Release(t, r))...)
			}
			wantEnd := []string(nil)
			if dropAll {
				wantEnd = []string{fmt.Sprintf("%d null null end null", len(ids))}
			}
			if !slices.Equal(got, wantEnd) {
				t.Fatalf("end of input gave %q, want %q", got, wantEnd)
			}
		})
	}
}
