package parquet

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/dataweaver/dataweaver/format/internal/testrecords"
)

// TestSampleDistinct: counting a sample's distinct values by their bits
// or bytes gives what counting their ValueStr gave (the writer's
// dictionary choice before), for every flat type, value kind and null
// share, and for slices.
func TestSampleDistinct(t *testing.T) {
	mem := checkedMem(t)
	rng := rand.New(rand.NewPCG(3, 4))
	reference := func(col arrow.Array, n int) (valid, distinct int) {
		seen := map[string]struct{}{}
		for i := 0; i < col.Len() && valid < n; i++ {
			if col.IsNull(i) {
				continue
			}
			valid++
			seen[col.ValueStr(i)] = struct{}{}
		}
		return valid, len(seen)
	}
	check := func(name string, col arrow.Array) {
		t.Helper()
		for _, n := range []int{5, 8192} {
			gv, gd := sampleDistinct(col, n)
			wv, wd := reference(col, n)
			if gv != wv || gd != wd {
				t.Errorf("%s, sample %d: %d values, %d distinct; ValueStr counts %d, %d", name, n, gv, gd, wv, wd)
			}
		}
	}
	for _, dt := range randomTypes {
		for _, kind := range []fillKind{noise, sequence, repeats} {
			if kind == noise && (dt.ID() == arrow.FLOAT32 || dt.ID() == arrow.FLOAT64) {
				continue // random bits make NaNs of many payloads, which ValueStr prints alike
			}
			col := randomColumn(mem, rng, dt, 3000, kind, 0.2)
			check(fmt.Sprintf("%s kind %d", dt, kind), col)
			sl := array.NewSlice(col, 7, 2500)
			check(fmt.Sprintf("%s kind %d, sliced", dt, kind), sl)
			sl.Release()
			col.Release()
		}
	}
	rec := testrecords.Record(mem, flatFields()...)
	defer rec.Release()
	for i, col := range rec.Columns() {
		check(rec.ColumnName(i), col)
	}
}
