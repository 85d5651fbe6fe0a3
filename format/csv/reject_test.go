package csv

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/dataweaver/dataweaver/format/internal/formattest"
)

// TestRejectLinesParallel mixes bad rows with quoted fields spanning lines
// and decodes with tiny batches on several workers, so rows and rejects
// cross many chunk boundaries; every reject must name its exact line.
func TestRejectLinesParallel(t *testing.T) {
	var (
		in        strings.Builder
		wantRows  []string
		wantRejct []string
	)
	in.WriteString("id,s\n")
	line := 2
	for i := range 3000 {
		switch {
		case i%7 == 3:
			fmt.Fprintf(&in, "%d,x,too many\n", i)
			wantRejct = append(wantRejct, fmt.Sprintf("%d:", line))
			line++
		case i%13 == 5:
			fmt.Fprintf(&in, "n%d,bad id\n", i)
			wantRejct = append(wantRejct, fmt.Sprintf("%d:id", line))
			line++
		case i%5 == 1:
			fmt.Fprintf(&in, "%d,\"multi\nline, \"\"%d\"\"\r\nfield\"\r\n", i, i)
			wantRows = append(wantRows, fmt.Sprintf("%d|%q", i, fmt.Sprintf("multi\nline, \"%d\"\r\nfield", i)))
			line += 3
		default:
			fmt.Fprintf(&in, "%d,plain %d\n", i, i)
			wantRows = append(wantRows, fmt.Sprintf("%d|%q", i, fmt.Sprintf("plain %d", i)))
			line++
		}
	}
	schema := arrow.NewSchema([]arrow.Field{
		{Name: "id", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
		{Name: "s", Type: arrow.BinaryTypes.String, Nullable: true},
	}, nil)
	formattest.RejectLines(t, csvFormat, in.String(), schema, wantRows, wantRejct)
}

// TestReadErrorIsFatal: an I/O error reaches Next after the rows read before it.
func TestReadErrorIsFatal(t *testing.T) {
	data := "a\n1\n2\n"
	formattest.ReadErrorIsFatal(t, csvFormat, data+data+data)
}

// TestCloseEarly closes a reader with batches still in flight: no goroutine
// or buffer may outlive Close.
func TestCloseEarly(t *testing.T) {
	var in bytes.Buffer
	in.WriteString("a,b\n")
	for i := range 10000 {
		fmt.Fprintf(&in, "%d,%d\n", i, i)
	}
	formattest.CloseEarly(t, csvFormat, in.Bytes())
}
