package rowcodec

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"sync"
	"sync/atomic"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/dataweaver/dataweaver/format"
)

// The pipeline splits the input into chunks of whole rows in one goroutine
// (cheap: a memchr per row), decodes chunks on several workers, and hands
// results back in input order. Each chunk becomes one batch, so BatchRows is
// also the unit of parallelism. The splitter counts physical lines, so every
// chunk knows the line number it starts at and workers report exact lines.

const (
	minRead      = 256 << 10
	maxChunkSize = 256 << 20 // keeps one chunk's strings far below 2 GiB
)

// Status is what a SplitFunc found at a record's start.
type Status uint8

const (
	// NeedMore: buf ends before the record's end is known. At the end of
	// the input the pipeline then takes the rest as one record.
	NeedMore Status = iota
	// Complete: the record ends at next.
	Complete
	// Broken: the record cannot be read, and the format cut it short at
	// next so that reading resumes there (CSV: a quote that does not close
	// in time ends the record at the end of the line it opened on, instead
	// of swallowing the input up to the next quote). Records.Broken says
	// why; the record becomes a reject and is never decoded.
	Broken
	// TooLong: the record's text passes the limit before its end is found.
	// It ends at the first newline at or after pos+limit and is skipped
	// without being held. A format that does not check the limit itself
	// returns NeedMore, and the pipeline finds the record too long when
	// the buffer holds more than the limit of it.
	TooLong
)

// SplitFunc finds the end of the record starting at pos: next is the offset
// just past its terminating newline and lines the physical lines it spans.
// atEOF says buf holds the rest of the input.
type SplitFunc func(buf []byte, pos int, atEOF bool) (next, lines int, st Status)

// Records is how a format cuts its input into records: Split on buffered
// bytes for every record, Broken to explain a record Split called Broken
// (nil for formats whose Split never does): buf[pos:next], starting at
// line; buf holds all that is read, and the rest of the input when atEOF.
type Records struct {
	Split  SplitFunc
	Broken func(buf []byte, pos, next int, line int64, atEOF bool) error
}

// rowState is what row found at a position.
type rowState uint8

const (
	rowNone    rowState = iota // no row starts here (end of input or read error)
	rowOK                      // a row within the limit
	rowTooLong                 // a row over the limit, skipped when row was asked to
	rowBroken                  // a record Split cut short: a reject
)

// Chunk is a run of whole rows for one worker to decode into one batch.
type Chunk struct {
	Data []byte
	Line int64   // 1-based line number of Data[0]
	buf  *[]byte // backing array, returned to the pool after decoding
	// pre are records over the limit skipped just before Data; their row
	// errors go first in the chunk's rejects, keeping input order.
	pre []format.RowError
	// Cuts are the records in Data that Split called Broken, in input
	// order. The decoder does not decode Data[Off:End] (Lines lines) but
	// puts Reject among its rejects in its place. Only a format whose
	// Split returns Broken gets them. They stay in the chunk rather than
	// ending it, as a record over the limit does, so that a file with a
	// stray quote every few rows costs no extra buffer copies.
	Cuts []Cut
}

// Cut is a record in a chunk that the splitter rejected.
type Cut struct {
	Off, End, Lines int
	Reject          format.RowError
}

type result struct {
	rec     arrow.RecordBatch
	rejects []format.RowError
	err     error
}

// ChunkDecoder is one worker's decoder; it is not shared between goroutines.
// Decode turns every row of c into the record or into a reject; the error is
// for failures that end the read (a batch too large for Arrow's offsets).
type ChunkDecoder interface {
	Decode(c *Chunk) (arrow.RecordBatch, []format.RowError, error)
}

type job struct {
	c   *Chunk
	out chan result
}

// Pipeline reads one input: the caller takes the header and the inference
// sample from it (Take, Peek), then Starts the decoding goroutines.
type Pipeline struct {
	r      io.Reader
	name   string
	split  SplitFunc
	broken func(buf []byte, pos, next int, line int64, atEOF bool) error
	limit  int // longest record kept, in bytes without its line end

	buf     []byte
	bufp    *[]byte
	pos0    int   // start of unconsumed bytes in buf
	line    int64 // line number at pos0
	eof     bool
	readErr error

	batchRows int
	wanted    chan struct{} // closed at the first Next
	wantOnce  sync.Once
	order     chan chan result
	done      chan struct{}
	closeOnce sync.Once
	wg        sync.WaitGroup
	// free holds chunk buffers for reuse. A channel rather than a
	// sync.Pool: the pool is emptied at every GC, which the large output
	// batches trigger often, and a fresh 16 MiB buffer costs a memclr.
	free chan *[]byte
	// owned is the capacity of the chunk buffers the pipeline holds (in
	// use, queued or free), peak its highest value: what a test checks to
	// see that reading holds a bounded number of chunk-sized buffers.
	owned, peak atomic.Int64
}

// NewPipeline reads r, cutting rows with rec; name is the file name for
// errors. opts has its defaults filled in (ReadDefaults): the pipeline uses
// BatchRows and MaxRecordBytes.
func NewPipeline(r io.Reader, name string, rec Records, opts format.ReadOptions) *Pipeline {
	p := &Pipeline{
		r: r, name: name, split: rec.Split, broken: rec.Broken, limit: opts.MaxRecordBytes,
		batchRows: opts.BatchRows, line: 1, free: make(chan *[]byte, 16), wanted: make(chan struct{}),
	}
	p.bufp = p.getBuf(minRead)
	p.buf = (*p.bufp)[:0]
	return p
}

// getBuf returns a buffer of at least n bytes, reusing a free one unless it
// is too small or more than half as large again: the first chunk's buffer
// (grown by doubling before any chunk size is known) or one that held a
// long record would otherwise stay in circulation, each holding memory no
// chunk uses.
func (p *Pipeline) getBuf(n int) *[]byte {
	select {
	case bp := <-p.free:
		if c := cap(*bp); c >= n && c <= n+n/2 {
			return bp
		}
		p.owned.Add(-int64(cap(*bp)))
	default:
	}
	b := make([]byte, 0, n)
	if o := p.owned.Add(int64(n)); o > p.peak.Load() {
		p.peak.Store(o) // only the splitter allocates: no race between stores
	}
	return &b
}

func (p *Pipeline) putBuf(bp *[]byte) {
	select {
	case p.free <- bp:
	default:
		p.owned.Add(-int64(cap(*bp)))
	}
}

// chunkBuf is the size of the buffer for the chunk after one of n bytes:
// room for a chunk as long plus an eighth, in whole MiB so that successive
// chunks of slightly different lengths reuse each other's buffers. Sizing
// from the last chunk rather than keeping the capacity the buffer grew to
// matters for memory: growing by doubling from minRead leaves a 10 MB chunk
// (65,536 rows of 150 bytes) in a 16 MiB buffer, every buffer in flight
// then holds 6 MiB of read-ahead that is only copied on, and a 2-worker
// reader held 96 MiB of them instead of about 50.
func chunkBuf(n int) int {
	const round = 1 << 20
	n += n / 8
	return (n + round - 1) / round * round
}

// read appends more input to buf, moving the unconsumed bytes to the front
// of a buffer at least twice their size, so a row of any length costs
// amortised linear time to find. It fills the buffer completely (or hits
// EOF): splitting rescans the partial row after every read, and filling
// keeps that rescan rare even when the reader returns small pieces (gzip).
// pos is where the unfinished row starts: the buffer grows to hold at most
// the limit past it (plus one read), not twice the limit, so a record over
// the limit costs about one limit of memory to detect.
func (p *Pipeline) read(pos int) {
	if p.eof || p.readErr != nil {
		return
	}
	rest := len(p.buf) - p.pos0
	if cap(p.buf)-len(p.buf) < minRead/2 || p.pos0 > 0 {
		need := max(2*rest, minRead)
		if bound := pos - p.pos0 + p.limit + 2 + minRead; need > bound {
			need = max(bound, rest+minRead)
		}
		if cap(p.buf) >= need && p.pos0 > 0 {
			copy(p.buf, p.buf[p.pos0:])
			p.buf = p.buf[:rest]
		} else {
			nbp := p.getBuf(need)
			nb := append((*nbp)[:0], p.buf[p.pos0:]...)
			p.putBuf(p.bufp)
			p.bufp, p.buf = nbp, nb
		}
		p.pos0 = 0
	}
	n, err := fill(p.r, p.buf[len(p.buf):cap(p.buf)])
	p.buf = p.buf[:len(p.buf)+n]
	switch {
	case err == nil:
	case err == io.EOF:
		p.eof = true
	default:
		p.readErr = fmt.Errorf("%s: line %d: read: %w", p.name, p.line, err)
	}
}

// row returns the end of the row starting at pos, reading more input as
// needed; pos may move when the buffer is reallocated, so it is returned
// too. At EOF a last row without a newline runs to the end of the input.
//
// A row longer than the limit is rowTooLong. Found complete in the buffer,
// next is its end; otherwise, with skip set, it is read to its end without
// being kept (the bytes between start and next are then only its tail),
// and without skip row returns at once (a sample stops before it).
func (p *Pipeline) row(pos int, skip bool) (start, next, lines int, st rowState) {
	for {
		next, lines, s := p.split(p.buf, pos, p.eof)
		switch s {
		case Complete:
			if next-pos > p.limit && len(TrimEOL(p.buf[pos:next])) > p.limit {
				return pos, next, lines, rowTooLong
			}
			return pos, next, lines, rowOK
		case Broken:
			return pos, next, lines, rowBroken
		}
		// A "\r" at the end may belong to the line end, hence the +1.
		if s == TooLong || len(p.buf)-pos > p.limit+1 {
			if !skip {
				return pos, pos, 0, rowTooLong
			}
			pos, next, lines = p.skipRecord(pos)
			return pos, next, lines, rowTooLong
		}
		if p.readErr != nil {
			return pos, pos, 0, rowNone
		}
		if p.eof {
			if pos == len(p.buf) {
				return pos, pos, 0, rowNone
			}
			if len(p.buf)-pos > p.limit {
				return pos, len(p.buf), 1 + CountNL(p.buf[pos:]), rowTooLong
			}
			return pos, len(p.buf), 1 + CountNL(p.buf[pos:]), rowOK
		}
		rel := pos - p.pos0
		p.read(pos)
		pos = p.pos0 + rel
	}
}

// skipRecord reads the record at pos, over the limit, to its end: the first
// newline at or after pos+limit (a CSV newline inside quotes before that
// point belongs to the record, one after it ends it, so that a quote that
// never closes cannot take the rest of the input with it). Each piece is
// dropped once searched, so memory stays at the buffer's size however long
// the record is (a 10 GiB line).
func (p *Pipeline) skipRecord(pos int) (start, next, lines int) {
	from := pos + p.limit
	lines = CountNL(p.buf[pos:from])
	for {
		if k := bytes.IndexByte(p.buf[from:], '\n'); k >= 0 {
			return pos, from + k + 1, lines + 1
		}
		p.buf = p.buf[:pos]
		// Skipping reads without producing, so nothing else holds it back:
		// it waits for the first Next (an opened source that is only
		// validated and closed reads no further) and stops at Close (a
		// record no one will see may go on for gigabytes, or forever on a
		// pipe).
		select {
		case <-p.wanted:
		case <-p.done:
			p.readErr = errStopped
		}
		if p.readErr != nil {
			return pos, pos, lines
		}
		if p.eof {
			return pos, pos, lines + 1
		}
		rel := pos - p.pos0
		p.read(pos)
		pos = p.pos0 + rel
		from = pos
	}
}

// errStopped ends the splitter of a closed reader; no one reads it.
var errStopped = errors.New("reader closed")

// tooLong is the row error of a record over the limit starting at line.
func (p *Pipeline) tooLong(line int64) format.RowError {
	return format.RowError{File: p.name, Line: line, Err: fmt.Errorf(
		"%w: longer than the limit of %d bytes (max_record_bytes); skipped to its end", format.ErrRecordTooLarge, p.limit)}
}

// brokenRow is the reject of a record Split called Broken.
func (p *Pipeline) brokenRow(pos, next int, line int64) format.RowError {
	return format.RowError{
		File: p.name, Line: line, Raw: bytes.Clone(TrimEOL(p.buf[pos:next])),
		Err: fmt.Errorf("%w: %w", format.ErrMalformed, p.broken(p.buf, pos, next, line, p.eof)),
	}
}

var newline = []byte{'\n'}

// CountNL counts the newlines in b.
func CountNL(b []byte) int { return bytes.Count(b, newline) }

// SkipBOM drops a UTF-8 byte order mark at the very start of the input.
func (p *Pipeline) SkipBOM() {
	for len(p.buf)-p.pos0 < 3 && !p.eof && p.readErr == nil {
		p.read(p.pos0)
	}
	if b := p.buf[p.pos0:]; len(b) >= 3 && b[0] == 0xEF && b[1] == 0xBB && b[2] == 0xBF {
		p.pos0 += 3
	}
}

// Take consumes one row (the header) and returns its bytes without the
// newline; ok is false at the end of the input. A header over the limit is
// an error: without it no row can be read.
func (p *Pipeline) Take() (row []byte, line int64, ok bool, err error) {
	start, next, lines, st := p.row(p.pos0, false)
	switch st {
	case rowNone:
		return nil, 0, false, p.readErr
	case rowBroken:
		// Cut short at the end of its line; the format fails to parse it.
	case rowTooLong:
		return nil, 0, false, fmt.Errorf("%s:%d: header: %w: longer than the limit of %d bytes (max_record_bytes)",
			p.name, p.line, format.ErrRecordTooLarge, p.limit)
	}
	row = TrimEOL(p.buf[start:next])
	line = p.line
	p.pos0 = next
	p.line += int64(lines)
	return row, line, true, nil
}

// Peek returns the next n rows without consuming them (the inference
// sample). The sample ends before a row over the limit (cut), which
// splitLoop then skips and reports: skipping it here would read on without
// bound while the source is only being opened (and file's stdin keeps all
// it reads then, to replay it).
func (p *Pipeline) Peek(n int) (sample []byte, cut *format.RowError, err error) {
	pos := p.pos0
	for i := 0; i < n; i++ {
		start, next, _, st := p.row(pos, false)
		if st != rowOK && st != rowBroken {
			pos = start // reading on may have moved the buffer
			if st == rowTooLong {
				lines := CountNL(p.buf[p.pos0:pos])
				rej := p.tooLong(p.line + int64(lines))
				cut = &rej
			}
			break
		}
		pos = next
	}
	return p.buf[p.pos0:pos], cut, p.readErr
}

// NoSample is the error of a reader whose columns are to be inferred when
// the sample is cut before any row by a record over the limit: reading on
// without columns would drop every value.
func (p *Pipeline) NoSample(cut *format.RowError) error {
	return fmt.Errorf("%s:%d: %w: longer than the limit of %d bytes (max_record_bytes), and no row before it to infer the columns from: declare schema, or raise max_record_bytes",
		cut.File, cut.Line, format.ErrRecordTooLarge, p.limit)
}

// TrimEOL drops a trailing "\n" or "\r\n".
func TrimEOL(b []byte) []byte {
	if n := len(b); n > 0 && b[n-1] == '\n' {
		b = b[:n-1]
		if n := len(b); n > 0 && b[n-1] == '\r' {
			b = b[:n-1]
		}
	}
	return b
}

// Start launches the splitter and workers decoders, each made by
// newDecoder; NewReader hands their batches out.
func (p *Pipeline) Start(workers int, newDecoder func() ChunkDecoder) {
	p.order = make(chan chan result, workers+1)
	p.done = make(chan struct{})
	// Unbuffered: a chunk waiting in a queue for a worker holds a
	// chunk-sized buffer and gains nothing, since the splitter cuts the
	// next chunk far faster than a worker decodes one.
	jobs := make(chan job)
	for range workers {
		d := newDecoder()
		p.wg.Add(1)
		go func() {
			defer p.wg.Done()
			for j := range jobs {
				select {
				case <-p.done:
					p.putBuf(j.c.buf)
					j.out <- result{}
					continue
				default:
				}
				rec, rej, err := d.Decode(j.c)
				if len(j.c.pre) > 0 {
					rej = append(j.c.pre, rej...)
				}
				p.putBuf(j.c.buf)
				j.out <- result{rec: rec, rejects: rej, err: err}
			}
		}()
	}
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		defer close(p.order)
		defer close(jobs)
		p.splitLoop(jobs)
	}()
}

// splitLoop cuts chunks of up to batchRows rows and queues them. A row over
// the limit ends its chunk and opens the next one as a reject (Chunk.pre),
// so chunks stay contiguous bytes with exact line numbers.
func (p *Pipeline) splitLoop(jobs chan<- job) {
	var carry []format.RowError // the too-long row that ended the last chunk
	for {
		pre := carry
		carry = nil
		pos, rows, lines := p.pos0, 0, 0
		cut, cutLines := -1, 0 // end and lines of a too-long row after the chunk
		var cuts []Cut
		for rows+len(pre) < p.batchRows && pos-p.pos0 < maxChunkSize {
			start, next, n, st := p.row(pos, true)
			if st == rowNone {
				break
			}
			if st == rowBroken {
				// Offsets are from the chunk's start, p.pos0, which stays
				// the start when reading on moves the buffer.
				cuts = append(cuts, Cut{Off: start - p.pos0, End: next - p.pos0, Lines: n,
					Reject: p.brokenRow(start, next, p.line+int64(lines))})
				pos, rows, lines = next, rows+1, lines+n
				continue
			}
			if st == rowTooLong {
				// Reading on moved the buffer when rows were taken from its
				// front (the header): the chunk ends at start, not pos.
				pos = start
				rej := p.tooLong(p.line + int64(lines))
				if rows == 0 {
					pre = append(pre, rej)
					p.pos0, pos, p.line = next, next, p.line+int64(n)
					continue
				}
				carry, cut, cutLines = []format.RowError{rej}, next, n
				break
			}
			pos, rows, lines = next, rows+1, lines+n
		}
		if rows > 0 || len(pre) > 0 {
			c := &Chunk{Data: p.buf[p.pos0:pos], Line: p.line, buf: p.bufp, pre: pre, Cuts: cuts}
			p.line += int64(lines)
			if cut >= 0 {
				pos = cut
				p.line += int64(cutLines)
			}
			// The chunk keeps the old buffer; the partial row moves on. After
			// a record over the limit the next buffer starts small again:
			// the big one only held that record.
			rest := p.buf[pos:]
			size := chunkBuf(len(c.Data))
			if len(pre) > 0 || cut >= 0 {
				size = 0
			}
			// Not 2*len(rest): what was read past the chunk is mostly whole
			// rows, and doubling it kept every buffer as large as the first
			// chunk's, which grew by doubling. A long partial row still
			// grows its buffer by doubling, in read.
			nbp := p.getBuf(max(size, len(rest)+minRead))
			p.bufp, p.buf, p.pos0 = nbp, append((*nbp)[:0], rest...), 0
			out := make(chan result, 1)
			select {
			case p.order <- out:
			case <-p.done:
				return
			}
			select {
			case jobs <- job{c: c, out: out}:
			case <-p.done:
				out <- result{}
				return
			}
			continue
		}
		if p.readErr != nil {
			out := make(chan result, 1)
			out <- result{err: p.readErr}
			select {
			case p.order <- out:
			case <-p.done:
			}
		}
		return
	}
}

// next returns the next non-empty result in input order.
func (p *Pipeline) next() (result, bool) {
	p.wantOnce.Do(func() { close(p.wanted) })
	for out := range p.order {
		res := <-out
		if res.err == nil && res.rec != nil && res.rec.NumRows() == 0 && len(res.rejects) == 0 {
			res.rec.Release()
			continue
		}
		return res, true
	}
	return result{}, false
}

// close stops the goroutines, releases undelivered batches and waits, so a
// closed reader leaks neither goroutines nor allocator memory.
func (p *Pipeline) close() {
	p.closeOnce.Do(func() {
		if p.done == nil {
			return
		}
		close(p.done)
		for out := range p.order {
			if res := <-out; res.rec != nil {
				res.rec.Release()
			}
		}
		p.wg.Wait()
	})
}

// fill reads until b is full or the reader fails. Unlike io.ReadFull it
// passes io.ErrUnexpectedEOF from the reader through as an error: a cut
// gzip or zstd stream says so that way, and taking it for a clean end would
// silently drop the rest of the input.
func fill(r io.Reader, b []byte) (int, error) {
	n, empty := 0, 0
	for n < len(b) {
		m, err := r.Read(b[n:])
		n += m
		if err != nil {
			return n, err
		}
		if m == 0 {
			if empty++; empty >= 100 {
				return n, io.ErrNoProgress
			}
		}
	}
	return n, nil
}
