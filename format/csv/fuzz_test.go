package csv

import (
	"bytes"
	"errors"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/dataweaver/dataweaver/format"
	"github.com/dataweaver/dataweaver/format/internal/formattest"
)

// refRows counts the rows of a CSV text byte by byte, independently of
// rowEnd's memchr jumps, by the rules in scan.go: a quote opens a quoted
// field only at the start of a field; a quoted field holding a line break
// that holds more than maxLines of them, is open at the limit, closes
// before anything but a delimiter or a line end, or is open at the end of
// the input breaks its record at the end of the line it opened on; a
// record whose text reaches the limit otherwise is too long and ends at the
// first newline at or after the limit. It returns the data rows (after a
// header unless noHeader) of a table of ncols columns (blank rows count only
// when there is one column), and how many of them are too long or broken;
// those count as rows whatever their fields. limit 0 means none.
func refRows(in []byte, delim byte, noHeader bool, ncols, limit, maxLines int) (rows, tooLong, broken int) {
	in = bytes.TrimPrefix(in, []byte("\xEF\xBB\xBF"))
	const (
		ok = iota
		long
		brk
	)
	type rec struct {
		kind  int
		blank bool
	}
	// lineEnd is the offset past the first newline at or after k.
	lineEnd := func(k int) int {
		if j := bytes.IndexByte(in[k:], '\n'); j >= 0 {
			return k + j + 1
		}
		return len(in)
	}
	eolAt := func(k int) bool { return in[k] == '\n' || in[k] == '\r' && k+1 < len(in) && in[k+1] == '\n' }
	blank := func(row []byte) bool { return len(row) == 0 || string(row) == "\r" }
	const (
		fieldStart = iota
		unquoted
		quoted
		quoteAfter // just after a quote inside a quoted field
	)
	record := func(pos int) (int, rec) {
		state, qs, ql := fieldStart, -1, 0
		for k := pos; ; k++ {
			if k == len(in) {
				if state == quoted {
					return lineEnd(qs), rec{kind: brk}
				}
				return k, rec{blank: blank(in[pos:])}
			}
			c := in[k]
			if limit > 0 && k == pos+limit && !(state != quoted && eolAt(k)) {
				if (state == quoted || state == quoteAfter && c == '"') && ql > 0 {
					return lineEnd(qs), rec{kind: brk}
				}
				return lineEnd(k), rec{kind: long}
			}
			if state == quoteAfter {
				if c == '"' {
					state = quoted
					continue
				}
				if ql > 0 && c != delim && c != '\n' && !(c == '\r' && (k+1 == len(in) || in[k+1] == '\n')) {
					return lineEnd(qs), rec{kind: brk}
				}
				state = unquoted
			}
			switch {
			case state == quoted:
				switch c {
				case '"':
					state = quoteAfter
				case '\n':
					if ql++; ql > maxLines {
						return lineEnd(qs), rec{kind: brk}
					}
				}
			case c == '"' && state == fieldStart:
				state, qs, ql = quoted, k, 0
			case c == delim:
				state = fieldStart
			case c == '\n':
				return k + 1, rec{blank: blank(in[pos:k])}
			default:
				state = unquoted
			}
		}
	}
	var recs []rec
	for pos := 0; pos < len(in); {
		next, r := record(pos)
		recs = append(recs, r)
		pos = next
	}
	if !noHeader && len(recs) > 0 {
		recs = recs[1:]
	}
	for _, r := range recs {
		switch r.kind {
		case long:
			tooLong++
		case brk:
			broken++
		}
		if !r.blank || ncols == 1 {
			rows++
		}
	}
	return rows, tooLong, broken
}

// linesFormat is csvFormat with maxLines line breaks allowed in a quoted
// field, so that tests reach the bound with small inputs.
func linesFormat(maxLines int) *format.Format {
	f := *csvFormat
	f.NewReader = func(in format.Input, opts format.ReadOptions) (format.Reader, error) {
		return newReader(in, opts, maxLines)
	}
	return &f
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
		f.Add([]byte(s), false, uint8(3), uint8(0), uint8(0))
	}
	f.Add([]byte("1,2\n3,4\n"), true, uint8(1), uint8(0), uint8(0))
	f.Add([]byte("\n\"\n1,2\n"), true, uint8(1), uint8(0), uint8(0))
	// Records over a small limit, in quotes and across lines.
	f.Add([]byte("a,b\n1,2\n\"x\ny\nz\",3\n4,5\n123456789\n"), false, uint8(2), uint8(5), uint8(0))
	f.Add([]byte("a\n\"unterminated\n1\n"), false, uint8(1), uint8(4), uint8(0))
	f.Add([]byte("a,b\r\n1,\"\"\"\"\"\r\n1,2\r\n"), false, uint8(1), uint8(4), uint8(0))
	// Stray quotes (issue 10): to the end of the input, closing another
	// field's quote, past a bound of 2 line breaks, open at the limit.
	f.Add([]byte("a,b\n1,\"x\n2,y\n3,z\n"), false, uint8(1), uint8(0), uint8(0))
	f.Add([]byte("a,b\n1,\"x\n2,y\n3,\"z\"\n"), false, uint8(2), uint8(0), uint8(0))
	f.Add([]byte("a,b\n1,\"x\n2,y\n3,z\n4,\"w\"\n"), false, uint8(1), uint8(0), uint8(3))
	f.Add([]byte("a,b\n1,\"x\n2,y\n3,z\n"), false, uint8(1), uint8(6), uint8(0))
	f.Fuzz(func(t *testing.T, in []byte, noHeader bool, batch, limit, qlines uint8) {
		mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
		defer mem.AssertSize(t, 0)
		// limit 0 is the default, far above any fuzz input; so is
		// maxQuotedLines, and qlines > 0 lowers it to 0-3.
		maxLines := maxQuotedLines
		if qlines > 0 {
			maxLines = int(qlines % 4)
		}
		opts := format.ReadOptions{NoHeader: noHeader, BatchRows: int(batch%8) + 1, Workers: 2, MaxRecordBytes: int(limit)}
		s, rows, rej, err := formattest.ReadAll(t, linesFormat(maxLines), mem, bytes.NewReader(in), opts)
		if err != nil {
			// Only a broken header, or inference cut before its first row
			// by a record over the limit, may fail the whole input.
			if !noHeader {
				return
			}
			if _, long, _ := refRows(in, ',', true, 1, int(limit), maxLines); long > 0 && errors.Is(err, format.ErrRecordTooLarge) {
				return
			}
			t.Fatalf("error on headerless input: %v", err)
		}
		want, wantLong, wantBroken := refRows(in, ',', noHeader, s.NumFields(), int(limit), maxLines)
		if got := len(rows) + len(rej); got != want {
			t.Fatalf("%d rows + %d rejects = %d, reference counts %d rows (%d columns) in %q (%v)", len(rows), len(rej), got, want, s.NumFields(), in, rej)
		}
		long, broken := 0, 0
		for _, e := range rej {
			if errors.Is(e.Err, format.ErrRecordTooLarge) {
				long++
			}
			if errors.Is(e.Err, errStrayQuote) {
				broken++
			}
		}
		if long != wantLong || broken != wantBroken {
			t.Fatalf("%d records too large and %d broken by a quote, reference counts %d over %d bytes and %d (%d line breaks allowed) in %q (%v)",
				long, broken, wantLong, limit, wantBroken, maxLines, in, rej)
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
