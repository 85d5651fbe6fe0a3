package blob

import (
	"io"
	"sync/atomic"
)

// countingReader adds the bytes read through it to a shared total (the
// source's progress) and to its own count (one file's share of it).
type countingReader struct {
	r     io.Reader
	total *atomic.Int64
	n     int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	c.total.Add(int64(n))
	return n, err
}

// countingReaderAt counts random-access reads (Parquet, Arrow files) the
// same way. Formats may call ReadAt from several goroutines, so its own
// count is atomic too.
type countingReaderAt struct {
	ra    io.ReaderAt
	total *atomic.Int64
	n     atomic.Int64
}

func (c *countingReaderAt) ReadAt(p []byte, off int64) (int, error) {
	n, err := c.ra.ReadAt(p, off)
	c.n.Add(int64(n))
	c.total.Add(int64(n))
	return n, err
}
