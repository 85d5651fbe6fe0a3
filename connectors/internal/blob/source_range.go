package blob

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"

	"github.com/dataweaver/dataweaver/connectors/coordinator/split"
)

// DefaultSplitBytes is the default split_size: large enough that a
// split's fixed costs (a pipeline built, a message, a position saved,
// a part published: milliseconds) vanish beside reading it, small enough
// that a 1 GiB file spreads over 16 workers. Hadoop and Spark cut at
// 128 MiB for clusters of many more cores per worker than ours.
const DefaultSplitBytes = 64 << 20

// A byte-range split is the bytes [Start, End) of a line-oriented text
// object, widened and narrowed to whole lines: it holds every line whose
// first byte lies in (Start, End], or [0, End] for the first range. In
// bytes, that is [B(Start), B(End)) where B(0) = 0 and B(x) is one past
// the first newline at or after x (the object's size if there is none).
// B grows with x, so the ranges of one object, cut at any offsets, tile
// it: every line is read by exactly one range, whichever the line's
// length (a line longer than a range leaves the ranges it covers empty
// but for the one it starts in), and each range is found by reading only
// forward from Start, never backwards.

// lineRange reads the lines of the range [start, end) of an object from
// r, which returns the object from byte start on.
type lineRange struct {
	r          io.Reader
	pos        int64 // object offset of the next byte r returns
	start, end int64
	begun      bool // reached B(start)
	done       bool // reached B(end)
}

func newLineRange(r io.Reader, start, end int64) *lineRange {
	return &lineRange{r: r, pos: start, start: start, end: end, begun: start == 0}
}

func (l *lineRange) Read(p []byte) (int, error) {
	for {
		if l.done {
			return 0, io.EOF
		}
		if len(p) == 0 {
			return 0, nil
		}
		n, err := l.r.Read(p)
		chunk, base := p[:n], l.pos
		l.pos += int64(n)
		if !l.begun && n > 0 {
			i := bytes.IndexByte(chunk, '\n')
			if i < 0 {
				chunk = nil // still inside the line that an earlier range reads
			} else {
				l.begun = true
				if nl := base + int64(i); nl >= l.end {
					// The newline that begins this range also ends it: the
					// line crossing start crosses end too.
					l.done = true
					return 0, io.EOF
				}
				chunk, base = chunk[i+1:], base+int64(i)+1
			}
		}
		if l.begun && base+int64(len(chunk)) > l.end {
			// Bytes at end or after: through the first newline, which ends
			// the last line this range owns.
			k := max(0, l.end-base)
			if j := bytes.IndexByte(chunk[k:], '\n'); j >= 0 {
				chunk = chunk[:k+int64(j)+1]
				l.done = true
			}
		}
		m := copy(p, chunk)
		switch {
		case errors.Is(err, io.EOF):
			l.done = true
			if m > 0 {
				return m, nil
			}
			return 0, io.EOF
		case err != nil:
			return m, err
		case m > 0:
			return m, nil
		}
	}
}

// rangeSplits cuts o into byte ranges of s.splitBytes when it is text that
// can be entered at a newline: JSON Lines, or CSV declared to hold no line
// break inside a quoted value, not compressed, and larger than one range.
// It returns nil when o is read whole.
func (s *Source) rangeSplits(ctx context.Context, o Object, whole objectSplit) ([]split.Split, error) {
	if !s.lineSplits || s.splitBytes <= 0 || o.Size <= s.splitBytes ||
		s.compression == CompGzip || s.compression == CompZstd || BySuffix(o.Name) != "" {
		return nil, nil
	}
	opened, err := s.store.Open(ctx, o)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", s.kind, err)
	}
	defer opened.Close()
	head := newSections(opened, 0, 8<<10, o.Size)
	defer head.Close()
	br := bufio.NewReaderSize(head, 64<<10)
	if s.compression == CompAuto {
		kind, err := ByMagic(br)
		if err != nil {
			return nil, fmt.Errorf("%s: %s: %w", s.kind, o.Name, err)
		}
		if kind != CompNone {
			return nil, nil
		}
	}
	if s.format.Name == "csv" && !s.opts.NoHeader {
		// Every range but the first is read after a copy of the header, so
		// its columns are matched by name as in the first.
		if whole.Header, err = firstLine(br, s.opts.MaxRecordBytes); err != nil {
			return nil, fmt.Errorf("%s: %s: header: %w", s.kind, o.Name, err)
		}
	}
	var out []split.Split
	for start := int64(0); start < o.Size; start += s.splitBytes {
		sp := whole
		sp.Start, sp.End = start, min(start+s.splitBytes, o.Size)
		out = append(out, newSplit(sp, o.Name+"@"+strconv.FormatInt(start, 10),
			fmt.Sprintf("%s bytes %d to %d", o.Name, sp.Start, sp.End)))
	}
	return out, nil
}

// firstLine returns the first line of br with its newline, refusing one
// longer than limit.
func firstLine(br *bufio.Reader, limit int) ([]byte, error) {
	if limit <= 0 {
		limit = 1 << 20
	}
	var line []byte
	for {
		chunk, err := br.ReadSlice('\n')
		line = append(line, chunk...)
		switch {
		case len(line) > limit+2:
			return nil, fmt.Errorf("longer than max_record_bytes (%d)", limit)
		case err == nil || errors.Is(err, io.EOF):
			return line, nil
		case !errors.Is(err, bufio.ErrBufferFull):
			return nil, err
		}
	}
}

// sections reads an object from off on, first the first bytes, then
// in sections growing from 8 KiB, each a request of its own where the
// store has them (S3: ranged GETs), so a byte-range split downloads its
// range and little more: the line crossing its end is usually short, and
// a long one costs a few requests more (8 KiB doubling to 8 MiB).
type sections struct {
	opened    Opened
	off, size int64
	next      int64 // length of the next section
	grow      int64 // length of the last section after the first
	cur       io.ReadCloser
	curEnd    int64
}

func newSections(opened Opened, off, first, size int64) *sections {
	return &sections{opened: opened, off: off, size: size, next: max(first, 1)}
}

func (s *sections) Read(p []byte) (int, error) {
	for {
		if s.cur != nil {
			n, err := s.cur.Read(p)
			s.off += int64(n)
			if errors.Is(err, io.EOF) || s.off >= s.curEnd {
				cerr := s.cur.Close()
				s.cur = nil
				if s.off < s.curEnd {
					return n, fmt.Errorf("section ended at byte %d of %d: %w", s.off, s.curEnd, io.ErrUnexpectedEOF)
				}
				if cerr != nil {
					return n, cerr
				}
				err = nil
			}
			if n > 0 || err != nil {
				return n, err
			}
		}
		if s.off >= s.size {
			return 0, io.EOF
		}
		n := min(s.next, s.size-s.off)
		if s.grow == 0 {
			s.grow = 8 << 10
		} else {
			s.grow = min(2*s.grow, 8<<20)
		}
		s.next = s.grow
		r, err := s.section(s.off, n)
		if err != nil {
			return 0, err
		}
		s.cur, s.curEnd = r, s.off+n
	}
}

func (s *sections) section(off, n int64) (io.ReadCloser, error) {
	switch {
	case s.opened.Section != nil:
		return s.opened.Section(off, n)
	case s.opened.RA != nil:
		return io.NopCloser(io.NewSectionReader(s.opened.RA, off, n)), nil
	}
	return nil, errors.New("the store cannot read from an offset")
}

func (s *sections) Close() error {
	if s.cur == nil {
		return nil
	}
	err := s.cur.Close()
	s.cur = nil
	return err
}

// openRange returns what the format reader of a byte-range split reads:
// the header (CSV) and the range's lines. The object is read from the
// split's start on, and no further than the newline that ends the range.
func (s *Source) openRange(opened Opened, o *open) io.Reader {
	sp := s.split
	t := newSections(opened, sp.Start, sp.End-sp.Start, sp.Size)
	o.tail = t
	o.count = &countingReader{r: t, total: &s.read}
	var r io.Reader = newLineRange(o.count, sp.Start, sp.End)
	if sp.Start > 0 && len(sp.Header) > 0 {
		r = io.MultiReader(bytes.NewReader(sp.Header), r)
	}
	return r
}
