package parquet

import (
	"encoding/binary"
	"fmt"
	"io"
	"runtime"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	pq "github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/compress"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
	"github.com/dataweaver/dataweaver/format"
)

// rowGroupRows is how many rows the writer gathers into one row group.
// The writer holds a whole row group of Arrow data before encoding it
// (and gathers the next while encoding one, rowgroups.go), so this
// bounds its memory: 1M-row groups added ~140 MB of peak RSS to a
// CSV → Parquet run against 262,144 (BENCHMARKS.md), while writing speed
// was the same (5.1 vs 5.2 M rows/s, BENCH_NOTES.md). 256K-row groups are
// what Polars writes and within what DuckDB and Spark read efficiently.
const rowGroupRows = 1 << 18

// NewWriter writes a Parquet file. The Arrow schema is stored in the file
// (ARROW:schema) so types Parquet lacks (uint widths, large strings,
// dictionaries, time zones) read back as written.
//
// opts.Compression: "snappy" (default), "zstd", "gzip", "none".
func NewWriter(w io.Writer, schema *arrow.Schema, opts format.WriteOptions) (format.Writer, error) {
	return newWriter(w, schema, opts, defaultTuning)
}

// dictMode says which columns get dictionary encoding.
type dictMode int

const (
	dictAuto   dictMode = iota // top-level columns whose first batch repeats values
	dictAlways                 // every column (pqarrow's default)
	dictNever
)

// tuning holds the writer settings BENCH_NOTES.md measured; benchmarks
// compare alternatives through newWriter.
type tuning struct {
	rowGroupRows int64
	dict         dictMode
	stats        bool
	pageBytes    int64
	pageV1       bool
	// dictPageBytes is the dictionary page limit (0: arrow-go's 1 MiB),
	// past which a column chunk falls back to plain pages.
	dictPageBytes int64
	// workers encode a flat schema's columns in parallel (colwriter.go)
	// when there are at least 2, or 1 with ownDict; 0 (or 1 without
	// ownDict) leaves every schema to pqarrow's serial FileWriter, -1 is
	// GOMAXPROCS when the file is opened.
	workers int
	// ownDict: the parallel writer dictionary-encodes string and binary
	// columns itself (dictwrite.go) instead of through arrow-go's encoder.
	ownDict bool
	// codecPick: columns without a dictionary that snappy hardly shrinks
	// on the first batch are stored uncompressed (codecpick.go).
	codecPick bool
	// codecSaveEighths is the saving, in eighths of the sample, below
	// which codecPick stores a column uncompressed: 1. BENCH_NOTES.md
	// measures 4 (keep Snappy only where it halves a column).
	codecSaveEighths int
	// pool: arrow-go's buffers are kept and reused (bufpool.go).
	pool bool
}

// defaultTuning: see BENCH_NOTES.md. Data pages are V2 because arrow-go
// v15 encodes V1 definition levels in quadratic time (PooledBufferWriter
// regrows its buffer on every reserve when it has the 4-byte V1 length
// prefix), which made nullable columns 5-8x slower.
var defaultTuning = tuning{rowGroupRows: rowGroupRows, dict: dictAuto, stats: true, pageBytes: 1 << 20, workers: -1, ownDict: true, codecPick: true, codecSaveEighths: 1, pool: true}

func newWriter(w io.Writer, schema *arrow.Schema, opts format.WriteOptions, tu tuning) (format.Writer, error) {
	mem := opts.Mem
	if mem == nil {
		mem = memory.DefaultAllocator
	}
	codec, err := codecFor(opts.Compression)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", opts.Name, err)
	}
	wr := &writer{name: opts.Name, w: w, schema: schema, groupRows: tu.rowGroupRows, tu: tu, codec: codec, mem: mem}
	if tu.pool {
		wr.pool = newBufPool(mem)
		wr.mem = wr.pool
	}
	// Check the schema now, so an unsupported type fails at NewWriter;
	// the file writer itself waits for the first batch (see open).
	err = guard(func() error {
		_, err := pqarrow.ToParquet(schema, wr.props(nil), wr.arrowProps())
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("%s: parquet cannot store this schema: %w", opts.Name, err)
	}
	return wr, nil
}

func (w *writer) arrowProps() pqarrow.ArrowWriterProperties {
	return pqarrow.NewArrowWriterProperties(pqarrow.WithStoreSchema(), pqarrow.WithAllocator(w.mem))
}

// props returns the writer properties; sample (the first batch, or nil)
// decides which columns get a dictionary in dictAuto mode.
func (w *writer) props(sample arrow.RecordBatch) *pq.WriterProperties {
	opts := []pq.WriterProperty{
		pq.WithAllocator(w.mem),
		pq.WithCompression(w.codec),
		pq.WithMaxRowGroupLength(w.tu.rowGroupRows),
		pq.WithStats(w.tu.stats),
		pq.WithDataPageSize(w.tu.pageBytes),
		pq.WithDictionaryDefault(w.tu.dict != dictNever),
	}
	if w.tu.dictPageBytes > 0 {
		opts = append(opts, pq.WithDictionaryPageSizeLimit(w.tu.dictPageBytes))
	}
	if !w.tu.pageV1 {
		opts = append(opts, pq.WithDataPageVersion(pq.DataPageV2))
	}
	if sample != nil && w.tu.dict != dictAlways {
		for i, f := range w.schema.Fields() {
			dict := false
			if w.tu.dict == dictAuto {
				var ok bool
				if dict, ok = wantDictionary(f, sample.Column(i)); ok {
					opts = append(opts, pq.WithDictionaryFor(f.Name, dict))
				}
			}
			// codecpick.go: plain columns snappy hardly shrinks are
			// stored uncompressed.
			if w.tu.codecPick && !dict {
				if pays, ok := compressPays(w.codec, sample.Column(i), w.tu.codecSaveEighths); ok && !pays {
					opts = append(opts, pq.WithCompressionFor(f.Name, compress.Codecs.Uncompressed))
				}
			}
		}
	}
	return pq.NewWriterProperties(opts...)
}

// wantDictionary decides dictionary encoding for a top-level primitive
// column from the values of the first batch: on when at least half of the
// sampled values repeat. Dictionary encoding hashes every value, which
// costs more than it saves for ids, timestamps and free text (measured in
// BENCH_NOTES.md). ok is false for nested columns (left at the default).
func wantDictionary(f arrow.Field, col arrow.Array) (dict, ok bool) {
	switch f.Type.(type) {
	case *arrow.DictionaryType:
		return true, true
	case arrow.NestedType:
		return false, false
	}
	valid, distinct := sampleDistinct(col, 8192)
	return valid > 0 && 2*distinct <= valid, true
}

// sampleDistinct counts the first n non-null values of col and how many
// of them differ. Values are compared by their bits (numbers, dates,
// times) or bytes (strings, binary), not through ValueStr, which formats
// each one: for timestamps and floats that was 3% of the writer's CPU on
// W2's output, per file. The count is the same but for floats' NaNs of
// different payloads, which ValueStr prints alike.
func sampleDistinct(col arrow.Array, n int) (valid, distinct int) {
	each := func(key func(i int)) {
		for i := 0; i < col.Len() && valid < n; i++ {
			if col.IsNull(i) {
				continue
			}
			valid++
			key(i)
		}
	}
	if fw, ok := col.DataType().(arrow.FixedWidthDataType); ok && col.DataType().ID() != arrow.BOOL &&
		fw.BitWidth() >= 8 && fw.BitWidth() <= 64 && fw.BitWidth()%8 == 0 && len(col.Data().Buffers()) > 1 &&
		col.Data().Buffers()[1] != nil {
		width := fw.BitWidth() / 8
		vals := col.Data().Buffers()[1].Bytes()[col.Data().Offset()*width:]
		seen := make(map[uint64]struct{})
		each(func(i int) {
			var b [8]byte
			copy(b[:], vals[i*width:(i+1)*width])
			seen[binary.LittleEndian.Uint64(b[:])] = struct{}{}
		})
		return valid, len(seen)
	}
	seen := make(map[string]struct{})
	switch a := col.(type) {
	case *array.String:
		each(func(i int) { seen[a.Value(i)] = struct{}{} })
	case *array.LargeString:
		each(func(i int) { seen[a.Value(i)] = struct{}{} })
	case *array.Binary:
		each(func(i int) { seen[a.ValueString(i)] = struct{}{} })
	case *array.LargeBinary:
		each(func(i int) { seen[a.ValueString(i)] = struct{}{} })
	default:
		each(func(i int) { seen[col.ValueStr(i)] = struct{}{} })
	}
	return valid, len(seen)
}

// open creates the file writer once the first batch (or Close) arrives.
func (w *writer) open(sample arrow.RecordBatch) error {
	if w.fw != nil || w.cw != nil {
		return nil
	}
	err := guard(func() error {
		var err error
		workers := w.tu.workers
		if workers < 0 {
			workers = runtime.GOMAXPROCS(0)
		}
		// One worker pays the buffered row group's copy for nothing
		// unless it encodes the string dictionaries itself.
		if (workers > 1 || workers == 1 && w.tu.ownDict) && flatSchema(w.schema) {
			w.cw, err = newColWriter(w.schema, w.w, w.props(sample), w.arrowProps(), true, w.tu.ownDict, workers)
			return err
		}
		w.fw, err = pqarrow.NewFileWriter(w.schema, w.w, w.props(sample), w.arrowProps())
		return err
	})
	if err != nil {
		return fmt.Errorf("%s: open parquet writer: %w", w.name, err)
	}
	return nil
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
	w       io.Writer
	tu      tuning
	codec   compress.Compression
	mem     memory.Allocator // pool when there is one
	pool    *bufPool
	fw      *pqarrow.FileWriter // nil until open, and for flat schemas
	cw      *colWriter          // flat schemas: nil until open
	schema  *arrow.Schema
	pending []arrow.RecordBatch // retained until written as a row group
	rows    int64               // rows in pending
	// groupRows is the row group size (rowGroupRows unless benchmarking).
	groupRows int64
	// err is the first encoding error: every later call returns it.
	err error
}

func (w *writer) Write(rec arrow.RecordBatch) error {
	if !rec.Schema().Equal(w.schema) {
		return fmt.Errorf("%s: record schema does not match the writer's:\n%s\nwant\n%s", w.name, rec.Schema(), w.schema)
	}
	if w.err != nil {
		return w.err
	}
	if rec.NumRows() == 0 {
		return nil
	}
	if err := w.open(rec); err != nil {
		return err
	}
	// Records are immutable, so holding a reference is safe; it avoids
	// copying rows that are about to be encoded anyway.
	rec.Retain()
	w.pending = append(w.pending, rec)
	w.rows += rec.NumRows()
	if w.rows >= w.groupRows {
		return w.encode(w.cut(false))
	}
	return nil
}

// Flush does nothing. It cannot make rows crash-durable, and no Parquet
// writer can: a Parquet file is unreadable until Close writes the footer
// that locates every row group, so the file sink declares
// engine.CommitsOnClose and the engine acknowledges Parquet output only
// after Close. Encoding a row group at every Flush (the engine flushes
// whenever a sink's queue runs dry) would instead cut row groups at sizes
// that depend on timing: the same 5M-row run gave 47 to 72 row groups.
// Rows are written in row groups of rowGroupRows, bounding memory to one
// row group of Arrow data gathering.
func (w *writer) Flush() error { return nil }

// Close writes the remaining rows and the footer.
func (w *writer) Close() error {
	groups := w.cut(true)
	if err := w.open(nil); err != nil {
		releaseGroups(groups)
		w.closePool()
		return err
	}
	err := w.encode(groups)
	closeFile := w.fw.Close
	if w.cw != nil {
		closeFile = w.cw.Close
	}
	if cerr := guard(closeFile); cerr != nil && err == nil {
		err = fmt.Errorf("%s: close parquet file: %w", w.name, cerr)
	}
	w.closePool()
	return err
}

func (w *writer) closePool() {
	if w.pool != nil {
		w.pool.Close()
	}
}

// sliceRecords returns the rows [from, to) of recs (counted across them
// in order) as slices of the records, each retained by the caller.
func sliceRecords(recs []arrow.RecordBatch, from, to int64) []arrow.RecordBatch {
	var out []arrow.RecordBatch
	var start int64
	for _, r := range recs {
		end := start + r.NumRows()
		if lo, hi := max(from, start), min(to, end); lo < hi {
			out = append(out, r.NewSlice(lo-start, hi-start))
		}
		start = end
	}
	return out
}
