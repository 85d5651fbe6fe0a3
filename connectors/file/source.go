package file

import (
	"context"
	"io/fs"
	"os"
	"sync"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/dataweaver/dataweaver/connectors/coordinator/split"
	"github.com/dataweaver/dataweaver/connectors/internal/blob"
	"github.com/dataweaver/dataweaver/engine"
	"github.com/dataweaver/dataweaver/engine/spec"
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
	).
	Field(blob.ReadFields("csv, jsonl, parquet, arrow or avro. Default: from the file extension (ignoring .gz/.zst). Required for stdin.")...).
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

func init() {
	engine.RegisterSource(sourceSpec, newSource)
	engine.RegisterSink(sinkSpec, newSink)
}

// Source reads one file, a glob of files, or stdin: the reading core the
// s3 source shares (connectors/internal/blob) over local files.
type Source struct {
	engine.NoAck
	r *blob.Source
}

// Open lists the files and opens the first, whose schema is the source's.
// It may follow a Close (Pipeline.Validate then Run): reading starts over.
func (s *Source) Open(ctx context.Context) (*arrow.Schema, error) { return s.r.Open(ctx) }

// Read returns the next batch, moving on to the next file at the end of one.
func (s *Source) Read(ctx context.Context) (*engine.Batch, error) { return s.r.Read(ctx) }

// Close stops the current reader and closes the file; safe without Open.
func (s *Source) Close() error { return s.r.Close() }

// Resume makes the next Open continue after pos, a Position saved by an
// earlier run (engine.Resumer).
func (s *Source) Resume(pos []byte) error { return s.r.Resume(pos) }

// CanResume is false for stdin (engine.MaybeResumer): each run reads a
// new stream.
func (s *Source) CanResume() bool { return s.r.CanResume() }

// CapNextRead makes the next Read return at most n rows (engine.RowCapper).
func (s *Source) CapNextRead(n int64) { s.r.CapNextRead(n) }

// Splits lists one split per object, or per row group of a Parquet
// object, for N workers sharing the input (split.Source).
func (s *Source) Splits(ctx context.Context) ([]split.Split, error) { return s.r.Splits(ctx) }

// ReadSplit makes the next Open read one split only (split.Source).
func (s *Source) ReadSplit(sp split.Split) error { return s.r.ReadSplit(sp) }

// Progress reports input bytes read so far against the files' total size.
func (s *Source) Progress() (done, total int64) { return s.r.Progress() }

// Position is the file source's checkpoint (see blob.Position).
type Position = blob.Position

func newSource(conf *spec.Parsed, b engine.Build) (engine.Source, error) {
	path := conf.String("path")
	if path == "" {
		return nil, configErr(conf, "path", "path is empty")
	}
	c, err := blob.ParseRead(conf, b, path)
	if err != nil {
		return nil, err
	}
	c.Kind, c.Path = "file source", path
	if path == "-" {
		c.Store, c.Stream = &stdin{}, true
	} else {
		c.Store = &files{path: path}
	}
	return &Source{r: blob.NewSource(c)}, nil
}

// files is the store of a path or glob on the local file system.
type files struct {
	path string
	// pipes are the named pipes (FIFOs) the listing found, whose open
	// waits for a writer.
	mu    sync.Mutex
	pipes map[string]bool
}

// List expands the path and stats what it matched: the sizes and
// modification times a resume checks.
func (f *files) List(context.Context) ([]blob.Object, error) {
	names, err := expand(f.path)
	if err != nil {
		return nil, err
	}
	objs := make([]blob.Object, 0, len(names))
	pipes := map[string]bool{}
	for _, name := range names {
		info, err := os.Stat(name)
		if err != nil {
			return nil, err
		}
		objs = append(objs, blob.Object{Name: name, Size: info.Size(), MtimeNs: info.ModTime().UnixNano()})
		if info.Mode()&fs.ModeNamedPipe != 0 {
			pipes[name] = true
		}
	}
	f.mu.Lock()
	f.pipes = pipes
	f.mu.Unlock()
	return objs, nil
}

// Open opens a listed file; pipe is what the listing's stat found (no
// second stat here).
func (f *files) Open(ctx context.Context, obj blob.Object) (blob.Opened, error) {
	f.mu.Lock()
	pipe := f.pipes[obj.Name]
	f.mu.Unlock()
	file, err := openFile(ctx, obj.Name, pipe)
	if err != nil {
		return blob.Opened{}, err
	}
	return blob.Opened{R: file, RA: file, Close: file.Close}, nil
}
