package csv

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"

	"github.com/dataweaver/dataweaver/format/internal/rowcodec"
)

// Row boundaries. A row ends at a newline outside quotes. A quote opens a
// quoted field only as the first byte of a field; inside one, a doubled
// quote is a literal quote and a single one closes it. A quote elsewhere is
// kept as a literal (lenient, like most readers), and bytes after a closing
// quote make the field malformed without moving the row boundary. The
// splitter, the decoder and the inference sample all use rules.rowEnd, so
// they agree on where every row starts, which is what keeps line numbers
// exact under parallel decoding.
//
// One stray quote at the start of a field would make the rest of the input
// one quoted field, up to the next quote or to the end (issue 10: 499,990
// rows gone from a 500,000-row file under on_error: skip). So a quoted field
// that holds a line break must close in time, and a record whose quoted
// field does not is broken: it ends at the end of the line the quote opened
// on, is rejected, and reading resumes on the next line, so that every line
// after it is read. A multi-line quoted field is broken when, whichever
// comes first in the input,
//
//   - it holds more than maxLines line breaks,
//   - it is still open at the record limit (max_record_bytes),
//   - it closes and is followed by anything but a delimiter or a line end
//     (it closed some other field's opening quote), or
//   - the input ends inside it.
//
// A quote that opens and fails on the last line of the input is rejected
// with the rest of that line, as before. A record that passes the limit
// otherwise (long text, or a quoted field without a line break open at the
// limit) is too long, and ends at the first newline at or after the limit.

// maxQuotedLines is how many line breaks one quoted field may hold. Real
// multi-line fields (addresses, comments, a pasted paragraph) hold a few to
// a few hundred; at 10,000 a stray quote costs one rejected line and a
// rescan of 10,000 lines, not the rest of the input. It is not an option yet
// (format.ReadOptions is shared by every format).
const maxQuotedLines = 10000

// rules are the row boundaries of one reader: its delimiter, its record
// limit and the line breaks a quoted field may hold.
type rules struct {
	delim    byte
	limit    int
	maxLines int
}

// brokenKind says why a quoted field broke its record.
type brokenKind uint8

const (
	brokenEOF   brokenKind = iota + 1 // the input ends inside it
	brokenLines                       // more than maxLines line breaks
	brokenLimit                       // open at the record limit
	brokenAfter                       // closed, then followed by text
)

// broken describes a record rowEnd found Broken.
type broken struct {
	kind  brokenKind
	quote int // offset of the opening quote
	line  int // its line in the record, from 1
	close int // brokenAfter: offset of the closing quote
}

// splitter returns the pipeline's row finder: one memchr for the newline and
// one for a quote per row, and the quote-aware walk only for rows that have
// a quote (or end the input).
func (r *rules) splitter() rowcodec.SplitFunc {
	return func(buf []byte, pos int, atEOF bool) (int, int, rowcodec.Status) {
		rest := buf[pos:]
		nl := bytes.IndexByte(rest, '\n')
		if nl >= 0 && bytes.IndexByte(rest[:nl], '"') < 0 {
			return pos + nl + 1, 1, rowcodec.Complete
		}
		if nl < 0 && !atEOF || len(rest) == 0 {
			return 0, 0, rowcodec.NeedMore
		}
		return r.rowEnd(buf, pos, atEOF, nil)
	}
}

// rowEnd walks the row at pos quote by quote. atEOF says buf holds the rest
// of the input, so a row without a newline ends at len(buf). why, when not
// nil, is filled in for a Broken row.
func (r *rules) rowEnd(buf []byte, pos int, atEOF bool, why *broken) (next, lines int, st rowcodec.Status) {
	lim := pos + r.limit // the first offset past the longest record text
	i, lines := pos, 1
	for {
		if i < len(buf) && buf[i] == '"' {
			if i >= lim {
				return 0, 0, rowcodec.TooLong
			}
			qs, qline, ql := i, lines, 0
			i++
			for {
				end := len(buf)
				j := bytes.IndexByte(buf[i:], '"')
				if j >= 0 {
					end = i + j
				}
				// Open at the limit: the limit falls inside this piece, on
				// the quote that ends it, or on the second quote of a
				// doubled pair just before it.
				open := lim < end || j >= 0 && lim == end || lim < i
				stop := end
				if open {
					stop = max(lim, i)
				}
				n := rowcodec.CountNL(buf[i:stop])
				switch {
				case ql+n > r.maxLines:
					return r.broken(buf, qs, qline, brokenLines, 0, why)
				case open && ql+n > 0:
					return r.broken(buf, qs, qline, brokenLimit, 0, why)
				case open:
					return 0, 0, rowcodec.TooLong
				}
				ql += n
				lines += n
				if j < 0 {
					if atEOF {
						return r.broken(buf, qs, qline, brokenEOF, 0, why)
					}
					return 0, 0, rowcodec.NeedMore
				}
				i = end + 1
				if i < len(buf) && buf[i] == '"' {
					i++
					continue
				}
				if i == len(buf) && !atEOF {
					return 0, 0, rowcodec.NeedMore // a doubled quote may follow
				}
				break
			}
			// Text right after a quote that closed on a later line than it
			// opened means it closed another field's opening quote.
			if ql > 0 && i < len(buf) && buf[i] != r.delim && buf[i] != '\n' {
				switch {
				case buf[i] == '\r' && i+1 == len(buf) && !atEOF:
					return 0, 0, rowcodec.NeedMore
				case buf[i] == '\r' && (i+1 == len(buf) || buf[i+1] == '\n'):
				case i >= lim:
					return 0, 0, rowcodec.TooLong
				default:
					return r.broken(buf, qs, qline, brokenAfter, i-1, why)
				}
			}
		}
		// The rest of the field; a quote here is a literal character.
		for {
			i = nextSpecial(buf, i, r.delim)
			if i == len(buf) || buf[i] != '"' {
				break
			}
			i++
		}
		if i < len(buf) && buf[i] == '\n' {
			return i + 1, lines, rowcodec.Complete
		}
		if i == len(buf) {
			if atEOF {
				return len(buf), lines, rowcodec.Complete
			}
			return 0, 0, rowcodec.NeedMore
		}
		i++ // past the delimiter, at the next field's first byte
	}
}

// broken ends the row whose quoted field at qs broke at the end of the line
// the quote opened on, or at the end of the input.
func (r *rules) broken(buf []byte, qs, qline int, kind brokenKind, closeAt int, why *broken) (int, int, rowcodec.Status) {
	next := len(buf)
	if k := bytes.IndexByte(buf[qs:], '\n'); k >= 0 {
		next = qs + k + 1
	}
	if why != nil {
		*why = broken{kind: kind, quote: qs, line: qline, close: closeAt}
	}
	return next, qline, rowcodec.Broken
}

// errStrayQuote is wrapped by the reject of a row a quoted field broke.
var errStrayQuote = errors.New("unterminated quote")

// explain is the pipeline's Records.Broken: it names the line the quote
// opened on and how many lines it would have swallowed.
func (r *rules) explain(buf []byte, pos, next int, line int64, atEOF bool) error {
	var why broken
	if _, _, st := r.rowEnd(buf, pos, atEOF, &why); st != rowcodec.Broken {
		return errStrayQuote // not reached: the splitter saw the same bytes
	}
	qline := line + int64(why.line) - 1
	var text string
	switch why.kind {
	case brokenEOF:
		n := rowcodec.CountNL(buf[next:])
		if len(buf) > next && buf[len(buf)-1] != '\n' {
			n++
		}
		if n == 0 {
			return fmt.Errorf("%w opened at line %d: the input ends inside it", errStrayQuote, qline)
		}
		text = fmt.Sprintf("never closes (it would have swallowed the %s lines to the end of the input)", group(n))
	case brokenLines:
		text = fmt.Sprintf("is still open %s lines later (it would have swallowed at least that many; a quoted field may span at most %s line breaks)",
			group(r.maxLines), group(r.maxLines))
	case brokenLimit:
		n := rowcodec.CountNL(buf[why.quote : pos+r.limit])
		text = fmt.Sprintf("is still open at the limit of %d bytes (max_record_bytes), %s lines later (it would have swallowed at least that many)",
			r.limit, group(n))
	case brokenAfter:
		n := rowcodec.CountNL(buf[why.quote:why.close])
		text = fmt.Sprintf("closes %s lines later, on line %d, followed by %q instead of a delimiter or line end (it would have swallowed %s lines)",
			group(n), qline+int64(n), buf[why.close+1], group(n))
	}
	return fmt.Errorf("%w opened at line %d %s; the row is rejected to the end of line %d and reading resumes on line %d",
		errStrayQuote, qline, text, qline, qline+1)
}

// group writes n with thousands separators: 499,990.
func group(n int) string {
	s := strconv.Itoa(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
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
