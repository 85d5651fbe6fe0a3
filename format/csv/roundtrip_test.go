package csv

import (
	"testing"

	"github.com/dataweaver/dataweaver/format"
	"github.com/dataweaver/dataweaver/format/internal/formattest"
)

// TestRoundTrip writes every type CSV round-trips, with NaN and infinities,
// and reads it back under each set of options.
func TestRoundTrip(t *testing.T) {
	tests := []struct {
		name  string
		wopts format.WriteOptions
		ropts format.ReadOptions
	}{
		{"defaults", format.WriteOptions{}, format.ReadOptions{}},
		{"semicolons, no header", format.WriteOptions{Delimiter: ';', NoHeader: true}, format.ReadOptions{Delimiter: ';', NoHeader: true}},
		{"tabs, tiny batches", format.WriteOptions{Delimiter: '\t'}, format.ReadOptions{Delimiter: '\t', BatchRows: 2, Workers: 3}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			formattest.RoundTrip(t, csvFormat, tt.wopts, tt.ropts, formattest.Edge{NonFinite: true})
		})
	}
}
