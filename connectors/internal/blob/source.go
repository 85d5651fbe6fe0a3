package blob

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"sync/atomic"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/dataweaver/dataweaver/engine"
	"github.com/dataweaver/dataweaver/format"
)

// Source reads the objects a Store lists (files matching a glob, stdin,
// objects under a bucket prefix) in name order as one table, with
// positions a later run resumes from. The file and s3 sources are this
// Source over their stores.
type Source struct {
	engine.NoAck
	kind        string
	path        string
	store       Store
	stream      bool
	format      *format.Format
	compression string
	opts        format.ReadOptions // Schema is the declared schema, if any

	objs   []Object
	total  int64 // sum of sizes, <= 0 when unknown
	schema *arrow.Schema
	next   int   // index of the next file to open
	cur    *open // file being read
	// pending is a record larger than BatchRows (or the cap) being served
	// in slices.
	pending    arrow.RecordBatch
	pendingOff int64
	// cap limits the rows of the next Read (engine.RowCapper); 0 for none.
	cap int64

	read     atomic.Int64 // input bytes consumed, across files
	reported int64        // read as of the last batch, for Batch.Bytes
	err      error        // first fatal error, returned by every later Read
	closed   bool

	split *objectSplit // set by ReadSplit: read that split only
	// splitBytes is the size of a byte-range split (0: none); lineSplits
	// says the format may be cut at any newline (see rangeSplits).
	splitBytes int64
	lineSplits bool
	resume     *Position // set by Resume, kept across Opens
	at         *resumeAt // where this Open continues, nil from the start
	log        *slog.Logger
}

// open is one file being decoded.
type open struct {
	name    string
	index   int
	size    int64
	mtime   int64
	etag    string
	release func() error // the store's close, nil once closed
	tail    io.Closer    // the stream a byte-range split reads, nil for others
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

// SourceConfig is what NewSource builds a Source from.
type SourceConfig struct {
	// Kind names the source in errors and logs: "file source", "s3 source".
	Kind string
	// Path is the path, pattern or URL the source was configured with; a
	// saved position names it, and a resume refuses one saved for another.
	Path  string
	Store Store
	// Stream marks an input that cannot be resumed (stdin): each run reads
	// a new stream, so the source keeps no positions.
	Stream      bool
	Format      *format.Format
	Compression string             // CompAuto, CompNone, CompGzip, CompZstd
	Opts        format.ReadOptions // Schema is the declared schema, if any
	Log         *slog.Logger       // may be nil
	// SplitBytes is the size of the byte ranges a coordinated run cuts a
	// large text object into (0: one split per object); LineSplits says
	// the format's records never hold a newline (JSON Lines, CSV declared
	// so), the condition for cutting it at any newline.
	SplitBytes int64
	LineSplits bool
}

// NewSource returns a source reading what c.Store lists. Nothing is
// listed or opened before Open.
func NewSource(c SourceConfig) *Source {
	s := &Source{kind: c.Kind, path: c.Path, store: c.Store, stream: c.Stream, format: c.Format,
		compression: c.Compression, opts: c.Opts, log: c.Log, splitBytes: c.SplitBytes, lineSplits: c.LineSplits}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	return s
}

// Open finds the files and opens the first, whose schema is the source's.
// It may follow a Close (Pipeline.Validate then Run): reading starts over.
func (s *Source) Open(ctx context.Context) (*arrow.Schema, error) {
	s.Close()
	s.objs, s.total, s.schema, s.next, s.at = nil, 0, nil, 0, nil
	s.read.Store(0)
	s.reported, s.err, s.closed = 0, nil, false
	objs, listErr := s.store.List(ctx)
	s.objs = objs
	for _, o := range objs {
		if o.Size < 0 {
			s.total = -1
			break
		}
		s.total += o.Size
	}
	if s.split != nil {
		if err := s.restrict(listErr); err != nil {
			return nil, err
		}
	} else if s.stream {
		if listErr != nil {
			return nil, fmt.Errorf("%s: %w", s.kind, listErr)
		}
	} else {
		at, err := s.planResume(listErr)
		if err != nil {
			return nil, err
		}
		s.at = at
		if at != nil && at.index > 0 {
			if err := s.skipFiles(ctx, at.index); err != nil {
				return nil, err
			}
			if at.index == len(s.objs) {
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
	obj := s.objs[i]
	name := obj.Name
	o := &open{name: name, index: i, size: obj.Size, mtime: obj.MtimeNs, etag: obj.ETag}
	in := format.Input{Name: name}
	opened, err := s.store.Open(ctx, obj)
	if err != nil {
		return fmt.Errorf("%s: %w", s.kind, err)
	}
	o.release = opened.Close
	// A byte-range split is uncompressed text (its planner checked) read
	// from its start on, and read through no ReaderAt.
	rng := s.split != nil && s.split.End > 0
	var src io.Reader
	if rng {
		src = s.openRange(opened, o)
		in.Name = name + "@" + strconv.FormatInt(s.split.Start, 10)
	} else {
		o.count = &countingReader{r: opened.R, total: &s.read}
		src = o.count
	}
	br := bufio.NewReaderSize(src, IOBuffer)
	kind := s.compression
	if rng {
		kind = CompNone
	} else if kind == CompAuto {
		kind = BySuffix(name)
		if kind == "" && s.format.Text {
			var err error
			if kind, err = ByMagic(br); err != nil {
				s.closeOpen(o)
				return fmt.Errorf("%s: %s: %w", s.kind, name, err)
			}
		}
	}
	if !s.format.Text && (kind == CompGzip || kind == CompZstd) {
		s.closeOpen(o)
		return fmt.Errorf("%w: %s: %s: %s files cannot be read through %s; decompress the file first", engine.ErrInvalidConfig, s.kind, name, s.format.Name, kind)
	}
	r, unzip, err := Decompress(kind, br)
	if err != nil {
		s.closeOpen(o)
		return fmt.Errorf("%s: %s: %w", s.kind, name, err)
	}
	o.unzip = unzip
	in.R = r
	if opened.RA != nil && !rng && kind != CompGzip && kind != CompZstd {
		o.countRA = &countingReaderAt{ra: opened.RA, total: &s.read}
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
		return fmt.Errorf("%s: %w", s.kind, err)
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
		return fmt.Errorf("%w: %s: %s: the %s reader produced %s instead of the declared schema %s", engine.ErrSchema, s.kind, name, s.format.Name, got, s.opts.Schema)
	case s.schema == nil:
		s.schema = got
	case !got.Equal(s.schema):
		if !compatible(s.schema, got) {
			s.closeOpen(o)
			return fmt.Errorf("%w: %s: %s has columns %s, but %s (the first file) has %s; declare schema to read them alike, or read them separately",
				engine.ErrSchema, s.kind, name, describe(got), s.objs[0].Name, describe(s.schema))
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
	if o.tail != nil {
		errs = append(errs, o.tail.Close())
		o.tail = nil
	}
	if o.release != nil {
		errs = append(errs, o.release())
		o.release = nil
	}
	return errors.Join(errs...)
}

// Read returns the next batch, moving on to the next file at the end of one.
// A fatal error (unreadable file, schema clash) is returned again by every
// later Read rather than skipping to the next file.
func (s *Source) Read(ctx context.Context) (*engine.Batch, error) {
	if s.closed {
		return nil, fmt.Errorf("%s: Read: %w", s.kind, errClosed)
	}
	if s.err != nil {
		return nil, s.err
	}
	if n, ok := s.store.(readingNotifier); ok {
		n.Reading()
	}
	if s.splitDone() {
		s.cap = 0
		return nil, engine.ErrEndOfInput
	}
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
			if s.next >= len(s.objs) {
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
				return nil, fmt.Errorf("%s: %w: %s ends after %d records, before row %d of the saved position; %s", s.kind,
					ErrResume, o.name, o.row, o.row+o.skip, resumeHint)
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
			return nil, fmt.Errorf("%s: %w", s.kind, err)
		}
		if rec != nil && rec.NumRows() == 0 {
			rec.Release()
			rec = nil
		}
		if rec == nil && len(out) == 0 {
			continue
		}
		if rec != nil && o.rewrap {
			relabelled := array.NewRecordBatch(s.schema, rec.Columns(), rec.NumRows())
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
// make the total drift from the sum of file sizes. A byte-range split
// counts what it read: a range, not the object.
func (s *Source) finishFile() error {
	o := s.cur
	s.cur = nil
	if o.size >= 0 && o.tail == nil {
		s.read.Add(o.size - o.counted())
	}
	if o.settle {
		s.reported = s.read.Load()
	}
	if err := s.closeOpen(o); err != nil {
		return fmt.Errorf("%s: %s: %w", s.kind, o.name, err)
	}
	return nil
}

// closeOpen closes one input: the format reader, then the decompressor,
// then the store's object, which may only let go of what the reading took
// (stdin keeps it for the next opening) once the format's goroutines have
// stopped.
func (s *Source) closeOpen(o *open) error { return o.close() }

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
			return fmt.Errorf("%s: %s: %w", s.kind, o.name, err)
		}
	}
	return nil
}
