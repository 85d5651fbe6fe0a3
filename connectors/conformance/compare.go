package conformance

import (
	"fmt"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
)

// SameColumns reports how got differs from want in column names and types,
// or "" when they agree. Nullability and metadata are ignored: text formats
// read every column back as nullable, and that is not a data difference.
func SameColumns(want, got *arrow.Schema) string {
	if want.NumFields() != got.NumFields() {
		return fmt.Sprintf("%d columns, want %d: got %s, want %s", got.NumFields(), want.NumFields(), names(got), names(want))
	}
	for i, w := range want.Fields() {
		g := got.Field(i)
		if g.Name != w.Name || !arrow.TypeEqual(g.Type, w.Type) {
			return fmt.Sprintf("column %d is %s %s, want %s %s", i, g.Name, g.Type, w.Name, w.Type)
		}
	}
	return ""
}

func names(s *arrow.Schema) string {
	out := make([]string, s.NumFields())
	for i, f := range s.Fields() {
		out[i] = f.Name
	}
	return "[" + strings.Join(out, ", ") + "]"
}

// EqualRows fails t unless the records in got, taken in order, hold
// exactly the rows of want. It names the first differing row and column
// with both values, which is what one needs to find an encoder bug.
func EqualRows(t testing.TB, want arrow.RecordBatch, got []arrow.RecordBatch) {
	t.Helper()
	var total int64
	for _, g := range got {
		total += g.NumRows()
	}
	if total != want.NumRows() {
		t.Errorf("got %d rows in %d batches, want %d", total, len(got), want.NumRows())
	}
	var off int64
	for bi, g := range got {
		if d := SameColumns(want.Schema(), g.Schema()); d != "" {
			t.Errorf("batch %d: %s", bi, d)
			return
		}
		n := g.NumRows()
		if off+n > want.NumRows() {
			n = want.NumRows() - off
		}
		for c := 0; c < int(want.NumCols()); c++ {
			wc, gc := want.Column(c), g.Column(c)
			if array.SliceEqual(wc, off, off+n, gc, 0, n) {
				continue
			}
			for r := int64(0); r < n; r++ {
				if !array.SliceEqual(wc, off+r, off+r+1, gc, r, r+1) {
					t.Errorf("batch %d, row %d (overall %d), column %q: got %s, want %s",
						bi, r, off+r, want.ColumnName(c), gc.ValueStr(int(r)), wc.ValueStr(int(off+r)))
					return
				}
			}
		}
		off += g.NumRows()
		if off >= want.NumRows() {
			break
		}
	}
}

// SameRows fails t unless got holds the rows of want in any order, each
// as often: redelivered rows may arrive after rows read for the first
// time (a message bus hands them out again when their ack deadline
// passes), so at-least-once is checked as a multiset. Rows are compared
// by their values' text.
func SameRows(t testing.TB, want arrow.RecordBatch, got []arrow.RecordBatch) {
	t.Helper()
	count := countRows(want)
	for bi, g := range got {
		if d := SameColumns(want.Schema(), g.Schema()); d != "" {
			t.Errorf("batch %d: %s", bi, d)
			return
		}
		for r := 0; r < int(g.NumRows()); r++ {
			k := rowKey(g, r)
			if count[k] == 0 {
				t.Errorf("batch %d, row %d is not expected (or came twice): %s", bi, r, k)
				return
			}
			count[k]--
		}
	}
	for k, n := range count {
		if n > 0 {
			t.Errorf("row missing: %s", k)
			return
		}
	}
}

// CoversRows fails t unless got, in any order, holds every row of must
// and nothing but rows of may, none more often than may holds it: what an
// at-least-once source may read after a restart, where must is what was
// not acknowledged and may everything it was given.
func CoversRows(t testing.TB, must, may arrow.RecordBatch, got []arrow.RecordBatch) {
	t.Helper()
	need, allowed := countRows(must), countRows(may)
	for bi, g := range got {
		if d := SameColumns(may.Schema(), g.Schema()); d != "" {
			t.Errorf("batch %d: %s", bi, d)
			return
		}
		for r := 0; r < int(g.NumRows()); r++ {
			k := rowKey(g, r)
			if allowed[k] == 0 {
				t.Errorf("batch %d, row %d was never written (or came more often than written): %s", bi, r, k)
				return
			}
			allowed[k]--
			if need[k] > 0 {
				need[k]--
			}
		}
	}
	for k, n := range need {
		if n > 0 {
			t.Errorf("unacknowledged row lost: %s", k)
			return
		}
	}
}

func countRows(rec arrow.RecordBatch) map[string]int {
	count := map[string]int{}
	for r := 0; r < int(rec.NumRows()); r++ {
		count[rowKey(rec, r)]++
	}
	return count
}

func rowKey(rec arrow.RecordBatch, r int) string {
	var b strings.Builder
	for c := 0; c < int(rec.NumCols()); c++ {
		if c > 0 {
			b.WriteString(" | ")
		}
		b.WriteString(rec.Column(c).ValueStr(r))
	}
	return b.String()
}

// Release releases every record in recs.
func Release(recs []arrow.RecordBatch) {
	for _, r := range recs {
		if r != nil {
			r.Release()
		}
	}
}
