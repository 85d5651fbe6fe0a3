package wasmabi

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/dataweaver/dataweaver/connectors/conformance"
)

// bigOrders is n rows with edge-value amounts (NaN, ±Inf, ±0, ±0.5 steps,
// values past int64 after ×100) and, when nulls, null amounts and
// countries: enough rows for the filter's 64-row blocks and derive's
// 8-row blocks plus a tail.
func bigOrders(n int, nulls bool) []order {
	r := rand.New(rand.NewPCG(7, uint64(n)))
	edges := []float64{0, math.Copysign(0, -1), math.NaN(), math.Inf(1), math.Inf(-1), 0.005, -0.005,
		0.125, -0.125, 1e17, -1e17, 9.3e16, -9.3e16, 92233720368547758, 1e300, 0.49999999999999994}
	countries := []string{"FR", "XX", "US", "X", "XXX", "", "GERMANY!", "LONGCOUNTRY"}
	rows := make([]order, n)
	for i := range rows {
		a := float64(r.IntN(41)-20) / 4
		if r.IntN(4) == 0 {
			a = edges[r.IntN(len(edges))]
		}
		rows[i] = order{int64(i), ptr("x@y"), ptr(countries[r.IntN(len(countries))]), ptr(a)}
		if nulls && r.IntN(7) == 0 {
			rows[i].amount = nil
		}
		if nulls && r.IntN(7) == 0 {
			rows[i].country = nil
		}
	}
	return rows
}

// TestFilterDeriveBlocks checks the filter's and derive's block kernels
// against the per-row semantics on batches larger than a block.
func TestFilterDeriveBlocks(t *testing.T) {
	ctx := context.Background()
	mem := conformance.Checked(t)
	cmp := map[string]func(a, b float64) bool{
		"==": func(a, b float64) bool { return a == b }, "!=": func(a, b float64) bool { return a != b },
		"<": func(a, b float64) bool { return a < b }, "<=": func(a, b float64) bool { return a <= b },
		">": func(a, b float64) bool { return a > b }, ">=": func(a, b float64) bool { return a >= b },
	}
	type filterCase struct {
		conf map[string]any
		keep func(o order) bool
	}
	var cases []filterCase
	for op, f := range cmp {
		for _, x := range []float64{0, 0.5, -1.25, 1e17} {
			cases = append(cases, filterCase{
				map[string]any{"column": "amount", "op": op, "value": x},
				func(o order) bool { return o.amount != nil && f(*o.amount, x) },
			})
		}
	}
	for _, op := range []string{"==", "!="} {
		for _, v := range []any{"XX", "X", "", "GERMANY!", "LONGCOUNTRY", []string{"XX", "FR"}} {
			set := map[string]bool{}
			if s, ok := v.(string); ok {
				set[s] = true
			} else {
				for _, s := range v.([]string) {
					set[s] = true
				}
			}
			cases = append(cases, filterCase{
				map[string]any{"column": "country", "op": op, "value": v},
				func(o order) bool { return o.country != nil && set[*o.country] == (op == "==") },
			})
		}
	}
	// One stage per case gets every batch in turn, so an instance also
	// meets batches larger and smaller than the one before (a fresh stage
	// per batch made this test take minutes on a loaded machine).
	type input struct {
		name string
		rows []order
		rec  arrow.RecordBatch
	}
	var inputs []input
	for _, n := range []int{1, 63, 64, 1000, 4099} {
		for _, nulls := range []bool{false, true} {
			rows := bigOrders(n, nulls)
			rec := orders(mem, rows)
			t.Cleanup(rec.Release)
			inputs = append(inputs, input{fmt.Sprintf("n=%d/nulls=%v", n, nulls), rows, rec})
		}
	}
	for _, c := range cases {
		s := newStage(t, "filter", c.conf, mem, testConfig())
		if _, err := s.Bind(ctx, ordersSchema); err != nil {
			t.Fatal(c.conf, err)
		}
		for _, in := range inputs {
			name := fmt.Sprintf("%s/%v %v %v", in.name, c.conf["column"], c.conf["op"], c.conf["value"])
			out, _, err := s.Process(ctx, in.rec)
			if err != nil {
				t.Fatal(name, err)
			}
			var want []string
			for _, o := range in.rows {
				if c.keep(o) {
					want = append(want, strconv.FormatInt(o.id, 10))
				}
			}
			if got := column(out, "id"); !slices.Equal(got, want) && !(len(got) == 0 && len(want) == 0) {
				t.Errorf("%s: kept %d rows, want %d", name, len(got), len(want))
			}
			out.Release()
		}
	}

	s := newStage(t, "derive", nil, mem, testConfig())
	if _, err := s.Bind(ctx, ordersSchema); err != nil {
		t.Fatal(err)
	}
	for _, in := range inputs {
		out, rejects, err := s.Process(ctx, in.rec)
		if err != nil {
			t.Fatal(in.name, err)
		}
		var wantIDs, wantCents []string
		var wantRejects []int
		for i, o := range in.rows {
			if o.amount == nil {
				wantIDs, wantCents = append(wantIDs, strconv.Itoa(i)), append(wantCents, "null")
				continue
			}
			y := math.Round(*o.amount * 100)
			if math.IsNaN(y) || y >= float64(math.MaxInt64) || y < -float64(math.MaxInt64) {
				wantRejects = append(wantRejects, i)
				continue
			}
			wantIDs, wantCents = append(wantIDs, strconv.Itoa(i)), append(wantCents, strconv.FormatInt(int64(y), 10))
		}
		var gotRejects []int
		for _, e := range rejects {
			gotRejects = append(gotRejects, e.Row)
		}
		if !slices.Equal(gotRejects, wantRejects) {
			t.Errorf("derive %s: rejected rows %v, want %v", in.name, gotRejects, wantRejects)
		}
		if got := column(out, "id"); !slices.Equal(got, wantIDs) {
			t.Errorf("derive %s: ids differ", in.name)
		}
		if got := column(out, "amount_cents"); !slices.Equal(got, wantCents) {
			for i := range min(len(got), len(wantCents)) {
				if got[i] != wantCents[i] {
					t.Errorf("derive %s: row id %s: amount_cents %s, want %s", in.name, wantIDs[i], got[i], wantCents[i])
					break
				}
			}
		}
		out.Release()
	}
}

// maskRef is the mask stage's per-row output (transforms/mask split).
func maskRef(s string) string {
	if s == "" {
		return "***"
	}
	n := 1
	if s[0] >= utf8.RuneSelf {
		_, n = utf8.DecodeRuneInString(s)
	}
	if at := strings.LastIndexByte(s, '@'); at > 0 {
		return s[:min(n, at)] + "***" + s[at:]
	}
	return s[:n] + "***"
}

// TestMaskBlocks checks the mask guest's direct-write path against the
// per-row semantics: values of every length around the 32-byte fast-path
// limit, '@' at every position, non-ASCII, nulls, rows near both ends of
// the data buffer.
func TestMaskBlocks(t *testing.T) {
	ctx := context.Background()
	mem := conformance.Checked(t)
	r := rand.New(rand.NewPCG(9, 10))
	alpha := []string{"a", "b", "@", "@", ".", "é", "Z", "\x00", "😀"}
	gen := func() string {
		switch r.IntN(6) {
		case 0:
			return fmt.Sprintf("user%d@example%d.com", r.IntN(100000), r.IntN(50))
		case 1:
			return ""
		}
		var sb strings.Builder
		for range r.IntN(40) {
			sb.WriteString(alpha[r.IntN(len(alpha))])
		}
		return sb.String()
	}
	for _, n := range []int{1, 3, 40, 1000, 3000} {
		for _, nulls := range []bool{false, true} {
			rows := make([]order, n)
			for i := range rows {
				rows[i] = order{int64(i), ptr(gen()), ptr("FR"), ptr(1.0)}
				if nulls && r.IntN(5) == 0 {
					rows[i].email = nil
				}
			}
			rec := orders(mem, rows)
			t.Cleanup(rec.Release)
			s := newStage(t, "mask", map[string]any{"columns": []string{"email"}}, mem, testConfig())
			if _, err := s.Bind(ctx, ordersSchema); err != nil {
				t.Fatal(err)
			}
			for range 2 { // the second batch reuses the builder's buffers
				out, _, err := s.Process(ctx, rec)
				if err != nil {
					t.Fatal(err)
				}
				got := column(out, "email")
				out.Release()
				for i, o := range rows {
					want := "null"
					if o.email != nil {
						want = maskRef(*o.email)
					}
					if got[i] != want {
						t.Fatalf("n=%d nulls=%v row %d: mask(%q) = %q, want %q", n, nulls, i, column(rec, "email")[i], got[i], want)
					}
				}
			}
			_ = s.Close()
		}
	}
}
