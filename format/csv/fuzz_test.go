package csv

import (
	"bytes"
	"errors"
	"testing"

	"github.com/apache/arrow/go/v15/arrow/memory"

	"github.com/dataweaver/dataweaver/format"
	"github.com/dataweaver/dataweaver/format/internal/formattest"
)

// refRows counts the rows of a CSV text byte by byte, independently of
// rowEnd's memchr jumps: a quote opens a quoted field only at the start of a
// field, and blank rows count only when there is one column. It returns the
// number of data rows (after a header unless noHeader) of a table of ncols
// columns, and how many of them are longer than limit bytes without their
// line end (0: no limit); those count as rows whatever their fields.
func refRows(in []byte, delim byte, noHeader bool, ncols, limit int) (rows, tooLong int) {
	in = bytes.TrimPrefix(in, []byte("\xEF\xBB\xBF"))
	var counts []int // fields per row; 0 = blank, -1 = too long
	// long says whether a row ended by a newline is over the limit; a
	// "\r" before the newline is part of the line end.
	long := func(row []byte) bool {
		row = bytes.TrimSuffix(row, []byte("\r"))
		return limit > 0 && len(row) > limit
	}
	const (
		fieldStart = iota
		unquoted
		quoted
		quoteInQuoted
	)
	blank := func(row []byte) bool { return len(row) == 0 || string(row) == "\r" }
	state, fields, rowStart := fieldStart, 1, 0
	for i := 0; i < len(in); i++ {
		c := in[i]
		switch state {
		case fieldStart, unquoted:
			switch {
			case c == '"' && state == fieldStart:
				state = quoted
			case c == delim:
				fields++
				state = fieldStart
			case c == '\n':
				if long(in[rowStart:i]) {
					counts = append(counts, -1)
				} else if blank(in[rowStart:i]) {
					counts = append(counts, 0)
				} else {
					counts = append(counts, fields)
				}
				state, fields, rowStart = fieldStart, 1, i+1
			default:
				state = unquoted
			}
		case quoted:
			if c == '"' {
				state = quoteInQuoted
			}
		case quoteInQuoted:
			if c == '"' {
				state = quoted
			} else {
				state = unquoted
				i-- // reread as unquoted
			}
		}
	}
	if rowStart < len(in) {
		if limit > 0 && len(in)-rowStart > limit {
			counts = append(counts, -1)
		} else if blank(in[rowStart:]) {
			counts = append(counts, 0)
		} else {
			counts = append(counts, fields)
		}
	}
	if !noHeader && len(counts) > 0 {
		counts = counts[1:]
	}
	for _, n := range counts {
		if n < 0 {
			tooLong++
		}
		if n != 0 || ncols == 1 {
			rows++
		}
	}
	return rows, tooLong
}

func FuzzReadCSV(f *testing.F) {
	seeds := []string{
		"a,b\n1,2\n",
		"a,b\r\n1,\"x,\"\"y\"\"\nz\"\r\n2,3\n",
		"\xEF\xBB\xBFa\n\n1\n\r\n",
		"a,b\n1\n1,2,3\n\"open\n",
		"x,y\n\"a\"b,c\n\"\",\n",
		"t\n2020-01-01T00:00:00Z\n2020-13-01T00:00:00Z\n",
		"u\n18446744073709551615\n-1\n1e400\n",
		"a;b\n1;2\n",
		"",
		"\n\n\n",
		"\"",
		"a,\"b\n",
		",0\n\r", // a last row of just "\r" is blank (found by fuzzing)
	}
	for _, s := range seeds {
		f.Add([]byte(s), false, uint8(3), uint8(0))
	}
	f.Add([]byte("1,2\n3,4\n"), true, uint8(1), uint8(0))
	f.Add([]byte("\n\"\n1,2\n"), true, uint8(1), uint8(0))
	// Records over a small limit, in quotes and across lines.
	f.Add([]byte("a,b\n1,2\n\"x\ny\nz\",3\n4,5\n123456789\n"), false, uint8(2), uint8(5))
	f.Add([]byte("a\n\"unterminated\n1\n"), false, uint8(1), uint8(4))
	f.Add([]byte("a,b\r\n1,\"\"\"\"\"\r\n1,2\r\n"), false, uint8(1), uint8(4))
	f.Fuzz(func(t *testing.T, in []byte, noHeader bool, batch, limit uint8) {
		mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
		defer mem.AssertSize(t, 0)
		// limit 0 is the default, far above any fuzz input.
		opts := format.ReadOptions{NoHeader: noHeader, BatchRows: int(batch%8) + 1, Workers: 2, MaxRecordBytes: int(limit)}
		s, rows, rej, err := formattest.ReadAll(t, csvFormat, mem, bytes.NewReader(in), opts)
		if err != nil {
			// Only a broken header, or inference cut before its first row
			// by a record over the limit, may fail the whole input.
			if !noHeader {
				return
			}
			if _, long := refRows(in, ',', true, 1, int(limit)); long > 0 && errors.Is(err, format.ErrRecordTooLarge) {
				return
			}
			t.Fatalf("error on headerless input: %v", err)
		}
		want, wantLong := refRows(in, ',', noHeader, s.NumFields(), int(limit))
		if got := len(rows) + len(rej); got != want {
			t.Fatalf("%d rows + %d rejects = %d, reference counts %d rows (%d columns) in %q", len(rows), len(rej), got, want, s.NumFields(), in)
		}
		long := 0
		for _, e := range rej {
			if errors.Is(e.Err, format.ErrRecordTooLarge) {
				long++
			}
		}
		if long != wantLong {
			t.Fatalf("%d records too large, reference counts %d over %d bytes in %q (%v)", long, wantLong, limit, in, rej)
		}
		last := int64(0)
		for _, e := range rej {
			if e.Line <= last {
				t.Fatalf("reject lines not increasing: %v after line %d", &e, last)
			}
			last = e.Line
		}
	})
}
