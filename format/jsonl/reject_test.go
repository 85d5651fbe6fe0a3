package jsonl

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/dataweaver/dataweaver/format/internal/formattest"
)

// TestRejectLinesParallel decodes bad and good lines with tiny batches on
// several workers: every reject must name its exact line, good rows stay in
// order.
func TestRejectLinesParallel(t *testing.T) {
	var (
		in        strings.Builder
		wantRows  []string
		wantRejct []string
	)
	line := 1
	for i := range 3000 {
		switch {
		case i%7 == 3:
			fmt.Fprintf(&in, "{\"id\":%d,\"s\":\"x\"\n", i) // unclosed
			wantRejct = append(wantRejct, fmt.Sprintf("%d:", line))
		case i%13 == 5:
			fmt.Fprintf(&in, "{\"id\":\"n%d\",\"s\":\"x\"}\n", i)
			wantRejct = append(wantRejct, fmt.Sprintf("%d:id", line))
		case i%11 == 2:
			in.WriteString("\n") // blank: not a row, but a line
		default:
			fmt.Fprintf(&in, "{\"s\":\"line\\n%d\",\"id\":%d}\r\n", i, i)
			wantRows = append(wantRows, fmt.Sprintf("%d|%q", i, fmt.Sprintf("line\n%d", i)))
		}
		line++
	}
	schema := arrow.NewSchema([]arrow.Field{
		{Name: "id", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
		{Name: "s", Type: arrow.BinaryTypes.String, Nullable: true},
	}, nil)
	formattest.RejectLines(t, jsonlFormat, in.String(), schema, wantRows, wantRejct)
}

// TestReadErrorIsFatal: an I/O error reaches Next after the rows before it.
func TestReadErrorIsFatal(t *testing.T) {
	formattest.ReadErrorIsFatal(t, jsonlFormat, strings.Repeat("{\"a\":1}\n", 10))
}

// TestCloseEarly closes a reader with batches in flight: no goroutine or
// buffer may outlive Close.
func TestCloseEarly(t *testing.T) {
	var in bytes.Buffer
	for i := range 10000 {
		fmt.Fprintf(&in, "{\"a\":%d}\n", i)
	}
	formattest.CloseEarly(t, jsonlFormat, in.Bytes())
}
