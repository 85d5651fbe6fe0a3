package jsonl_test

import (
	"testing"

	"github.com/dataweaver/dataweaver/format"
	"github.com/dataweaver/dataweaver/format/internal/formattest"
	_ "github.com/dataweaver/dataweaver/format/jsonl"
)

// TestReadTruncatedStreamIsAnError goes through the registry, as the file
// connector does when it wraps a gzip or zstd reader.
func TestReadTruncatedStreamIsAnError(t *testing.T) {
	f, err := format.Lookup("jsonl")
	if err != nil {
		t.Fatal(err)
	}
	formattest.TruncatedStream(t, f, "{\"a\":1}\n{\"a\":2}\n")
}
