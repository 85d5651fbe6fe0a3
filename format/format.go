// Package format holds the stream file formats DataWeaver reads and writes
// (CSV, JSON Lines, Parquet, Arrow IPC, Avro) behind one small interface, so
// the file connector, the HTTP connector and tests share one implementation
// per format.
package format

import (
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"sync"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// ErrUnknownFormat is wrapped when a format name or file extension is not registered.
var ErrUnknownFormat = errors.New("unknown format")

// ErrMalformed is wrapped by every error caused by bytes that do not follow the format.
var ErrMalformed = errors.New("malformed input")

// ErrRecordTooLarge is wrapped by the row error of a text record longer than
// ReadOptions.MaxRecordBytes. The reader skips such a record without holding
// it, so one endless line cannot take the process's memory.
var ErrRecordTooLarge = errors.New("record too large")

// DefaultMaxRecordBytes is the record limit of the text readers when
// ReadOptions.MaxRecordBytes is 0. 64 MiB is far above any record a CSV or
// JSON Lines producer writes on purpose (databases cap a JSON document at
// 16 MiB, message brokers a message at 1 to 100 MiB), and it bounds what an
// endless line costs: a reader allocates about three limits to find that a
// record is over it (growing its buffer by doubling), then skips the rest
// in that buffer (weave reading a 200 MB line: 233 MB peak RSS, 889 MB
// before the limit existed).
const DefaultMaxRecordBytes = 64 << 20

// Input is what a reader reads from. R is always set. RA and Size are set
// when the input supports random access (a regular file); formats that need
// random access (Parquet, Arrow IPC file) buffer R in memory when RA is nil.
type Input struct {
	R    io.Reader
	RA   io.ReaderAt
	Size int64
	// Name is the file name used in error messages ("-" for stdin).
	Name string
}

// ReadOptions configure a Reader. The zero value plus Mem is valid.
type ReadOptions struct {
	Mem memory.Allocator
	// BatchRows is the number of rows per batch a reader aims for (default 65536).
	BatchRows int
	// Schema, when set, is the schema rows are decoded into; otherwise it is
	// inferred (CSV, JSONL) or read from the file (Parquet, Arrow, Avro).
	Schema *arrow.Schema
	// InferRows is how many rows schema inference looks at (default 1000).
	InferRows int
	// Workers is how many goroutines may decode in parallel (default GOMAXPROCS).
	Workers int
	// MaxRecordBytes bounds one record of a text format (a line; in CSV a
	// record whose quoted fields span lines), not counting its line end.
	// A longer record is skipped to its end and returned as a RowError
	// wrapping ErrRecordTooLarge. 0 means DefaultMaxRecordBytes.
	MaxRecordBytes int
	// SkipRows is how many rows at the start of the input an earlier read
	// already delivered: a resumed pipeline continues after them. The
	// binary formats honour it (Parquet skips whole row groups from its
	// metadata, Avro whole blocks without decompressing them, Arrow IPC
	// whole record batches, then each drops the rest of the rows inside
	// the unit the position falls in) and fail if the input holds fewer
	// rows. Text formats ignore it: their rows have no index to skip by,
	// so the caller decodes and discards them.
	SkipRows int64
	// CSV only.
	Delimiter  rune     // default ','
	NoHeader   bool     // the first line is data; columns are named f0, f1, ...
	NullValues []string // cell texts read as null (default: empty string)
}

// WriteOptions configure a Writer.
type WriteOptions struct {
	Mem memory.Allocator
	// Name is the file name used in error messages ("-" for stdout).
	Name string
	// Compression for formats with internal compression: Parquet
	// ("snappy" default, "zstd", "gzip", "none"), Avro ("null" default,
	// "deflate", "zstd"), Arrow ("none" default, "zstd", "lz4").
	Compression string
	// CSV only.
	Delimiter rune
	NoHeader  bool
}

// Reader decodes a stream into record batches.
type Reader interface {
	// Schema is the schema of every record Next returns; known right after NewReader.
	Schema() *arrow.Schema
	// Next returns the next batch and the rows that could not be decoded,
	// in input order. At the end it returns (nil, nil, io.EOF). The caller
	// releases the record. A non-nil error other than io.EOF is fatal for the
	// input (the file is unreadable); bad rows come back as rejects instead.
	Next() (arrow.RecordBatch, []RowError, error)
	Close() error
}

// Writer encodes record batches into a stream.
type Writer interface {
	// Write encodes rec; it does not retain it.
	Write(rec arrow.RecordBatch) error
	// Flush pushes everything written so far to the underlying io.Writer, so
	// that a later crash cannot lose it (a durable boundary for acks).
	Flush() error
	// Close writes any footer and flushes; it does not close the io.Writer.
	Close() error
}

// RowError is one input row that could not be decoded.
type RowError struct {
	File   string // file name, "-" for stdin
	Line   int64  // 1-based line (text formats) or record number (binary formats)
	Column string // column name, empty when the row as a whole is bad
	Raw    []byte // the row's bytes as read, when the format has them
	Err    error
}

func (e *RowError) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		fmt.Fprintf(&b, ":%d", e.Line)
	}
	if e.Column != "" {
		fmt.Fprintf(&b, ": column %q", e.Column)
	}
	b.WriteString(": ")
	b.WriteString(e.Err.Error())
	return b.String()
}

func (e *RowError) Unwrap() error { return e.Err }

// Format is one registered file format.
type Format struct {
	Name string
	// Extensions are file name suffixes (".csv", ".jsonl") that select this
	// format when a pipeline does not name one.
	Extensions []string
	// Text formats can be wrapped in gzip or zstd by the file connector.
	Text      bool
	NewReader func(in Input, opts ReadOptions) (Reader, error)
	NewWriter func(w io.Writer, schema *arrow.Schema, opts WriteOptions) (Writer, error)
	// Types documents which Arrow types the format round-trips (README table).
	Types string
}

var (
	mu      sync.RWMutex
	formats = map[string]*Format{}
)

// Register adds a format; it panics on a duplicate name (a programming error).
func Register(f *Format) {
	mu.Lock()
	defer mu.Unlock()
	if _, dup := formats[f.Name]; dup {
		panic("format: duplicate registration of " + f.Name)
	}
	formats[f.Name] = f
}

// Lookup returns the format registered under name.
func Lookup(name string) (*Format, error) {
	mu.RLock()
	defer mu.RUnlock()
	if f, ok := formats[name]; ok {
		return f, nil
	}
	return nil, fmt.Errorf("%w %q (known: %s)", ErrUnknownFormat, name, strings.Join(namesLocked(), ", "))
}

// ForPath picks a format by file extension, ignoring a trailing .gz or .zst.
func ForPath(path string) (*Format, error) {
	p := strings.TrimSuffix(strings.TrimSuffix(path, ".gz"), ".zst")
	mu.RLock()
	defer mu.RUnlock()
	for _, f := range formats {
		for _, ext := range f.Extensions {
			if strings.HasSuffix(p, ext) {
				return f, nil
			}
		}
	}
	return nil, fmt.Errorf("%w: cannot tell the format of %q from its extension; set format (one of %s)", ErrUnknownFormat, path, strings.Join(namesLocked(), ", "))
}

// Names lists registered formats, sorted.
func Names() []string {
	mu.RLock()
	defer mu.RUnlock()
	return namesLocked()
}

func namesLocked() []string {
	out := make([]string, 0, len(formats))
	for n := range formats {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}
