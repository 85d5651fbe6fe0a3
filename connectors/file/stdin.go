package file

import (
	"bytes"
	"context"
	"io"
	"os"
	"sync"
	"sync/atomic"

	"github.com/dataweaver/dataweaver/connectors/internal/blob"
)

// stdin lets the source be opened again after a Close that came before any
// Read: engine.Pipeline.Validate opens the source (the format reads a header
// and an inference sample, and may decode ahead) and closes it, then Run
// opens it again. A file is simply reopened; stdin cannot be, so the bytes
// taken from it while nothing was read yet are kept and replayed first.
// Once a batch has been read, capture stops: a source being read is not
// reopened, and keeping a whole stream in memory is what it must not do.
type stdin struct {
	replay []byte // bytes taken from os.Stdin by earlier openings, not yet read
	cur    *stdinReader
}

type stdinReader struct {
	r         io.Reader
	replay    *bytes.Reader
	capturing atomic.Bool
	mu        sync.Mutex // formats read from their own goroutines
	captured  []byte
}

func (c *stdinReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	if n > 0 && c.capturing.Load() {
		c.mu.Lock()
		c.captured = append(c.captured, p[:n]...)
		c.mu.Unlock()
	}
	return n, err
}

// open starts a new reading of stdin: replayed bytes, then os.Stdin (read
// when opened, so tests can swap it).
func (s *stdin) open() io.Reader {
	replay := bytes.NewReader(s.replay)
	c := &stdinReader{r: io.MultiReader(replay, os.Stdin), replay: replay}
	c.capturing.Store(true)
	s.cur = c
	return c
}

// reading is called at the first Read: from then on nothing is kept.
func (s *stdin) reading() {
	if s.cur != nil && s.cur.capturing.Swap(false) {
		s.cur.mu.Lock()
		s.cur.captured = nil
		s.cur.mu.Unlock()
		s.replay = nil
	}
}

// closed is called once the format reader has stopped: whatever the opening
// took and did not hand to a Read is kept for the next one.
func (s *stdin) closed() {
	c := s.cur
	s.cur = nil
	if c == nil || !c.capturing.Load() {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	rest := s.replay[len(s.replay)-c.replay.Len():]
	s.replay = append(c.captured, rest...)
}

// List is the one input, of unknown size (blob.Store).
func (s *stdin) List(context.Context) ([]blob.Object, error) {
	return []blob.Object{{Name: "-", Size: -1}}, nil
}

// Open starts a reading; its Close keeps what it took without handing it
// to a Read, for the next opening.
func (s *stdin) Open(context.Context, blob.Object) (blob.Opened, error) {
	return blob.Opened{R: s.open(), Close: func() error { s.closed(); return nil }}, nil
}

// Reading is called at every Read of the source: from the first one on,
// nothing is kept.
func (s *stdin) Reading() { s.reading() }
