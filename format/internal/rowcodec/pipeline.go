package rowcodec

import (
	"fmt"
	"io"
	"sync"

	"github.com/apache/arrow/go/v15/arrow"

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

// SplitFunc finds the end of the row starting at pos: next is the offset
// just past its terminating newline and lines the physical lines it spans.
// ok is false when buf ends before the row does.
type SplitFunc func(buf []byte, pos int) (next, lines int, ok bool)

// Chunk is a run of whole rows for one worker to decode into one batch.
type Chunk struct {
	Data []byte
	Line int64   // 1-based line number of Data[0]
	buf  *[]byte // backing array, returned to the pool after decoding
}

type result struct {
	rec     arrow.Record
	rejects []format.RowError
	err     error
}

// ChunkDecoder is one worker's decoder; it is not shared between goroutines.
// Decode turns every row of c into the record or into a reject; the error is
// for failures that end the read (a batch too large for Arrow's offsets).
type ChunkDecoder interface {
	Decode(c *Chunk) (arrow.Record, []format.RowError, error)
}

type job struct {
	c   *Chunk
	out chan result
}

// Pipeline reads one input: the caller takes the header and the inference
// sample from it (Take, Peek), then Starts the decoding goroutines.
type Pipeline struct {
	r     io.Reader
	name  string
	split SplitFunc

	buf     []byte
	bufp    *[]byte
	pos0    int   // start of unconsumed bytes in buf
	line    int64 // line number at pos0
	eof     bool
	readErr error

	batchRows int
	order     chan chan result
	done      chan struct{}
	closeOnce sync.Once
	wg        sync.WaitGroup
	// free holds chunk buffers for reuse. A channel rather than a
	// sync.Pool: the pool is emptied at every GC, which the large output
	// batches trigger often, and a fresh 16 MiB buffer costs a memclr.
	free chan *[]byte
}

// NewPipeline reads r, cutting rows with split; name is the file name for
// errors.
func NewPipeline(r io.Reader, name string, split SplitFunc, batchRows int) *Pipeline {
	p := &Pipeline{r: r, name: name, split: split, batchRows: batchRows, line: 1, free: make(chan *[]byte, 16)}
	p.bufp = p.getBuf(minRead)
	p.buf = (*p.bufp)[:0]
	return p
}

func (p *Pipeline) getBuf(n int) *[]byte {
	select {
	case bp := <-p.free:
		if cap(*bp) >= n {
			return bp
		}
	default:
	}
	b := make([]byte, 0, n)
	return &b
}

func (p *Pipeline) putBuf(bp *[]byte) {
	select {
	case p.free <- bp:
	default:
	}
}

// read appends more input to buf, moving the unconsumed bytes to the front
// of a buffer at least twice their size, so a row of any length costs
// amortised linear time to find. It fills the buffer completely (or hits
// EOF): splitting rescans the partial row after every read, and filling
// keeps that rescan rare even when the reader returns small pieces (gzip).
func (p *Pipeline) read() {
	if p.eof || p.readErr != nil {
		return
	}
	rest := len(p.buf) - p.pos0
	if cap(p.buf)-len(p.buf) < minRead/2 || p.pos0 > 0 {
		need := max(2*rest, minRead)
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
// too. At EOF a last row without a newline (or with an unterminated quote)
// runs to the end of the input. ok is false when no row starts at pos.
func (p *Pipeline) row(pos int) (start, next, lines int, ok bool) {
	for {
		next, lines, ok := p.split(p.buf, pos)
		if ok {
			return pos, next, lines, true
		}
		if p.readErr != nil {
			return pos, pos, 0, false
		}
		if p.eof {
			if pos < len(p.buf) {
				return pos, len(p.buf), 1 + CountNL(p.buf[pos:]), true
			}
			return pos, pos, 0, false
		}
		rel := pos - p.pos0
		p.read()
		pos = p.pos0 + rel
	}
}

// CountNL counts the newlines in b.
func CountNL(b []byte) int {
	n := 0
	for _, c := range b {
		if c == '\n' {
			n++
		}
	}
	return n
}

// SkipBOM drops a UTF-8 byte order mark at the very start of the input.
func (p *Pipeline) SkipBOM() {
	for len(p.buf)-p.pos0 < 3 && !p.eof && p.readErr == nil {
		p.read()
	}
	if b := p.buf[p.pos0:]; len(b) >= 3 && b[0] == 0xEF && b[1] == 0xBB && b[2] == 0xBF {
		p.pos0 += 3
	}
}

// Take consumes one row (the header) and returns its bytes without the
// newline; ok is false at the end of the input.
func (p *Pipeline) Take() (row []byte, line int64, ok bool, err error) {
	start, next, lines, ok := p.row(p.pos0)
	if !ok {
		return nil, 0, false, p.readErr
	}
	row = TrimEOL(p.buf[start:next])
	line = p.line
	p.pos0 = next
	p.line += int64(lines)
	return row, line, true, nil
}

// Peek returns the next n rows without consuming them (the inference sample).
func (p *Pipeline) Peek(n int) ([]byte, error) {
	pos := p.pos0
	for i := 0; i < n; i++ {
		_, next, _, ok := p.row(pos)
		if !ok {
			break
		}
		pos = next
	}
	return p.buf[p.pos0:pos], p.readErr
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
	jobs := make(chan job, workers)
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

// splitLoop cuts chunks of up to batchRows rows and queues them.
func (p *Pipeline) splitLoop(jobs chan<- job) {
	for {
		pos, rows, lines := p.pos0, 0, 0
		for rows < p.batchRows && pos-p.pos0 < maxChunkSize {
			_, next, n, ok := p.row(pos)
			if !ok {
				break
			}
			pos, rows, lines = next, rows+1, lines+n
		}
		if rows > 0 {
			c := &Chunk{Data: p.buf[p.pos0:pos], Line: p.line, buf: p.bufp}
			p.line += int64(lines)
			// The chunk keeps the old buffer; the partial row moves on.
			rest := p.buf[pos:]
			nbp := p.getBuf(max(cap(p.buf), 2*len(rest), minRead))
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
