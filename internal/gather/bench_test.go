package gather

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/dataweaver/dataweaver/internal/benchrec/paired"
)

// BenchmarkTake: a 64K-row int64 and string column gathered with the
// selections the stages hand on: a filter keeping ~98% (runs of ~50),
// one dropping every sixth row (runs of 5), and half the rows at random
// (runs of ~2); row by row, run by run, and as NewRows chooses, in
// alternating blocks (internal/benchrec/paired), with ratios to row by
// row.
//
//	go test ./internal/gather -run '^$' -bench Take -benchtime 20x
func BenchmarkTake(b *testing.B) {
	const n = 64 << 10
	mem := memory.NewGoAllocator()
	ib := array.NewInt64Builder(mem)
	sb := array.NewStringBuilder(mem)
	for i := range n {
		ib.Append(int64(i))
		sb.Append(fmt.Sprintf("user%d@example%d.com", i, i%50))
	}
	cols := []arrow.Array{ib.NewArray(), sb.NewArray()}
	ib.Release()
	sb.Release()
	r := rand.New(rand.NewPCG(1, 2))
	sels := map[string]func(i int) bool{
		"keep98":   func(int) bool { return r.IntN(50) != 0 },
		"drop1of6": func(i int) bool { return i%6 != 4 },
		"random50": func(int) bool { return r.IntN(2) == 0 },
	}
	for _, name := range []string{"keep98", "drop1of6", "random50"} {
		var idx []int
		for i := range n {
			if sels[name](i) {
				idx = append(idx, i)
			}
		}
		for _, a := range cols {
			b.Run(name+"/"+a.DataType().String(), func(b *testing.B) {
				take := func(rows func() *Rows) func() {
					return func() {
						t, err := rows().Take(mem, a)
						if err != nil {
							b.Fatal(err)
						}
						t.Release()
					}
				}
				// rowwise is the gather before runs; auto is what
				// NewRows chooses (the split included).
				paired.Run(b, 8,
					paired.Variant{Name: "rowwise", Run: take(func() *Rows { return &Rows{idx: idx, tried: true, rowwise: true} })},
					paired.Variant{Name: "auto", Run: take(func() *Rows { return NewRows(idx) })})
			})
		}
	}
}
