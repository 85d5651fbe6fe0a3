package csv

import (
	"testing"

	"github.com/dataweaver/dataweaver/format"
	"github.com/dataweaver/dataweaver/format/internal/formattest"
)

// TestRoundTrip writes every type CSV round-trips, with NaN and infinities,
// and reads it back under each set of options.
func TestRoundTrip(t *testing.T) {
	formattest.RoundTrip(t, csvFormat, formattest.Edge{NonFinite: true}, []formattest.Options{
		{Name: "defaults"},
		{
			Name:  "semicolons, no header",
			Write: format.WriteOptions{Delimiter: ';', NoHeader: true},
			Read:  format.ReadOptions{Delimiter: ';', NoHeader: true},
		},
		{
			Name:  "tabs, tiny batches",
			Write: format.WriteOptions{Delimiter: '\t'},
			Read:  format.ReadOptions{Delimiter: '\t', BatchRows: 2, Workers: 3},
		},
	})
}
