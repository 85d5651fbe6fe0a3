package wasmabi

import (
	"context"
	"slices"
	"strconv"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/dataweaver/dataweaver/connectors/conformance"
	"github.com/dataweaver/dataweaver/internal/gather"
)

// TestProcessSelected: for each example transform and selection, running
// the rows sel of a batch through ProcessSelected (then gathering the
// rows it names) gives the same rows and rejects as Process on those
// rows copied out first — the oracle is the unselected path. A filter
// answers with the input's own columns (nothing copied) and the rows it
// kept; a rejected row is named by its row in the input record.
func TestProcessSelected(t *testing.T) {
	mem := conformance.Checked(t)
	var rows []order
	for i := range 40 {
		o := sample()[i%5]
		o.id = int64(i)
		if i%9 == 4 {
			o.amount = ptr(1e30) // derive: amount_cents does not fit int64, a reject
		}
		rows = append(rows, o)
	}
	rec := orders(mem, rows)
	t.Cleanup(rec.Release)
	every3 := []int{}
	for i := 0; i < 40; i += 3 {
		every3 = append(every3, i)
	}
	sels := map[string][]int{"all": nil, "every third": every3, "ends": {0, 39}, "none": {}, "rejects": {4, 13, 14, 22}}
	for _, tc := range []struct {
		guest  string
		conf   any
		filter bool
	}{
		{"filter", map[string]any{"column": "amount", "op": ">=", "value": 0}, true},
		{"filter", map[string]any{"column": "country", "op": "!=", "value": "XX"}, true},
		{"filter", map[string]any{"column": "id", "op": "<", "value": 0}, true}, // keeps none
		{"mask", map[string]any{"columns": []string{"email"}}, false},
		{"derive", nil, false},
	} {
		s := newStage(t, tc.guest, tc.conf, mem, testConfig())
		if _, err := s.Bind(context.Background(), ordersSchema); err != nil {
			t.Fatal(err)
		}
		for name, sel := range sels {
			t.Run(tc.guest+"/"+name, func(t *testing.T) {
				in := rec
				if sel != nil {
					g, err := gather.Record(mem, rec, sel)
					if err != nil {
						t.Fatal(err)
					}
					defer g.Release()
					in = g
				}
				want, wantRejects, err := s.Process(context.Background(), in)
				if err != nil {
					t.Fatal(err)
				}
				defer want.Release()

				out, outSel, rejects, err := s.ProcessSelected(context.Background(), rec, sel)
				if err != nil {
					t.Fatal(err)
				}
				defer out.Release()
				got := out
				if outSel != nil {
					if !tc.filter {
						t.Errorf("a stage that writes columns answered with a selection")
					}
					g, err := gather.Record(mem, out, outSel)
					if err != nil {
						t.Fatal(err)
					}
					defer g.Release()
					got = g
				}
				if tc.filter && out.Column(0).Data() != rec.Column(0).Data() {
					t.Errorf("the filter copied its input instead of answering with it and a selection")
				}
				if g, w := render(got), render(want); !slices.Equal(g, w) {
					t.Errorf("rows:\n%q\nwant (Process on the selected rows):\n%q", g, w)
				}
				if tc.guest == "derive" && (name == "all" || name == "rejects") && len(wantRejects) == 0 {
					t.Errorf("derive rejected nothing: the test no longer checks how rejects are numbered")
				}
				if len(rejects) != len(wantRejects) {
					t.Fatalf("%d rejects, want %d", len(rejects), len(wantRejects))
				}
				for k, r := range rejects {
					w := wantRejects[k].Row
					if sel != nil {
						w = sel[w]
					}
					if r.Row != w || r.Err.Error() != wantRejects[k].Err.Error() {
						t.Errorf("reject %d: row %d %q, want row %d %q", k, r.Row, r.Err, w, wantRejects[k].Err)
					}
				}
			})
		}
	}
}

func render(rec arrow.RecordBatch) []string {
	out := make([]string, rec.NumRows())
	for i := range out {
		for c := range rec.Columns() {
			out[i] += rec.Column(c).ValueStr(i) + "|"
		}
	}
	return append(out, strconv.Itoa(int(rec.NumCols()))+" columns: "+rec.Schema().String())
}
