package arrowipc

import (
	"fmt"
	"io"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/dataweaver/dataweaver/format"
)

// NewWriter writes the IPC stream format, always: it needs no seeking, so it
// works on stdout, pipes and HTTP bodies, and it is what NewReader, pyarrow's
// open_stream and DuckDB read. Write the file format with arrow-go directly
// when random access matters more.
//
// opts.Compression picks buffer compression: "none" (default), "zstd", "lz4".
func NewWriter(w io.Writer, schema *arrow.Schema, opts format.WriteOptions) (format.Writer, error) {
	mem := opts.Mem
	if mem == nil {
		mem = memory.DefaultAllocator
	}
	ipcOpts := []ipc.Option{ipc.WithSchema(schema), ipc.WithAllocator(mem)}
	switch opts.Compression {
	case "", "none":
	case "zstd":
		ipcOpts = append(ipcOpts, ipc.WithZstd())
	case "lz4":
		ipcOpts = append(ipcOpts, ipc.WithLZ4())
	default:
		return nil, fmt.Errorf("%s: arrow compression %q is not one of none, zstd, lz4", opts.Name, opts.Compression)
	}
	return &writer{name: opts.Name, w: ipc.NewWriter(w, ipcOpts...)}, nil
}

type writer struct {
	name string
	w    *ipc.Writer
}

func (w *writer) Write(rec arrow.RecordBatch) error {
	if err := w.w.Write(rec); err != nil {
		return fmt.Errorf("%s: write arrow batch: %w", w.name, err)
	}
	return nil
}

// Flush has nothing to do: ipc.Writer hands each message to the io.Writer
// as soon as Write encodes it, and keeps no buffer of its own.
func (w *writer) Flush() error { return nil }

// Close writes the end-of-stream marker (and the schema, if no batch was
// written, so an empty result is still a readable stream).
func (w *writer) Close() error {
	if err := w.w.Close(); err != nil {
		return fmt.Errorf("%s: close arrow stream: %w", w.name, err)
	}
	return nil
}
