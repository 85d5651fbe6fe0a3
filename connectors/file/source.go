package file

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sync/atomic"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/array"

	"github.com/dataweaver/dataweaver/codec"
	"github.com/dataweaver/dataweaver/connectors/internal/arrowtype"
	"github.com/dataweaver/dataweaver/engine"
	"github.com/dataweaver/dataweaver/engine/spec"
	"github.com/dataweaver/dataweaver/format"
)

var sourceSpec = spec.New("file").
	Summary("Reads files (or stdin) in CSV, JSON Lines, Parquet, Arrow IPC or Avro, optionally gzip/zstd-compressed.").
	Description("path may be one file, a glob or - for stdin. Files matching a glob are read in sorted "+
		"order as one table: the first file's schema (or the declared schema) applies to all, later "+
		"text files are decoded into it and later binary files must match it.\n\n"+
		"Rows that cannot be decoded are rejected with their file, line and column and handled by "+
		"the source's on_error policy; the rest of the file is still read.\n\n"+
		"A run continues where the last one's saved position stopped: files sorting before the file "+
		"it points into are skipped, that file is read on from the row after the position (Parquet "+
		"skips whole row groups, Avro blocks, Arrow record batches; CSV and JSON Lines rows are "+
		"decoded and dropped), and every file sorting after it is read, including files added to the "+
		"glob since: a growing directory is ingested incrementally. A file read to its end is not "+
		"read again, even if rows were appended to it later (a warning says so; write new files instead). If the file "+
		"the position points into changed (size or modification time) or was removed, the run stops "+
		"with an error rather than skip or repeat rows; run with --from-start or reset the position "+
		"with weave positions. Standard input cannot be resumed.").
	Field(
		spec.String("path").
			Desc("File to read, a glob (* ? [..] within a directory, ** across directories), or - for stdin.").
			Example("data/orders.csv").Example("logs/2024-*/*.jsonl.gz").Example("data/**/part-*.parquet").Example("-"),
		spec.String("format").Optional().
			Desc("csv, jsonl, parquet, arrow or avro. Default: from the file extension (ignoring .gz/.zst). Required for stdin."),
		spec.String("compression").Default(compAuto).OneOf(compAuto, compNone, compGzip, compZstd).
			Desc("Outer compression of text formats. auto: by .gz/.zst suffix, else by the data's magic bytes. "+
				"Parquet, Arrow and Avro compress inside the file and take none (or auto)."),
		arrowtype.Field("schema").Optional().
			Desc("Decode into these columns instead of inferring them (CSV, JSON Lines). "+
				"Ordered mapping of column name to Arrow type: int8..int64, uint8..uint64, float32, float64, "+
				"bool, utf8 (string), date32, timestamp[unit] or timestamp[unit, TZ], decimal128(p,s), list<type>, "+
				"… ; append \"not null\" for non-nullable columns. With a CSV header, columns are matched by name. "+
				"In a {…} flow mapping, quote types containing a comma: \"decimal128(10,2)\"."),
		spec.Object("csv",
			delimiterField(),
			headerField(true),
			spec.StringList("null_values").Default([]string{""}).
				Desc("Cell texts read as null.").
				Example(`["", "NA", "NULL"]`),
		).Desc("CSV options."),
		spec.Int("infer_rows").Default(1000).
			Desc("Rows sampled to infer column types when schema is not given (CSV, JSON Lines).").
			Validate(positive),
		spec.Int("workers").Default(0).Advance().
			Desc("Goroutines decoding in parallel (CSV, JSON Lines); 0 means one per CPU."),
		codec.MaxRecordBytesField().
			Desc("Longest record of a text format (a line; in CSV a record whose quoted fields span lines), "+
				"without its line end. A longer one is skipped to its end without being held in memory and "+
				"rejected with its file and line, like a row that cannot be decoded. Finding that a record is over "+
				"the limit costs about three times the limit in memory."),
	).
	Scalar("path").
	WithExample("A CSV file", `source:
  file: data/orders.csv`).
	WithExample("Daily gzipped JSON Lines with a fixed schema", `source:
  file:
    path: logs/2024-05-*.jsonl.gz
    schema: {ts: "timestamp[ms, UTC]", level: utf8, msg: utf8}`).
	WithExample("Semicolon CSV from stdin", `source:
  file:
    path: "-"
    format: csv
    csv: {delimiter: ";", null_values: ["", "NA"]}`)

func positive(v any) error {
	if v.(int) < 1 {
		return errors.New("must be at least 1")
	}
	return nil
}

func init() {
	engine.RegisterSource(sourceSpec, newSource)
	engine.RegisterSink(sinkSpec, newSink)
}

// Source reads one file, a glob of files, or stdin.
type Source struct {
	engine.NoAck
	path        string
	format      *format.Format
	compression string
	opts        format.ReadOptions // Schema is the declared schema, if any

	files  []string
	sizes  []int64 // -1 when unknown (stdin)
	mtimes []int64 // modification times, Unix ns
	pipes  []bool  // named pipes (FIFOs), whose open waits for a writer
	total  int64   // sum of sizes, <= 0 when unknown
	schema *arrow.Schema
	next   int   // index of the next file to open
	cur    *open // file being read
	// pending is a record larger than BatchRows (or the cap) being served
	// in slices.
	pending    arrow.Record
	pendingOff int64
	// cap limits the rows of the next Read (engine.RowCapper); 0 for none.
	cap int64

	read     atomic.Int64 // input bytes consumed, across files
	reported int64        // read as of the last batch, for Batch.Bytes
	err      error        // first fatal error, returned by every later Read
	closed   bool
	stdin    stdin // replays what an opening without reads took from stdin

	resume *Position // set by Resume, kept across Opens
	at     *resumeAt // where this Open continues, nil from the start
	log    *slog.Logger
}

// open is one file being decoded.
type open struct {
	name    string
	index   int
	size    int64
	mtime   int64
	file    *os.File // nil for stdin
	count   *countingReader
	countRA *countingReaderAt
	unzip   func() error
	reader  format.Reader
	rewrap  bool // records carry a schema differing only in nullability or metadata

	// row counts the input records of the file accounted for (rows
	// delivered or skipped, and rejects); batchStart is row where the
	// reader's current batch began; batchRows is the BatchRows the reader
	// was opened with. See Position.
	row        int64
	batchStart int64
	batchRows  int
	// skip is how many records a resumed text file still has to discard,
	// and skipStart the saved Position.BatchStart (see discard).
	skip      int64
	skipStart int64
	// settle is set on a resumed file until the position is reached: the
	// bytes read to get there are counted as done but in no Batch.Bytes.
	settle bool
	// ahead is a batch read past the one being served, to learn whether
	// that one ends the file (see atEnd); eof is set once the reader ended.
	ahead *fetched
	eof   bool
}

func newSource(conf *spec.Parsed, b engine.Build) (engine.Source, error) {
	s := &Source{path: conf.String("path"), compression: conf.String("compression"), log: b.Logger}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.path == "" {
		return nil, configErr(conf, "path", "path is empty")
	}
	var err error
	if s.format, err = lookupFormat(conf, s.path); err != nil {
		return nil, err
	}
	if !s.format.Text {
		outer := s.compression
		if outer == compAuto {
			outer = bySuffix(s.path)
		}
		if outer == compGzip || outer == compZstd {
			return nil, configErr(conf, "compression", "%s files cannot be read through %s: the format compresses internally; decompress the file first", s.format.Name, outer)
		}
	}
	s.opts = format.ReadOptions{
		Mem:       b.Mem,
		BatchRows: b.BatchRows,
		InferRows: conf.Int("infer_rows"),
		Workers:   conf.Int("workers"),

		MaxRecordBytes: conf.Int("max_record_bytes"),
	}
	if conf.Given("schema") {
		if s.opts.Schema, err = arrowtype.Schema(conf.Map("schema")); err != nil {
			return nil, configErr(conf, "schema", "%v", err)
		}
	}
	if conf.Given("csv") && s.format.Name != "csv" {
		return nil, configErr(conf, "csv", "csv options given but the format is %s", s.format.Name)
	}
	if csv := conf.Object("csv"); csv != nil && s.format.Name == "csv" {
		if s.opts.Delimiter, err = parseDelimiter(csv.String("delimiter")); err != nil {
			return nil, configErr(conf, "csv", "%v", err)
		}
		s.opts.NoHeader = !csv.Bool("header")
		s.opts.NullValues = csv.Strings("null_values")
	}
	return s, nil
}

// Open finds the files and opens the first, whose schema is the source's.
// It may follow a Close (Pipeline.Validate then Run): reading starts over.
func (s *Source) Open(ctx context.Context) (*arrow.Schema, error) {
	s.Close()
	s.files, s.sizes, s.mtimes, s.pipes, s.total, s.schema, s.next, s.at = nil, nil, nil, nil, 0, nil, 0, nil
	s.read.Store(0)
	s.reported, s.err, s.closed = 0, nil, false
	if s.path == "-" {
		s.files, s.sizes, s.mtimes, s.total = []string{"-"}, []int64{-1}, []int64{0}, -1
	} else {
		files, listErr := expand(s.path)
		s.files = files
		if listErr == nil {
			if err := s.statFiles(); err != nil {
				return nil, err
			}
		}
		at, err := s.planResume(listErr)
		if err != nil {
			return nil, err
		}
		s.at = at
		if at != nil && at.index > 0 {
			if err := s.skipFiles(ctx, at.index); err != nil {
				return nil, err
			}
			if at.index == len(s.files) {
				return s.schema, nil
			}
		}
	}
	if err := s.openNext(ctx); err != nil {
		return nil, err
	}
	return s.schema, nil
}

// Progress reports compressed input bytes read so far, against the files'
// total size (unknown for stdin).
func (s *Source) Progress() (done, total int64) {
	done = s.read.Load()
	if s.total > 0 && done > s.total {
		done = s.total
	}
	return done, s.total
}

// openNext opens the next file. ctx bounds only the open itself (a named
// pipe waits there for a writer); reading is bounded by Read's ctx.
func (s *Source) openNext(ctx context.Context) error {
	i := s.next
	s.next++
	name := s.files[i]
	o := &open{name: name, index: i, size: s.sizes[i], mtime: s.mtimes[i]}
	in := format.Input{Name: name}
	var raw io.Reader
	if name == "-" {
		raw = s.stdin.open()
	} else {
		f, err := openFile(ctx, name, s.pipes[i])
		if err != nil {
			return fmt.Errorf("file source: %w", err)
		}
		o.file, raw = f, f
	}
	o.count = &countingReader{r: raw, total: &s.read}
	br := bufio.NewReaderSize(o.count, ioBuffer)
	kind := s.compression
	if kind == compAuto {
		kind = bySuffix(name)
		if kind == "" && s.format.Text {
			var err error
			if kind, err = byMagic(br); err != nil {
				s.closeOpen(o)
				return fmt.Errorf("file source: %s: %w", name, err)
			}
		}
	}
	if !s.format.Text && (kind == compGzip || kind == compZstd) {
		s.closeOpen(o)
		return fmt.Errorf("%w: file source: %s: %s files cannot be read through %s; decompress the file first", engine.ErrInvalidConfig, name, s.format.Name, kind)
	}
	r, unzip, err := decompress(kind, br)
	if err != nil {
		s.closeOpen(o)
		return fmt.Errorf("file source: %s: %w", name, err)
	}
	o.unzip = unzip
	in.R = r
	if o.file != nil && kind != compGzip && kind != compZstd {
		o.countRA = &countingReaderAt{ra: o.file, total: &s.read}
		in.RA, in.Size = o.countRA, o.size
	}
	opts := s.opts
	if s.schema != nil && s.format.Text {
		// Later text files decode into the first file's schema, so the
		// glob reads as one table and a value that does not fit becomes a
		// row error with its line rather than a schema clash.
		opts.Schema = s.schema
	}
	if at := s.at; at != nil && at.index == i && at.row > 0 {
		o.settle = true
		if s.format.Text {
			// Decoded and discarded by readBatch, in the batches the
			// saved position was counted in.
			opts.BatchRows = at.batchRows
			o.skip, o.skipStart = at.row, at.batchStart
		} else {
			opts.SkipRows, o.row = at.row, at.row
		}
	}
	o.batchRows = opts.BatchRows
	o.reader, err = s.format.NewReader(in, opts)
	if err != nil {
		s.closeOpen(o)
		return fmt.Errorf("file source: %w", err)
	}
	if sk, ok := o.reader.(interface{ SkippedBytes() int64 }); ok && o.size >= 0 {
		// Row groups skipped unread are done as much as read ones.
		n := min(sk.SkippedBytes(), o.size-o.counted())
		o.count.n += n
		s.read.Add(n)
	}
	got := o.reader.Schema()
	switch {
	case s.schema == nil && s.opts.Schema != nil && !got.Equal(s.opts.Schema):
		s.closeOpen(o)
		return fmt.Errorf("%w: file source: %s: the %s reader produced %s instead of the declared schema %s", engine.ErrSchema, name, s.format.Name, got, s.opts.Schema)
	case s.schema == nil:
		s.schema = got
	case !got.Equal(s.schema):
		if !compatible(s.schema, got) {
			s.closeOpen(o)
			return fmt.Errorf("%w: file source: %s has columns %s, but %s (the first file) has %s; declare schema to read them alike, or read them separately",
				engine.ErrSchema, name, describe(got), s.files[0], describe(s.schema))
		}
		o.rewrap = true
	}
	s.cur = o
	return nil
}

// compatible reports whether records of got can be relabelled as want:
// same names and types, and nullability only narrowing.
func compatible(want, got *arrow.Schema) bool {
	if want.NumFields() != got.NumFields() {
		return false
	}
	for i, w := range want.Fields() {
		g := got.Field(i)
		if g.Name != w.Name || !arrow.TypeEqual(g.Type, w.Type) || (g.Nullable && !w.Nullable) {
			return false
		}
	}
	return true
}

func describe(s *arrow.Schema) string {
	out := "("
	for i, f := range s.Fields() {
		if i > 0 {
			out += ", "
		}
		out += f.Name + " " + f.Type.String()
		if !f.Nullable {
			out += " not null"
		}
	}
	return out + ")"
}

// counted is how many of the file's bytes the progress holds so far.
func (o *open) counted() int64 {
	n := o.count.n
	if o.countRA != nil {
		n += o.countRA.n.Load()
	}
	return n
}

func (o *open) close() error {
	var errs []error
	if o.ahead != nil && o.ahead.rec != nil {
		o.ahead.rec.Release()
	}
	o.ahead = nil
	if o.reader != nil {
		errs = append(errs, o.reader.Close())
	}
	if o.unzip != nil {
		errs = append(errs, o.unzip())
	}
	if o.file != nil {
		errs = append(errs, o.file.Close())
	}
	return errors.Join(errs...)
}

// Read returns the next batch, moving on to the next file at the end of one.
// A fatal error (unreadable file, schema clash) is returned again by every
// later Read rather than skipping to the next file.
func (s *Source) Read(ctx context.Context) (*engine.Batch, error) {
	if s.closed {
		return nil, fmt.Errorf("file source: Read: %w", errClosed)
	}
	if s.err != nil {
		return nil, s.err
	}
	s.stdin.reading()
	b, err := s.readBatch(ctx)
	s.cap = 0
	if err != nil && !errors.Is(err, engine.ErrEndOfInput) && ctx.Err() == nil {
		s.err = err
	}
	return b, err
}

func (s *Source) readBatch(ctx context.Context) (*engine.Batch, error) {
	for {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if s.pending != nil {
			return s.slice(nil), nil
		}
		if s.cur == nil {
			if s.next >= len(s.files) {
				return nil, engine.ErrEndOfInput
			}
			if err := s.openNext(ctx); err != nil {
				return nil, err
			}
		}
		o := s.cur
		rec, rejects, err := o.fetch()
		out := s.rowErrors(rejects)
		if errors.Is(err, io.EOF) {
			if rec != nil {
				rec.Release()
			}
			if o.skip > 0 {
				return nil, fmt.Errorf("file source: %w: %s ends after %d records, before row %d of the saved position; %s",
					errResume, o.name, o.row, o.row+o.skip, resumeHint)
			}
			if len(out) == 0 {
				if err := s.finishFile(); err != nil {
					return nil, err
				}
				continue
			}
			o.eof = true
			o.batchStart = o.row
			o.row += int64(len(out))
			cp := s.position()
			if err := s.finishFile(); err != nil {
				return nil, err
			}
			return &engine.Batch{Rejects: out, Checkpoint: cp, Bytes: s.bytesSinceLast()}, nil
		} else if err != nil {
			if rec != nil {
				rec.Release()
			}
			return nil, fmt.Errorf("file source: %w", err)
		}
		if rec != nil && rec.NumRows() == 0 {
			rec.Release()
			rec = nil
		}
		if rec == nil && len(out) == 0 {
			continue
		}
		if rec != nil && o.rewrap {
			relabelled := array.NewRecord(s.schema, rec.Columns(), rec.NumRows())
			rec.Release()
			rec = relabelled
		}
		start := o.row
		if o.skip > 0 {
			if rec, out, err = s.discard(rec, out); err != nil {
				return nil, err
			}
			if rec == nil && len(out) == 0 {
				continue
			}
		}
		if o.settle && o.skip == 0 {
			// Bytes read to find the position were done by earlier runs:
			// Progress counts them, Batch.Bytes does not.
			s.reported = s.read.Load()
			o.settle = false
		}
		o.batchStart = start
		if size := s.sliceRows(); rec != nil && size > 0 && rec.NumRows() > size {
			s.pending, s.pendingOff = rec, 0
			return s.slice(out), nil
		}
		if rec != nil {
			o.row += rec.NumRows()
		}
		o.row += int64(len(out))
		return &engine.Batch{Record: rec, Rejects: out, Bytes: s.bytesSinceLast(), Checkpoint: s.position()}, nil
	}
}

// slice serves the next BatchRows of an oversized record (Arrow and Parquet
// readers return batches as they were stored). The record's rejects come
// with its first slice, and the position counts them there.
func (s *Source) slice(rejects []engine.RowError) *engine.Batch {
	end := min(s.pendingOff+s.sliceRows(), s.pending.NumRows())
	rec := s.pending.NewSlice(s.pendingOff, end)
	s.cur.row += end - s.pendingOff + int64(len(rejects))
	s.pendingOff = end
	if end == s.pending.NumRows() {
		s.pending.Release()
		s.pending = nil
	}
	return &engine.Batch{Record: rec, Rejects: rejects, Bytes: s.bytesSinceLast(), Checkpoint: s.position()}
}

// CapNextRead makes the next Read return at most n rows (engine.RowCapper):
// the rest of the decoded record waits as pending, and the position after
// the slice is exact, as for an oversized record.
func (s *Source) CapNextRead(n int64) { s.cap = n }

// sliceRows is the most rows the next batch may hold; 0 for no limit.
func (s *Source) sliceRows() int64 {
	size := int64(s.opts.BatchRows)
	if s.cap > 0 && (size <= 0 || s.cap < size) {
		size = s.cap
	}
	return size
}

func (s *Source) bytesSinceLast() int64 {
	now := s.read.Load()
	d := now - s.reported
	s.reported = now
	return d
}

func (s *Source) rowErrors(in []format.RowError) []engine.RowError {
	if len(in) == 0 {
		return nil
	}
	out := make([]engine.RowError, len(in))
	for i, r := range in {
		out[i] = engine.RowError{File: r.File, Line: r.Line, Column: r.Column, Raw: r.Raw, Err: r.Err}
		if out[i].File == "" && s.cur != nil {
			out[i].File = s.cur.name
		}
	}
	return out
}

// finishFile closes the current file and settles its progress at exactly
// its size: buffered read-ahead and random-access re-reads would otherwise
// make the total drift from the sum of file sizes.
func (s *Source) finishFile() error {
	o := s.cur
	s.cur = nil
	if o.size >= 0 {
		s.read.Add(o.size - o.counted())
	}
	if o.settle {
		s.reported = s.read.Load()
	}
	if err := s.closeOpen(o); err != nil {
		return fmt.Errorf("file source: %s: %w", o.name, err)
	}
	return nil
}

// closeOpen closes one input; for stdin it then keeps what the reading took
// (see stdin), which is only safe once the format's goroutines have stopped.
func (s *Source) closeOpen(o *open) error {
	err := o.close()
	if o.name == "-" {
		s.stdin.closed()
	}
	return err
}

// Close stops the current reader (and any goroutines it runs) and closes
// the file. It is safe without Open and more than once.
func (s *Source) Close() error {
	if s.closed {
		return nil
	}
	s.closed = true
	if s.pending != nil {
		s.pending.Release()
		s.pending = nil
	}
	if s.cur != nil {
		o := s.cur
		s.cur = nil
		if err := s.closeOpen(o); err != nil {
			return fmt.Errorf("file source: %s: %w", o.name, err)
		}
	}
	return nil
}
