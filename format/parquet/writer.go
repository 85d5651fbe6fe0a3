package parquet

import (
	"fmt"
	"io"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/array"
	"github.com/apache/arrow/go/v15/arrow/memory"
	pq "github.com/apache/arrow/go/v15/parquet"
	"github.com/apache/arrow/go/v15/parquet/compress"
	"github.com/apache/arrow/go/v15/parquet/pqarrow"
	"github.com/dataweaver/dataweaver/format"
)

// rowGroupRows is how many rows the writer gathers into one row group.
// Batches arrive at ~64K rows; gathering up to 1M rows gives row groups of
// tens of MB for typical tables, which readers scan efficiently, while
// memory stays bounded by one row group of Arrow data. BENCH_NOTES.md has
// the measurements behind this and the other settings.
const rowGroupRows = 1 << 20

// NewWriter writes a Parquet file. The Arrow schema is stored in the file
// (ARROW:schema) so types Parquet lacks (uint widths, large strings,
// durations, dictionaries, time zones) read back as written.
//
// opts.Compression: "snappy" (default), "zstd", "gzip", "none".
func NewWriter(w io.Writer, schema *arrow.Schema, opts format.WriteOptions) (format.Writer, error) {
	mem := opts.Mem
	if mem == nil {
		mem = memory.DefaultAllocator
	}
	codec, err := codecFor(opts.Compression)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", opts.Name, err)
	}
	props := pq.NewWriterProperties(
		pq.WithAllocator(mem),
		pq.WithCompression(codec),
		pq.WithMaxRowGroupLength(rowGroupRows),
		pq.WithDictionaryDefault(true),
		pq.WithStats(true),
	)
	arrProps := pqarrow.NewArrowWriterProperties(pqarrow.WithStoreSchema(), pqarrow.WithAllocator(mem))

	var fw *pqarrow.FileWriter
	err = guard(func() error {
		var err error
		fw, err = pqarrow.NewFileWriter(schema, w, props, arrProps)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("%s: parquet cannot store this schema: %w", opts.Name, err)
	}
	return &writer{name: opts.Name, fw: fw, schema: schema}, nil
}

func codecFor(name string) (compress.Compression, error) {
	switch name {
	case "", "snappy":
		return compress.Codecs.Snappy, nil
	case "zstd":
		return compress.Codecs.Zstd, nil
	case "gzip":
		return compress.Codecs.Gzip, nil
	case "none", "uncompressed":
		return compress.Codecs.Uncompressed, nil
	}
	return 0, fmt.Errorf("parquet compression %q is not one of snappy, zstd, gzip, none", name)
}

type writer struct {
	name    string
	fw      *pqarrow.FileWriter
	schema  *arrow.Schema
	pending []arrow.Record // retained until written as a row group
	rows    int64          // rows in pending
}

func (w *writer) Write(rec arrow.Record) error {
	if !rec.Schema().Equal(w.schema) {
		return fmt.Errorf("%s: record schema does not match the writer's:\n%s\nwant\n%s", w.name, rec.Schema(), w.schema)
	}
	if rec.NumRows() == 0 {
		return nil
	}
	// Records are immutable, so holding a reference is safe; it avoids
	// copying rows that are about to be encoded anyway.
	rec.Retain()
	w.pending = append(w.pending, rec)
	w.rows += rec.NumRows()
	if w.rows >= rowGroupRows {
		return w.writePending()
	}
	return nil
}

// writePending encodes the gathered records as row groups of at most
// rowGroupRows rows.
func (w *writer) writePending() error {
	if w.rows == 0 {
		return nil
	}
	tbl := array.NewTableFromRecords(w.schema, w.pending)
	for _, r := range w.pending {
		r.Release()
	}
	w.pending, w.rows = w.pending[:0], 0
	defer tbl.Release()
	err := guard(func() error { return w.fw.WriteTable(tbl, rowGroupRows) })
	if err != nil {
		return fmt.Errorf("%s: write parquet row group: %w", w.name, err)
	}
	return nil
}

// Flush encodes the gathered rows as a row group and hands its pages to
// the io.Writer; pqarrow keeps the last column chunk of that row group in
// memory until the next row group starts or Close.
//
// Flush cannot make rows crash-durable, and no Parquet writer can: a Parquet
// file is unreadable until Close writes the footer that locates every row
// group. A sink that acknowledges input must acknowledge Parquet output
// only after Close (for example by rotating files), not after Flush.
// (Closing the row group without opening another is not possible through
// pqarrow v15, and an empty row group left open makes an invalid file.)
func (w *writer) Flush() error {
	return w.writePending()
}

// Close writes the remaining rows and the footer.
func (w *writer) Close() error {
	err := w.writePending()
	if cerr := guard(w.fw.Close); cerr != nil && err == nil {
		err = fmt.Errorf("%s: close parquet file: %w", w.name, cerr)
	}
	for _, r := range w.pending {
		r.Release()
	}
	w.pending = nil
	return err
}
