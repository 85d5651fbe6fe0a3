package testrecords

import (
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
)

// exact is array.Equal except that NaN equals NaN: IEEE says NaN != NaN,
// but a reader that gives back the NaN it was given is correct. No float
// tolerance is allowed.
var exact = []array.EqualOption{array.WithNaNsEqual(true), array.WithAbsTolerance(0)}

// Equal reports whether two arrays hold the same values (NaN == NaN).
func Equal(a, b arrow.Array) bool {
	return array.Equal(a, b) || array.ApproxEqual(a, b, exact...)
}

// RequireEqual compares batch by batch and fails with the first differing
// column, printing both versions of it.
func RequireEqual(t testing.TB, what string, want, got []arrow.RecordBatch) {
	t.Helper()
	if len(want) != len(got) {
		t.Fatalf("%s: %d batches, want %d", what, len(got), len(want))
	}
	for i := range want {
		if array.RecordEqual(want[i], got[i]) || array.RecordApproxEqual(want[i], got[i], exact...) {
			continue
		}
		if want[i].NumRows() != got[i].NumRows() || want[i].NumCols() != got[i].NumCols() {
			t.Fatalf("%s batch %d: %d rows x %d cols, want %d x %d", what, i, got[i].NumRows(), got[i].NumCols(), want[i].NumRows(), want[i].NumCols())
		}
		for c := 0; c < int(want[i].NumCols()); c++ {
			if !Equal(want[i].Column(c), got[i].Column(c)) {
				t.Fatalf("%s batch %d column %q differs:\n got  %s %v\n want %s %v", what, i, want[i].ColumnName(c),
					got[i].Column(c).DataType(), got[i].Column(c), want[i].Column(c).DataType(), want[i].Column(c))
			}
		}
		t.Fatalf("%s batch %d differs", what, i)
	}
}

// Release releases every record.
func Release(recs []arrow.RecordBatch) {
	for _, r := range recs {
		r.Release()
	}
}
