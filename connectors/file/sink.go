package file

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/memory"

	"github.com/dataweaver/dataweaver/engine"
	"github.com/dataweaver/dataweaver/engine/spec"
	"github.com/dataweaver/dataweaver/format"
)

var sinkSpec = spec.New("file").
	Summary("Writes CSV, JSON Lines, Parquet, Arrow IPC or Avro to a file or stdout.").
	Description("The file is written under a temporary name in the same directory and renamed into "+
		"place when the run ends well, so nobody reads a half-written file and a failed run leaves "+
		"any previous file untouched (set atomic: false to write in place instead). An existing file "+
		"is replaced, as cp and most export tools do; set overwrite: false to refuse.\n\n"+
		"Flush (at every acknowledgement) pushes the batches written so far through the format, the "+
		"compressor and the write buffer to the operating system; sync: true also waits for the disk.").
	Field(
		spec.String("path").
			Desc("File to write, or - for stdout.").
			Example("out/orders.parquet").Example("out/clean.csv.gz").Example("-"),
		spec.String("format").Optional().
			Desc("csv, jsonl, parquet, arrow or avro. Default: from the file extension (ignoring .gz/.zst). Required for stdout."),
		spec.String("compression").Default(compAuto).
			Desc("Text formats (csv, jsonl): none, gzip or zstd, applied to the whole file; auto picks gzip "+
				"for .gz, zstd for .zst, else none. Binary formats compress inside the file, and auto "+
				"keeps their default: parquet snappy (or zstd, gzip, none), avro null (or deflate, zstd), "+
				"arrow none (or zstd, lz4).").
			Example("zstd"),
		spec.Object("csv",
			delimiterField(),
			headerField(false),
		).Desc("CSV options."),
		spec.Bool("mkdir").Default(true).
			Desc("Create missing parent directories."),
		spec.Bool("overwrite").Default(true).
			Desc("Replace an existing file. With false, the run fails at start if the file exists."),
		spec.Bool("atomic").Default(true).
			Desc("Write to a temporary file and rename it into place when the run succeeds. Set false when "+
				"something tails the file while it grows, or when an acknowledging source (a message bus) must "+
				"find flushed data at the final path after a crash; a failed run then leaves a partial file."),
		spec.Bool("sync").Default(false).Advance().
			Desc("fsync at every flush and on close, so acknowledged data survives a power cut, at a large cost in speed."),
	).
	Scalar("path").
	WithExample("Parquet with zstd", `sinks:
  - file: {path: out/orders.parquet, compression: zstd}`).
	WithExample("Gzipped CSV, tab-separated", `sinks:
  - file:
      path: out/orders.tsv.gz
      format: csv
      csv: {delimiter: "\t"}`).
	WithExample("JSON Lines to stdout", `sinks:
  - file: {path: "-", format: jsonl}`)

// Sink writes one file (or stdout). The engine calls its methods from one
// goroutine.
type Sink struct {
	path      string
	format    *format.Format
	outer     string // compression around the stream (text formats)
	wopts     format.WriteOptions
	mkdir     bool
	overwrite bool
	atomic    bool
	sync      bool

	runCtx context.Context
	file   *os.File // nil for stdout
	tmp    string   // temporary name when atomic
	buf    *bufio.Writer
	comp   compressor
	w      format.Writer
	failed error // first write or flush error: the stream is no longer whole
	state  atomic.Int32
}

const (
	sinkNew int32 = iota
	sinkOpen
	sinkClosed
)

// probeSchema is what a constructor writes to io.Discard to learn whether
// a format accepts the compression given, without touching the disk.
var probeSchema = arrow.NewSchema([]arrow.Field{{Name: "x", Type: arrow.PrimitiveTypes.Int64}}, nil)

func newSink(conf *spec.Parsed, b engine.Build) (engine.Sink, error) {
	s := &Sink{
		path:      conf.String("path"),
		mkdir:     conf.Bool("mkdir"),
		overwrite: conf.Bool("overwrite"),
		atomic:    conf.Bool("atomic"),
		sync:      conf.Bool("sync"),
	}
	if s.path == "" {
		return nil, configErr(conf, "path", "path is empty")
	}
	var err error
	if s.format, err = lookupFormat(conf, s.path); err != nil {
		return nil, err
	}
	s.wopts = format.WriteOptions{Mem: b.Mem, Name: s.path}
	if s.wopts.Mem == nil {
		s.wopts.Mem = memory.NewGoAllocator()
	}
	comp := conf.String("compression")
	if s.format.Text {
		switch comp {
		case compAuto:
			s.outer = bySuffix(s.path)
			if s.outer == "" {
				s.outer = compNone
			}
		case compNone, compGzip, compZstd:
			s.outer = comp
		default:
			return nil, configErr(conf, "compression", "%s is a text format: compression is none, gzip or zstd, not %q", s.format.Name, comp)
		}
	} else {
		s.outer = compNone
		if sfx := bySuffix(s.path); sfx != "" {
			return nil, configErr(conf, "path", "%s files compress internally and cannot be wrapped in %s; drop the suffix and set compression instead", s.format.Name, sfx)
		}
		if comp != compAuto {
			s.wopts.Compression = comp
			if err := s.probe(probeSchema); err != nil {
				return nil, configErr(conf, "compression", "%v", err)
			}
		}
	}
	if conf.Given("csv") && s.format.Name != "csv" {
		return nil, configErr(conf, "csv", "csv options given but the format is %s", s.format.Name)
	}
	if csv := conf.Object("csv"); csv != nil && s.format.Name == "csv" {
		if s.wopts.Delimiter, err = parseDelimiter(csv.String("delimiter")); err != nil {
			return nil, configErr(conf, "csv", "%v", err)
		}
		s.wopts.NoHeader = !csv.Bool("header")
	}
	return s, nil
}

// probe builds a writer over io.Discard: it exercises the format's checks
// of options and schema with no I/O.
func (s *Sink) probe(schema *arrow.Schema) error {
	w, err := s.format.NewWriter(io.Discard, schema, s.wopts)
	if err != nil {
		return err
	}
	return w.Close()
}

// CheckSchema reports whether the format can write schema (Avro and
// Parquet cannot hold every Arrow type), for weave validate.
func (s *Sink) CheckSchema(schema *arrow.Schema) error {
	if err := s.probe(schema); err != nil {
		return fmt.Errorf("%w: file sink %s: %s cannot write this schema: %w", engine.ErrSchema, s.path, s.format.Name, err)
	}
	return nil
}

// Open creates the output (under a temporary name when atomic) and starts
// the format's stream.
func (s *Sink) Open(ctx context.Context, schema *arrow.Schema) (err error) {
	if !s.state.CompareAndSwap(sinkNew, sinkOpen) {
		return errors.New("file sink: Open called twice")
	}
	s.runCtx = ctx
	var out io.Writer = os.Stdout
	if s.path != "-" {
		if s.file, err = s.create(); err != nil {
			s.state.Store(sinkClosed)
			return fmt.Errorf("file sink: %w", err)
		}
		out = s.file
	}
	defer func() {
		if err != nil {
			s.discard()
		}
	}()
	s.buf = bufio.NewWriterSize(out, ioBuffer)
	if s.comp, err = compress(s.outer, s.buf); err != nil {
		return fmt.Errorf("file sink: %s: %w", s.path, err)
	}
	if s.w, err = s.format.NewWriter(s.comp, schema, s.wopts); err != nil {
		return fmt.Errorf("file sink: %w", err)
	}
	return nil
}

func (s *Sink) create() (*os.File, error) {
	if s.mkdir {
		if err := os.MkdirAll(filepath.Dir(s.path), 0o777); err != nil {
			return nil, err
		}
	}
	if !s.overwrite {
		if _, err := os.Lstat(s.path); err == nil {
			return nil, fmt.Errorf("%s: %w and overwrite is false", s.path, fs.ErrExist)
		}
	}
	if !s.atomic {
		flags := os.O_WRONLY | os.O_CREATE | os.O_TRUNC
		if !s.overwrite {
			flags |= os.O_EXCL
		}
		return os.OpenFile(s.path, flags, 0o666)
	}
	// OpenFile with 0666 rather than os.CreateTemp (0600), so the file
	// ends up with the permissions a plain create would give it.
	dir, base := filepath.Split(s.path)
	for i := 0; ; i++ {
		s.tmp = filepath.Join(dir, "."+base+".weave-tmp-"+strconv.FormatInt(time.Now().UnixNano()+int64(i), 36))
		f, err := os.OpenFile(s.tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o666)
		if errors.Is(err, fs.ErrExist) && i < 100 {
			continue
		}
		return f, err
	}
}

// Write encodes rec. Errors are permanent: after a partial write the
// stream (above all a compressed one) is in an unknown state, and writing
// the batch again would corrupt the file rather than repair it.
func (s *Sink) Write(_ context.Context, rec arrow.Record) error {
	if s.state.Load() != sinkOpen || s.w == nil {
		return engine.Permanent(errors.New("file sink: Write outside Open and Close"))
	}
	if s.failed != nil {
		return engine.Permanent(fmt.Errorf("file sink: %s: an earlier write failed: %w", s.path, s.failed))
	}
	if err := s.w.Write(rec); err != nil {
		s.failed = err
		return engine.Permanent(fmt.Errorf("file sink: %w", err))
	}
	return nil
}

// Flush pushes everything written through the format, the compressor and
// the buffer to the OS (and to the disk with sync).
func (s *Sink) Flush(context.Context) error {
	if s.state.Load() != sinkOpen || s.w == nil {
		return nil
	}
	if s.failed != nil {
		return engine.Permanent(fmt.Errorf("file sink: %s: an earlier write failed: %w", s.path, s.failed))
	}
	err := s.w.Flush()
	if err == nil {
		err = s.comp.Flush()
	}
	if err == nil {
		err = s.buf.Flush()
	}
	if err == nil && s.sync && s.file != nil {
		err = s.file.Sync()
	}
	if err != nil {
		s.failed = err
		return engine.Permanent(fmt.Errorf("file sink: %s: flush: %w", s.path, err))
	}
	return nil
}

// CommitsOnClose tells the engine to acknowledge batches only after Close
// succeeded when nothing before Close is durable at the target: an atomic
// write appears only when renamed into place, and a Parquet file is
// unreadable until its footer is written. Plain appending text written in
// place (or to stdout) is durable at each Flush.
func (s *Sink) CommitsOnClose() bool {
	return (s.atomic && s.path != "-") || s.format.Name == "parquet"
}

// Abort discards the output: the temporary file is removed (an in-place
// file is left as far as it got). Close after Abort does nothing.
func (s *Sink) Abort() {
	if s.state.CompareAndSwap(sinkOpen, sinkClosed) {
		s.discard()
	}
}

func (s *Sink) discard() {
	if s.w != nil {
		s.w.Close()
	}
	if s.comp != nil {
		s.comp.Close()
	}
	if s.file != nil {
		s.file.Close()
		if s.tmp != "" {
			os.Remove(s.tmp)
		}
	}
	s.state.Store(sinkClosed)
}

// Close finishes the stream (footer, end marker), flushes and, when the
// run succeeded, moves the file into place. A sink whose writes failed, or
// whose run was cancelled or failed (the engine cancels the context given
// to Open before closing sinks), discards its temporary file instead.
func (s *Sink) Close() error {
	if !s.state.CompareAndSwap(sinkOpen, sinkClosed) {
		return nil
	}
	err := s.finish()
	if s.file == nil {
		return err
	}
	if s.tmp == "" {
		return errors.Join(err, s.file.Close())
	}
	if cerr := s.file.Close(); err == nil {
		err = cerr
	}
	if err != nil || s.failed != nil || s.runCtx.Err() != nil {
		os.Remove(s.tmp)
		if err != nil {
			return fmt.Errorf("file sink: %s: %w; nothing was written", s.path, err)
		}
		return nil
	}
	if err := s.commit(); err != nil {
		os.Remove(s.tmp)
		return fmt.Errorf("file sink: %w", err)
	}
	return nil
}

// finish closes the stream's layers. After a failed write it still closes
// them, to release the format's buffers and stop zstd's goroutines, but
// their errors tell nothing new.
func (s *Sink) finish() error {
	errs := []error{s.w.Close(), s.comp.Close(), s.buf.Flush()}
	if s.sync && s.file != nil {
		errs = append(errs, s.file.Sync())
	}
	if s.failed != nil {
		return nil
	}
	return errors.Join(errs...)
}

// commit renames the temporary file into place. Without overwrite it
// links instead, which fails if the target appeared during the run,
// rather than silently replacing it.
func (s *Sink) commit() error {
	if !s.overwrite {
		err := os.Link(s.tmp, s.path)
		switch {
		case err == nil:
			return os.Remove(s.tmp)
		case errors.Is(err, fs.ErrExist):
			return fmt.Errorf("%s appeared during the run and overwrite is false: %w", s.path, err)
		}
		// No hard links here (some network and FUSE filesystems): fall
		// back to a check then rename, with a small race.
		if _, err := os.Lstat(s.path); err == nil {
			return fmt.Errorf("%s appeared during the run and overwrite is false: %w", s.path, fs.ErrExist)
		}
	}
	if err := os.Rename(s.tmp, s.path); err != nil {
		return err
	}
	if s.sync {
		// The rename is durable only once its directory is synced.
		if d, err := os.Open(filepath.Dir(s.path)); err == nil {
			defer d.Close()
			return d.Sync()
		}
	}
	return nil
}
