package csv

import (
	"bytes"
	"errors"
	"fmt"

	"github.com/dataweaver/dataweaver/format/internal/rowcodec"
)

// Row boundaries. A row ends at a newline outside quotes. A quote opens a
// quoted field only as the first byte of a field; inside one, a doubled
// quote is a literal quote and a single one closes it. A quote elsewhere is
// kept as a literal (lenient, like most readers), and bytes after a closing
// quote make the field malformed without moving the row boundary. The
// splitter, the decoder and the inference sample all use rowEnd, so they
// agree on where every row starts, which is what keeps line numbers exact
// under parallel decoding.

type rowStatus uint8

const (
	rowComplete     rowStatus = iota
	rowNeedMore               // buf ends inside the row
	rowUnterminated           // atEOF and a quoted field never closes
)

// splitter returns the pipeline's row finder: one memchr for the newline and
// one for a quote per row, and the quote-aware walk only for rows that have
// a quote.
func splitter(delim byte) rowcodec.SplitFunc {
	return func(buf []byte, pos int) (int, int, bool) {
		rest := buf[pos:]
		nl := bytes.IndexByte(rest, '\n')
		if nl < 0 {
			return 0, 0, false
		}
		if bytes.IndexByte(rest[:nl], '"') < 0 {
			return pos + nl + 1, 1, true
		}
		next, lines, st := rowEnd(buf, pos, delim, false)
		return next, lines, st == rowComplete
	}
}

// rowEnd walks the row at pos quote by quote. atEOF says buf holds the rest
// of the input, so an unclosed row ends at len(buf).
func rowEnd(buf []byte, pos int, delim byte, atEOF bool) (next, lines int, st rowStatus) {
	i, lines := pos, 1
	for {
		if i < len(buf) && buf[i] == '"' {
			i++
			for {
				j := bytes.IndexByte(buf[i:], '"')
				if j < 0 {
					if atEOF {
						return len(buf), lines + rowcodec.CountNL(buf[i:]), rowUnterminated
					}
					return 0, 0, rowNeedMore
				}
				lines += rowcodec.CountNL(buf[i : i+j])
				i += j + 1
				if i < len(buf) && buf[i] == '"' {
					i++
					continue
				}
				if i == len(buf) && !atEOF {
					return 0, 0, rowNeedMore // a doubled quote may follow
				}
				break
			}
		}
		// The rest of the field; a quote here is a literal character.
		for {
			i = nextSpecial(buf, i, delim)
			if i == len(buf) || buf[i] != '"' {
				break
			}
			i++
		}
		if i < len(buf) && buf[i] == '\n' {
			return i + 1, lines, rowComplete
		}
		if i == len(buf) {
			if atEOF {
				return len(buf), lines, rowComplete
			}
			return 0, 0, rowNeedMore
		}
		i++ // past the delimiter, at the next field's first byte
	}
}

// States of skipper between pieces of a record.
const (
	skipFieldStart uint8 = iota // at a field's first byte
	skipUnquoted                // in an unquoted field, or after a quoted one closed
	skipQuoted                  // inside a quoted field
	skipQuote                   // just after a quote inside a quoted field
)

// skipper returns the pipeline's finder of the end of a record over the
// size limit. It follows rowEnd's rules byte stream by byte stream, as the
// record is never whole in memory: a newline inside quotes does not end it.
func skipper(delim byte) rowcodec.SkipFunc {
	return func(b []byte, st *uint8) (int, int, bool) {
		i, lines := 0, 0
		for i < len(b) {
			switch *st {
			case skipQuoted:
				j := bytes.IndexByte(b[i:], '"')
				if j < 0 {
					return len(b), lines + rowcodec.CountNL(b[i:]), false
				}
				lines += rowcodec.CountNL(b[i : i+j])
				i += j + 1
				*st = skipQuote
			case skipQuote, skipFieldStart:
				// A quote here doubles a quote or opens a quoted field;
				// anything else is unquoted text, looked at next.
				if b[i] == '"' {
					i++
					*st = skipQuoted
				} else {
					*st = skipUnquoted
				}
			default:
				i = nextSpecial(b, i, delim)
				switch {
				case i == len(b):
				case b[i] == '\n':
					return i + 1, lines + 1, true
				case b[i] == '"':
					i++ // a literal quote
				default:
					i++
					*st = skipFieldStart
				}
			}
		}
		return len(b), lines, false
	}
}

var errUnterminated = errors.New("quoted field is not closed before the end of the input")

// nextField returns the field at row[i:]: its value (unquoted, with doubled
// quotes collapsed into scratch only when it has any), whether it was quoted,
// and the offset of the next field or -1 after the last one.
func nextField(row []byte, i int, delim byte, scratch []byte) (f []byte, quoted bool, next int, _ []byte, err error) {
	if i < len(row) && row[i] == '"' {
		j := i + 1
		used := false
		scratch = scratch[:0]
		for {
			k := bytes.IndexByte(row[j:], '"')
			if k < 0 {
				return nil, true, -1, scratch, errUnterminated
			}
			end := j + k
			if end+1 < len(row) && row[end+1] == '"' {
				scratch = append(scratch, row[j:end+1]...)
				used = true
				j = end + 2
				continue
			}
			if used {
				scratch = append(scratch, row[j:end]...)
				f = scratch
			} else {
				f = row[j:end]
			}
			after := end + 1
			switch {
			case after == len(row):
				return f, true, -1, scratch, nil
			case row[after] == delim:
				return f, true, after + 1, scratch, nil
			default:
				return nil, true, -1, scratch, fmt.Errorf("unexpected %q after a closing quote", row[after])
			}
		}
	}
	k := bytes.IndexByte(row[i:], delim)
	if k < 0 {
		return row[i:], false, -1, scratch, nil
	}
	return row[i : i+k], false, i + k + 1, scratch, nil
}

// splitRecord returns every field of row as a copy (header and inference,
// where speed does not matter).
func splitRecord(row []byte, delim byte) ([]string, []bool, error) {
	var (
		names   []string
		quoted  []bool
		scratch []byte
	)
	for i := 0; i >= 0; {
		f, q, next, s, err := nextField(row, i, delim, scratch)
		scratch = s
		if err != nil {
			return nil, nil, err
		}
		names = append(names, string(f))
		quoted = append(quoted, q)
		i = next
	}
	return names, quoted, nil
}
