package jsonl

import (
	"testing"

	"github.com/dataweaver/dataweaver/format"
	"github.com/dataweaver/dataweaver/format/internal/formattest"
)

// TestRoundTrip writes every type JSONL round-trips, nested ones included,
// and reads it back. NaN and infinities are left out: they are written as
// null (see TestWriteNonFiniteAndInvalidUTF8).
func TestRoundTrip(t *testing.T) {
	tests := []struct {
		name  string
		wopts format.WriteOptions
		ropts format.ReadOptions
	}{
		{"defaults", format.WriteOptions{}, format.ReadOptions{}},
		{"tiny batches", format.WriteOptions{}, format.ReadOptions{BatchRows: 2, Workers: 3}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			formattest.RoundTrip(t, jsonlFormat, tt.wopts, tt.ropts, formattest.Edge{Nested: true})
		})
	}
}
