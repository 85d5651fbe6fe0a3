package arrowipc

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/ipc"
	"github.com/apache/arrow/go/v15/arrow/memory"
	"github.com/dataweaver/dataweaver/format"
)

// fileMagic opens (and closes) every IPC file; a stream starts with a
// continuation marker or a message length instead.
var fileMagic = []byte("ARROW1")

// NewReader reads the IPC file format (random access, needs the whole file)
// or the IPC stream format, telling them apart by the leading magic bytes.
// Batches come back as they are stored; opts.BatchRows is not applied.
func NewReader(in format.Input, opts format.ReadOptions) (format.Reader, error) {
	mem := opts.Mem
	if mem == nil {
		mem = memory.DefaultAllocator
	}
	r := &reader{name: in.Name}

	if in.RA != nil && in.Size >= int64(len(fileMagic)) {
		head := make([]byte, len(fileMagic))
		if _, err := in.RA.ReadAt(head, 0); err != nil {
			return nil, fmt.Errorf("%s: read arrow header: %w", in.Name, err)
		}
		if bytes.Equal(head, fileMagic) {
			return r.openFile(io.NewSectionReader(in.RA, 0, in.Size), mem)
		}
	}

	br := bufio.NewReaderSize(in.R, 64<<10)
	head, err := br.Peek(len(fileMagic))
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("%s: read arrow header: %w", in.Name, err)
	}
	if bytes.Equal(head, fileMagic) {
		// The file format keeps its footer at the end, so a pipe must be
		// read whole before the first batch can be found.
		all, err := io.ReadAll(br)
		if err != nil {
			return nil, fmt.Errorf("%s: read arrow file: %w", in.Name, err)
		}
		return r.openFile(bytes.NewReader(all), mem)
	}
	if err := r.guard(func() error {
		var err error
		r.stream, err = ipc.NewReader(br, ipc.WithAllocator(mem))
		return err
	}); err != nil {
		return nil, r.malformed("open arrow stream", err)
	}
	r.schema = r.stream.Schema()
	return r, nil
}

func (r *reader) openFile(ra ipc.ReadAtSeeker, mem memory.Allocator) (*reader, error) {
	alloc := newOpenAllocator(mem)
	err := r.guard(func() error {
		var err error
		r.file, err = ipc.NewFileReader(ra, ipc.WithAllocator(alloc))
		return err
	})
	alloc.done()
	if err != nil {
		return nil, r.malformed("open arrow file", err)
	}
	r.schema = r.file.Schema()
	return r, nil
}

type reader struct {
	name   string
	schema *arrow.Schema
	file   *ipc.FileReader
	next   int // next record index in file
	stream *ipc.Reader
}

func (r *reader) Schema() *arrow.Schema { return r.schema }

func (r *reader) Next() (rec arrow.Record, _ []format.RowError, err error) {
	err = r.guard(func() error {
		if r.file != nil {
			if r.next >= r.file.NumRecords() {
				return io.EOF
			}
			var err error
			// RecordAt hands ownership to us, unlike Record.
			rec, err = r.file.RecordAt(r.next)
			r.next++
			return err
		}
		if !r.stream.Next() {
			if err := r.stream.Err(); err != nil {
				return err
			}
			return io.EOF
		}
		rec = r.stream.Record()
		rec.Retain() // the stream reader releases it on the next call
		return nil
	})
	if errors.Is(err, io.EOF) {
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
	if r.file != nil {
		return r.file.Close()
	}
	if r.stream != nil {
		r.stream.Release()
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
