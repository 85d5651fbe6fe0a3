package rowcodec

import (
	"fmt"
	"io"
	"runtime"
	"sync"
)

const (
	flushAt       = 1 << 20 // bytes buffered before they go to the io.Writer
	parallelAbove = 16384   // rows per batch before encoding is split over goroutines
	// roundRows is how many rows each goroutine encodes before the round's
	// parts are written: about 1 MB of JSON or CSV orders each. Encoding a
	// whole 65,536-row batch before writing held 10 MB of text per batch
	// that lived only to be copied into the page cache, and it then stayed
	// in the heap; a bounded round holds 2 MB, written while it is still in
	// the CPU's cache.
	roundRows = 8192
)

// Output is the buffering and parallel encoding both writers share; each
// writer embeds it (which gives it Flush and Close) and encodes rows its
// own way.
type Output struct {
	w     io.Writer
	name  string
	buf   []byte
	parts [][]byte // per-goroutine buffers for parallel encoding, reused
	procs int
	err   error
}

// NewOutput writes to w; name is the file name for errors ("-" when
// empty). head goes out before the first row (the CSV header); it is only
// buffered, so an empty table still gets it at Flush.
func NewOutput(w io.Writer, name string, head []byte) Output {
	if name == "" {
		name = "-"
	}
	return Output{w: w, name: name, buf: head, procs: runtime.GOMAXPROCS(0)}
}

// Name is the file name errors carry.
func (o *Output) Name() string { return o.name }

// Err is the write error that made the Output unusable, if any: once an
// io.Writer has failed, what reaches it next would not line up.
func (o *Output) Err() error { return o.err }

// Encode appends rows [0,n) to the output with encode, which appends rows
// [lo,hi) to dst and may run on several goroutines at once for disjoint
// ranges.
func (o *Output) Encode(n int, encode func(dst []byte, lo, hi int) []byte) error {
	if o.err != nil {
		return o.err
	}
	parts := 1
	if n >= parallelAbove {
		parts = o.procs
	}
	if parts <= 1 {
		o.buf = encode(o.buf, 0, n)
		if len(o.buf) >= flushAt {
			return o.Flush()
		}
		return nil
	}
	// Rows are independent, so slices of the batch encode in parallel into
	// their own buffers and are written in order, a round of at most
	// roundRows rows per goroutine at a time.
	for len(o.parts) < parts {
		o.parts = append(o.parts, nil)
	}
	if err := o.Flush(); err != nil {
		return err
	}
	var wg sync.WaitGroup
	for start := 0; start < n; {
		m := min(n-start, parts*roundRows)
		for p := range parts {
			lo, hi := start+m*p/parts, start+m*(p+1)/parts
			wg.Add(1)
			go func() {
				defer wg.Done()
				o.parts[p] = encode(o.parts[p][:0], lo, hi)
			}()
		}
		wg.Wait()
		for p := range parts {
			if _, err := o.w.Write(o.parts[p]); err != nil {
				o.err = fmt.Errorf("%s: write: %w", o.name, err)
				return o.err
			}
		}
		start += m
	}
	return nil
}

// Flush writes the buffered bytes to the io.Writer.
func (o *Output) Flush() error {
	if o.err != nil {
		return o.err
	}
	if len(o.buf) > 0 {
		if _, err := o.w.Write(o.buf); err != nil {
			o.err = fmt.Errorf("%s: write: %w", o.name, err)
			return o.err
		}
		o.buf = o.buf[:0]
	}
	return nil
}

// Close flushes; it does not close the io.Writer.
func (o *Output) Close() error { return o.Flush() }
