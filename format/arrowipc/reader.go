package arrowipc

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/dataweaver/dataweaver/format"
	"github.com/dataweaver/dataweaver/format/internal/arrowcheck"
)

// fileMagic opens (and closes) every IPC file; a stream starts with a
// continuation marker or a message length instead.
var fileMagic = []byte("ARROW1")

// NewReader reads the IPC file format or the IPC stream format, telling
// them apart by the leading magic bytes. The file format is read through
// its message region (a file holds a stream between its magic and its
// footer), so both formats share one validated path; it needs the whole
// file, so a pipe is read into memory first. Batches come back as they are
// stored; opts.BatchRows is not applied.
func NewReader(in format.Input, opts format.ReadOptions) (format.Reader, error) {
	mem := opts.Mem
	if mem == nil {
		mem = memory.DefaultAllocator
	}
	r := &reader{name: in.Name, skip: max(opts.SkipRows, 0)}

	if in.RA != nil && in.Size >= int64(len(fileMagic)) {
		head := make([]byte, len(fileMagic))
		if _, err := in.RA.ReadAt(head, 0); err != nil {
			return nil, fmt.Errorf("%s: read arrow header: %w", in.Name, err)
		}
		if bytes.Equal(head, fileMagic) {
			return r.openFile(in.RA, in.Size, mem)
		}
	}

	br := bufio.NewReaderSize(in.R, 64<<10)
	head, err := br.Peek(len(fileMagic))
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("%s: read arrow header: %w", in.Name, err)
	}
	if bytes.Equal(head, fileMagic) {
		// The footer ends the file, so a pipe is read whole first.
		all, err := io.ReadAll(br)
		if err != nil {
			return nil, fmt.Errorf("%s: read arrow file: %w", in.Name, err)
		}
		return r.openFile(bytes.NewReader(all), int64(len(all)), mem)
	}
	return r.open(newMessageReader(br, -1, mem), mem)
}

func (r *reader) openFile(ra io.ReaderAt, size int64, mem memory.Allocator) (*reader, error) {
	off, n, err := fileRegion(ra, size)
	if err != nil {
		return nil, r.malformed("open arrow file", err)
	}
	return r.open(newMessageReader(io.NewSectionReader(ra, off, n), n, mem), mem)
}

func (r *reader) open(msgs *messageReader, mem memory.Allocator) (*reader, error) {
	err := r.guard(func() error {
		var err error
		r.stream, err = ipc.NewReaderFromMessageReader(msgs, ipc.WithAllocator(&limitAllocator{mem}))
		return err
	})
	if err != nil {
		msgs.Release()
		return nil, r.malformed("open arrow input", err)
	}
	r.schema = r.stream.Schema()
	return r, nil
}

type reader struct {
	name   string
	schema *arrow.Schema
	stream *ipc.Reader
	// skip is how many rows are still to be skipped (ReadOptions.SkipRows);
	// batch counts record batches read, first the index of the batch and
	// of the row in it where the record Next returned last starts.
	skip          int64
	batch         int64
	first, offset int64
}

// RecordBatchStart returns where the first row of the record Next
// returned last lies in the input: the 0-based index of its record batch
// and of the row within that batch (not 0 only when it follows skipped rows).
func (r *reader) RecordBatchStart() (batch, row int64) { return r.first, r.offset }

func (r *reader) Schema() *arrow.Schema { return r.schema }

func (r *reader) Next() (rec arrow.RecordBatch, _ []format.RowError, err error) {
	err = r.guard(func() error {
		for {
			if !r.stream.Next() {
				if err := r.stream.Err(); err != nil {
					return err
				}
				return io.EOF
			}
			r.batch++
			rec = r.stream.RecordBatch()
			if err := arrowcheck.Record(rec); err != nil {
				rec = nil
				return err
			}
			n := rec.NumRows()
			r.first, r.offset = r.batch-1, 0
			switch {
			case r.skip >= n && r.skip > 0:
				// A whole batch before the resume position: its body was
				// read, but an IPC batch decodes by slicing that body, so
				// dropping it costs the read and nothing more.
				r.skip -= n
				continue
			case r.skip > 0:
				r.offset, r.skip = r.skip, 0
				rec = rec.NewSlice(r.offset, n)
			default:
				rec.Retain() // the stream reader releases it on the next call
			}
			return nil
		}
	})
	if errors.Is(err, io.EOF) {
		if r.skip > 0 {
			return nil, nil, fmt.Errorf("%s: cannot skip %d more rows: the input ends after %d record batches", r.name, r.skip, r.batch)
		}
		return nil, nil, io.EOF
	}
	if err != nil {
		if rec != nil {
			rec.Release()
		}
		return nil, nil, r.malformed("read arrow batch", err)
	}
	return rec, nil, nil
}

func (r *reader) Close() error {
	if r.stream != nil {
		r.stream.Release()
		r.stream = nil
	}
	return nil
}

// guard turns a panic inside arrow-go (which it raises on some corrupt
// buffers) into an error, so bad input never takes the process down.
func (r *reader) guard(fn func() error) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("arrow-go panicked: %v", p)
		}
	}()
	return fn()
}

func (r *reader) malformed(what string, err error) error {
	return fmt.Errorf("%s: %s: %w: %w", r.name, what, format.ErrMalformed, err)
}

// maxAllocation bounds one buffer arrow-go asks for while decoding: a
// corrupt compressed buffer states its own decompressed length, and asking
// the runtime for that much is a fatal error recover cannot catch. The
// panic raised here is recovered by guard and reported as malformed input.
const maxAllocation = 1 << 30

type limitAllocator struct{ memory.Allocator }

func (a *limitAllocator) Allocate(size int) []byte {
	if size < 0 || size > maxAllocation {
		panic(fmt.Sprintf("buffer of %d bytes exceeds the %d-byte limit", size, maxAllocation))
	}
	return a.Allocator.Allocate(size)
}

func (a *limitAllocator) Reallocate(size int, b []byte) []byte {
	if size < 0 || size > maxAllocation {
		panic(fmt.Sprintf("buffer of %d bytes exceeds the %d-byte limit", size, maxAllocation))
	}
	return a.Allocator.Reallocate(size, b)
}
