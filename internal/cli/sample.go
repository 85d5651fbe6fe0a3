package cli

import (
	"bytes"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"unicode/utf8"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/dataweaver/dataweaver/engine"
	"github.com/dataweaver/dataweaver/internal/guesttext"
	"github.com/dataweaver/dataweaver/internal/progress"
)

// sampleColumns is how many columns a sample table shows: enough for a
// look at the data, few enough for a terminal; the rest are named below.
const sampleColumns = 8

// writeSamples prints each step's sampled rows as a table: the first
// sampleColumns columns, each value cut to width runes.
func writeSamples(out io.Writer, samples []engine.StepSample, width int) {
	for _, s := range samples {
		head := fmt.Sprintf("%s: %s %s", s.Name, progress.Grouped(s.Rows), progress.Plural(s.Rows, "row", "rows"))
		if n := len(s.Rejects); n > 0 {
			head += fmt.Sprintf(", %d rejected", n)
		}
		fmt.Fprintln(out, head)
		if s.Rows > 0 {
			writeRows(out, s.Schema, s.Records, width)
		}
		const maxRejects = 5
		for i, r := range s.Rejects {
			if i == maxRejects {
				fmt.Fprintf(out, "  … and %d more rejected\n", len(s.Rejects)-maxRejects)
				break
			}
			fmt.Fprintf(out, "  rejected: %s\n", clean(r.Error(), 0))
		}
	}
}

func writeRows(out io.Writer, schema *arrow.Schema, recs []arrow.RecordBatch, width int) {
	cols := min(schema.NumFields(), sampleColumns)
	var buf bytes.Buffer
	tw := tabwriter.NewWriter(&buf, 0, 0, 2, ' ', 0)
	cells := make([]string, cols)
	for i := range cells {
		cells[i] = clean(schema.Field(i).Name, width)
	}
	fmt.Fprintln(tw, "  "+strings.Join(cells, "\t"))
	for _, rec := range recs {
		for row := 0; row < int(rec.NumRows()); row++ {
			for c := range cells {
				col := rec.Column(c)
				if col.IsNull(row) {
					cells[c] = "null"
				} else {
					cells[c] = clean(col.ValueStr(row), width)
				}
			}
			fmt.Fprintln(tw, "  "+strings.Join(cells, "\t"))
		}
	}
	tw.Flush()
	for _, line := range strings.SplitAfter(buf.String(), "\n") {
		io.WriteString(out, strings.TrimRight(line, " \n"))
		if strings.HasSuffix(line, "\n") {
			io.WriteString(out, "\n")
		}
	}
	if more := schema.NumFields() - cols; more > 0 {
		names := make([]string, 0, more)
		for _, f := range schema.Fields()[cols:] {
			names = append(names, f.Name)
		}
		fmt.Fprintf(out, "  (%d more %s not shown: %s)\n", more, progress.Plural(int64(more), "column", "columns"),
			clean(strings.Join(names, ", "), 0))
	}
}

// clean makes a value safe and short for a terminal: what a terminal would
// act on (escape sequences, tabs and newlines that would break the table,
// bidirectional overrides) is written out as guesttext does for every
// guest string, since a Wasm stage made many of these values; a value
// longer than width runes (0: no limit) ends in "…".
func clean(s string, width int) string {
	s = guesttext.Escape(s)
	if width > 0 && utf8.RuneCountInString(s) > width {
		r := []rune(s)
		s = string(r[:width-1]) + "…"
	}
	return s
}
