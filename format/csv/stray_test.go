package csv

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/dataweaver/dataweaver/format"
	"github.com/dataweaver/dataweaver/format/internal/formattest"
)

// TestStrayQuote is issue 10: a `"` opening a field on line 11 of a
// 500,000-row file made the rest of the file one row, so a pipeline with
// on_error: skip reported 10 rows in and 1 skipped, and 499,990 rows were
// gone. Now line 11 alone is rejected, naming where the quote opened and
// how much it would have swallowed, and every other row is read, with exact
// line numbers on any number of workers (a bad id on line 3001 is reported
// there): rows + rejects = data lines.
func TestStrayQuote(t *testing.T) {
	tests := []struct {
		name     string
		rows     int
		quoted   int // a row whose name is a well-formed quoted field, 0 for none
		wantMsg  string
		variants []format.ReadOptions
	}{
		{
			name: "500,000 rows, no other quote: the quote is still open 10,000 lines later",
			rows: 500000, wantMsg: "is still open 10,000 lines later",
		},
		{
			name: "5,000 rows: the quote would have run to the end of the input",
			rows: 5000, wantMsg: "never closes (it would have swallowed the 4,990 lines to the end of the input)",
		},
		{
			name: "the quote closes the opening quote of row 500's field",
			rows: 5000, quoted: 500, wantMsg: `closes 490 lines later, on line 501, followed by 'n'`,
		},
	}
	variants := []struct {
		name    string
		workers int
		batch   int
	}{
		{"one worker", 1, 0},
		{"four workers, batches of 777 rows", 4, 777},
	}
	for _, tt := range tests {
		var in bytes.Buffer
		in.WriteString("id,name\n")
		for i := 1; i <= tt.rows; i++ {
			switch i {
			case 10: // line 11
				fmt.Fprintf(&in, "%d,\"name %d\n", i, i)
			case tt.quoted:
				fmt.Fprintf(&in, "%d,\"name, %d\"\n", i, i)
			case 3000: // line 3001: its reject shows the lines after the cut are exact
				fmt.Fprintf(&in, "x%d,name %d\n", i, i)
			default:
				fmt.Fprintf(&in, "%d,name %d\n", i, i)
			}
		}
		for _, v := range variants {
			t.Run(tt.name+"/"+v.name, func(t *testing.T) {
				mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
				defer mem.AssertSize(t, 0)
				r, err := NewReader(format.Input{R: bytes.NewReader(in.Bytes()), Name: "big.csv"},
					format.ReadOptions{Mem: mem, Workers: v.workers, BatchRows: v.batch})
				if err != nil {
					t.Fatal(err)
				}
				schema, recs := readRecords(t, r)
				defer func() {
					for _, rr := range recs {
						rr.rec.Release()
					}
				}()
				if got := formattest.TypesOf(schema); got != "id:int64,name:utf8" {
					t.Errorf("schema %s, want id:int64,name:utf8 (the broken row is not sampled)", got)
				}
				var rejects []format.RowError
				want := 1
				rows := 0
				for _, rr := range recs {
					ids := rr.rec.Column(0).(*array.Int64)
					names := rr.rec.Column(1).(*array.String)
					for j := range ids.Len() {
						if want == 10 || want == 3000 {
							want++
						}
						wantName := "name " + strconv.Itoa(want)
						if want == tt.quoted {
							wantName = "name, " + strconv.Itoa(want)
						}
						if ids.Value(j) != int64(want) || names.Value(j) != wantName {
							t.Fatalf("row %d = %d,%q, want %d,%q", rows, ids.Value(j), names.Value(j), want, wantName)
						}
						want++
						rows++
					}
					rejects = append(rejects, rr.rejects...)
				}
				if rows+len(rejects) != tt.rows {
					t.Errorf("%d rows + %d rejects, want the %d data lines", rows, len(rejects), tt.rows)
				}
				if len(rejects) != 2 || rejects[1].Line != 3001 || rejects[1].Column != "id" {
					t.Fatalf("rejects = %v, want the stray quote's and line 3001's bad id", rejects)
				}
				e := rejects[0]
				msg := e.Error()
				if e.Line != 11 || !errors.Is(e.Err, format.ErrMalformed) || !errors.Is(e.Err, errStrayQuote) ||
					string(e.Raw) != `10,"name 10` || !strings.HasPrefix(msg, "big.csv:11: ") ||
					!strings.Contains(msg, "quote opened at line 11 ") || !strings.Contains(msg, tt.wantMsg) ||
					!strings.Contains(msg, "reading resumes on line 12") {
					t.Errorf("reject %q (raw %q), want line 11 alone, wrapping ErrMalformed, saying %q", msg, e.Raw, tt.wantMsg)
				}
				t.Log(msg)
			})
		}
	}
}

type readRecord struct {
	rec     arrow.RecordBatch
	rejects []format.RowError
}

// readRecords reads r to its end, keeping each batch with its rejects.
func readRecords(t *testing.T, r format.Reader) (*arrow.Schema, []readRecord) {
	t.Helper()
	defer r.Close()
	var out []readRecord
	for {
		rec, rej, err := r.Next()
		if err != nil {
			if err == io.EOF {
				return r.Schema(), out
			}
			for _, rr := range out {
				rr.rec.Release()
			}
			t.Fatal(err)
		}
		out = append(out, readRecord{rec, rej})
	}
}
