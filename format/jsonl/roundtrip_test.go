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
	formattest.RoundTrip(t, jsonlFormat, formattest.Edge{Nested: true}, []formattest.Options{
		{Name: "defaults"},
		{Name: "tiny batches", Read: format.ReadOptions{BatchRows: 2, Workers: 3}},
	})
}
