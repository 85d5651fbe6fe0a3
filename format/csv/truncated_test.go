package csv_test

import (
	"testing"

	"github.com/dataweaver/dataweaver/format"
	_ "github.com/dataweaver/dataweaver/format/csv"
	"github.com/dataweaver/dataweaver/format/internal/formattest"
)

// TestReadTruncatedStreamIsAnError goes through the registry, as the file
// connector does when it wraps a gzip or zstd reader.
func TestReadTruncatedStreamIsAnError(t *testing.T) {
	f, err := format.Lookup("csv")
	if err != nil {
		t.Fatal(err)
	}
	formattest.TruncatedStream(t, f, "a,b\n1,2\n3,4\n")
}
