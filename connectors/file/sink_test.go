package file

import (
	"bufio"
	"compress/gzip"
	"context"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/dataweaver/dataweaver/connectors/conformance"
	"github.com/dataweaver/dataweaver/connectors/internal/blob"
	"github.com/dataweaver/dataweaver/engine"
)

func exists(path string) bool { _, err := os.Stat(path); return err == nil }

// writeRows opens sink, writes n sample rows and flushes, leaving it open.
func writeRows(t *testing.T, ctx context.Context, sink engine.Sink, mem memory.Allocator, n int) {
	t.Helper()
	rec := conformance.Sample(mem, conformance.SampleSchema, 0, n)
	defer rec.Release()
	if err := sink.Open(ctx, rec.Schema()); err != nil {
		t.Fatalf("Open: %v", err)
	}
	if err := sink.Write(ctx, rec); err != nil {
		t.Fatalf("Write: %v", err)
	}
	if err := sink.Flush(ctx); err != nil {
		t.Fatalf("Flush: %v", err)
	}
}

func TestAtomicCommit(t *testing.T) {
	mem := conformance.Checked(t)
	dir := t.TempDir()
	path := filepath.Join(dir, "out.csv")
	sink := mustSink(t, "{path: "+q(path)+"}", conformance.Build(mem, 10, "sink"))
	writeRows(t, context.Background(), sink, mem, 5)
	if exists(path) {
		t.Fatal("the target exists before Close: readers could see a partial file")
	}
	tmp := tempFiles(t, dir)
	if len(tmp) != 1 {
		t.Fatalf("want one temporary file beside the target, got %v", tmp)
	}
	if data, _ := os.ReadFile(tmp[0]); strings.Count(string(data), "\n") != 6 {
		t.Errorf("after Flush the temporary file holds %q; want the header and 5 rows", data)
	}
	if err := sink.Close(); err != nil {
		t.Fatal(err)
	}
	if !exists(path) || len(tempFiles(t, dir)) != 0 {
		t.Fatalf("after Close: target exists %v, temporary files %v", exists(path), tempFiles(t, dir))
	}
	// Same permissions as a plain create (not CreateTemp's 0600).
	plain := filepath.Join(dir, "plain")
	f, _ := os.Create(plain)
	f.Close()
	a, _ := os.Stat(path)
	b, _ := os.Stat(plain)
	if a.Mode().Perm() != b.Mode().Perm() {
		t.Errorf("output mode %v, a plain create gives %v", a.Mode().Perm(), b.Mode().Perm())
	}
}

// TestFailedRunKeepsOldFile: a cancelled or failed run, or an Abort, must
// leave the previous output as it was and no temporary file behind.
func TestFailedRunKeepsOldFile(t *testing.T) {
	for _, how := range []string{"cancelled", "abort", "flush error"} {
		t.Run(how, func(t *testing.T) {
			mem := conformance.Checked(t)
			dir := t.TempDir()
			path := filepath.Join(dir, "out.jsonl")
			writeFile(t, path, "previous\n")
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			sink := mustSink(t, "{path: "+q(path)+"}", conformance.Build(mem, 10, "sink"))
			writeRows(t, ctx, sink, mem, 3)
			switch how {
			case "cancelled":
				cancel()
			case "abort":
				sink.Abort()
			case "flush error":
				sink.file.Close() // the disk goes away under the sink
				rec := conformance.Sample(mem, conformance.SampleSchema, 0, 3)
				sink.Write(ctx, rec)
				rec.Release()
				err := sink.Flush(ctx)
				if err == nil || !engine.IsPermanent(err) {
					t.Fatalf("Flush on a closed file: %v, want a permanent error", err)
				}
				rec = conformance.Sample(mem, conformance.SampleSchema, 0, 1)
				err = sink.Write(ctx, rec)
				rec.Release()
				if err == nil || !engine.IsPermanent(err) {
					t.Fatalf("Write after a failed flush: %v, want a permanent error", err)
				}
			}
			sink.Close()
			if data, _ := os.ReadFile(path); string(data) != "previous\n" {
				t.Fatalf("target now holds %q; a failed run must not replace it", data)
			}
			if left := tempFiles(t, dir); len(left) != 0 {
				t.Fatalf("temporary files left: %v", left)
			}
		})
	}
}

func TestOverwrite(t *testing.T) {
	for _, atomic := range []string{"true", "false"} {
		t.Run("atomic="+atomic, func(t *testing.T) {
			mem := conformance.Checked(t)
			dir := t.TempDir()
			path := filepath.Join(dir, "out.csv")
			writeFile(t, path, "old\n")

			// Default: replace.
			sink := mustSink(t, "{path: "+q(path)+", atomic: "+atomic+"}", conformance.Build(mem, 10, "sink"))
			writeRows(t, context.Background(), sink, mem, 2)
			if err := sink.Close(); err != nil {
				t.Fatal(err)
			}
			if data, _ := os.ReadFile(path); !strings.HasPrefix(string(data), "id,name") {
				t.Fatalf("not overwritten: %q", data)
			}

			// overwrite: false refuses at Open.
			sink = mustSink(t, "{path: "+q(path)+", overwrite: false, atomic: "+atomic+"}", conformance.Build(mem, 10, "sink"))
			err := sink.Open(context.Background(), conformance.SampleSchema)
			if !errors.Is(err, fs.ErrExist) || !strings.Contains(err.Error(), "overwrite is false") {
				t.Fatalf("Open over an existing file: %v, want ErrExist mentioning overwrite", err)
			}
			sink.Close()
		})
	}
}

// TestOverwriteRace: the target appears while the run writes; with
// overwrite false, Close must refuse to replace it.
func TestOverwriteRace(t *testing.T) {
	mem := conformance.Checked(t)
	dir := t.TempDir()
	path := filepath.Join(dir, "out.csv")
	sink := mustSink(t, "{path: "+q(path)+", overwrite: false}", conformance.Build(mem, 10, "sink"))
	writeRows(t, context.Background(), sink, mem, 2)
	writeFile(t, path, "someone else's\n")
	if err := sink.Close(); !errors.Is(err, fs.ErrExist) {
		t.Fatalf("Close = %v, want ErrExist", err)
	}
	if data, _ := os.ReadFile(path); string(data) != "someone else's\n" {
		t.Fatalf("other file replaced: %q", data)
	}
	if left := tempFiles(t, dir); len(left) != 0 {
		t.Fatalf("temporary files left: %v", left)
	}
}

func TestMkdir(t *testing.T) {
	mem := conformance.Checked(t)
	dir := t.TempDir()
	path := filepath.Join(dir, "a", "b", "out.arrows")
	sink := mustSink(t, "{path: "+q(path)+", mkdir: false}", conformance.Build(mem, 10, "sink"))
	if err := sink.Open(context.Background(), conformance.SampleSchema); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("mkdir false, missing parent: %v, want ErrNotExist", err)
	}
	sink.Close()
	sink = mustSink(t, "{path: "+q(path)+"}", conformance.Build(mem, 10, "sink"))
	writeRows(t, context.Background(), sink, mem, 2)
	if err := sink.Close(); err != nil {
		t.Fatal(err)
	}
	if !exists(path) {
		t.Fatal("parents not created")
	}
}

// TestInPlace: atomic false writes at the final path from Open on, so a
// tail -f or a crash-recovering consumer sees flushed rows there.
func TestInPlace(t *testing.T) {
	mem := conformance.Checked(t)
	path := filepath.Join(t.TempDir(), "out.jsonl")
	sink := mustSink(t, "{path: "+q(path)+", atomic: false, sync: true}", conformance.Build(mem, 10, "sink"))
	writeRows(t, context.Background(), sink, mem, 4)
	if data, _ := os.ReadFile(path); strings.Count(string(data), "\n") != 4 {
		t.Fatalf("after Flush the file holds %q, want 4 lines", data)
	}
	if err := sink.Close(); err != nil {
		t.Fatal(err)
	}
}

// TestFlushGzipReadable: after Flush, the compressed bytes on disk
// decompress to every row written so far, though the stream is unfinished.
func TestFlushGzipReadable(t *testing.T) {
	mem := conformance.Checked(t)
	dir := t.TempDir()
	sink := mustSink(t, "{path: "+q(filepath.Join(dir, "out.csv.gz"))+"}", conformance.Build(mem, 10, "sink"))
	writeRows(t, context.Background(), sink, mem, 7)
	defer sink.Close()
	f, err := os.Open(tempFiles(t, dir)[0])
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	var lines int
	sc := bufio.NewScanner(zr)
	for sc.Scan() {
		lines++
	}
	if !errors.Is(sc.Err(), io.ErrUnexpectedEOF) && sc.Err() != nil {
		t.Fatal(sc.Err())
	}
	if lines != 8 {
		t.Fatalf("flushed gzip stream holds %d lines, want header + 7", lines)
	}
}

func TestStdout(t *testing.T) {
	mem := conformance.Checked(t)
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	old := os.Stdout
	os.Stdout = w
	defer func() { os.Stdout = old }()
	got := make(chan []byte)
	go func() { b, _ := io.ReadAll(r); got <- b }()

	sink := mustSink(t, `{path: "-", format: csv, compression: zstd}`, conformance.Build(mem, 10, "sink"))
	writeRows(t, context.Background(), sink, mem, 3)
	if err := sink.Close(); err != nil {
		t.Fatal(err)
	}
	os.Stdout = old
	w.Close()
	data := <-got
	zr, cleanup, err := blob.Decompress(compZstd, strings.NewReader(string(data)))
	if err != nil {
		t.Fatal(err)
	}
	defer cleanup()
	plain, err := io.ReadAll(zr)
	if err != nil || strings.Count(string(plain), "\n") != 4 {
		t.Fatalf("stdout held %q (%v), want a header and 3 rows", plain, err)
	}
}

func TestCheckSchema(t *testing.T) {
	nested := arrow.NewSchema([]arrow.Field{{Name: "tags", Type: arrow.ListOf(arrow.BinaryTypes.String)}}, nil)
	csv := mustSink(t, "{path: out.csv}", engine.Build{})
	if err := csv.CheckSchema(nested); !errors.Is(err, engine.ErrSchema) || !strings.Contains(err.Error(), "tags") {
		t.Fatalf("csv CheckSchema(list) = %v, want ErrSchema naming the column", err)
	}
	if err := csv.CheckSchema(conformance.SampleSchema); err != nil {
		t.Fatalf("csv CheckSchema(sample) = %v", err)
	}
	if exists("out.csv") {
		t.Fatal("CheckSchema touched the disk")
	}
}

func TestSinkConfigErrors(t *testing.T) {
	tests := []struct{ conf, want string }{
		{`{path: "-"}`, "format is required with path -"},
		{"{path: out.xyz}", "cannot tell the format"},
		{"{path: out.csv, compression: snappy}", `csv is a text format: compression is none, gzip or zstd, not "snappy"`},
		{"{path: out.parquet.gz}", "compress internally"},
		{"{path: out.parquet, compression: lzma}", "lzma"},
		{"{path: out.arrows, compression: brotli}", "brotli"},
		{"{path: out.parquet, csv: {header: false}}", "csv options given but the format is parquet"},
		{`{path: out.csv, csv: {delimiter: '"'}}`, "cannot be a quote"},
		{"{path: out/}", "format is required with a directory path"},
		{"{path: out/, format: csv, append: true}", "a directory is always added to"},
		{"{path: out/, format: csv, atomic: false}", "atomic: false does not apply to a directory"},
		{"{path: out/, format: csv, part_rows: -1}", "must be 0 or more"},
		{"{path: out.csv, part_rows: 5}", "part_rows applies to a directory"},
		{"{path: out/, format: parquet, compression: lzma}", "lzma"},
		{"{path: out.parquet, append: true}", "append works for csv and jsonl"},
		{"{path: out.csv.gz, append: true}", "append writes uncompressed files"},
		{"{path: out.csv, append: true, compression: zstd}", "append writes uncompressed files"},
		{`{path: "-", format: csv, append: true}`, "stdout is a stream already"},
		{"{path: out.csv, append: true, atomic: true}", "atomic: true does not apply"},
		{"{path: out.csv, append: true, overwrite: false}", "contradicts"},
	}
	for _, tc := range tests {
		_, err := newSinkYAML(t, tc.conf, engine.Build{})
		if err == nil || !strings.Contains(err.Error(), tc.want) || !errors.Is(err, engine.ErrInvalidConfig) && !strings.Contains(err.Error(), "p.yaml") {
			t.Errorf("%s: error %v, want a config error containing %q", tc.conf, err, tc.want)
		}
	}
	// Binary formats take their own codec names, checked without I/O.
	for _, ok := range []string{"{path: out.parquet, compression: zstd}", "{path: out.arrows, compression: lz4}"} {
		if _, err := newSinkYAML(t, ok, engine.Build{}); err != nil {
			t.Errorf("%s: %v", ok, err)
		}
	}
}

func TestParseDelimiter(t *testing.T) {
	for in, want := range map[string]rune{",": ',', ";": ';', `\t`: '\t', "tab": '\t', "\t": '\t', "|": '|', "§": '§'} {
		if got, err := parseDelimiter(in); err != nil || got != want {
			t.Errorf("parseDelimiter(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, bad := range []string{"", ",,", `"`, "\n", "\xff"} {
		if _, err := parseDelimiter(bad); err == nil {
			t.Errorf("parseDelimiter(%q) accepted", bad)
		}
	}
}

func TestMatchSegments(t *testing.T) {
	tests := []struct {
		pat, name string
		want      bool
	}{
		{"data/**/x.csv", "data/x.csv", true},
		{"data/**/x.csv", "data/a/b/x.csv", true},
		{"data/**/x.csv", "data/a/b/y.csv", false},
		{"data/**", "data/a/b", true},
		{"**/*.csv", "a.csv", true},
		{"data/*/x.csv", "data/a/b/x.csv", false},
		{"data/**/b/*.csv", "data/a/b/c.csv", true},
		{"data/**/b/*.csv", "data/b/c.csv", true},
		{"data/**/b/*.csv", "data/a/c.csv", false},
	}
	for _, tc := range tests {
		if got := blob.MatchSegments(strings.Split(tc.pat, "/"), strings.Split(tc.name, "/")); got != tc.want {
			t.Errorf("match(%s, %s) = %v, want %v", tc.pat, tc.name, got, tc.want)
		}
	}
	for pat, root := range map[string]string{"data/**/x.csv": "data", "**/x": ".", "/abs/*/y/**/z": "/abs", "a/b/c*.csv": "a/b"} {
		if got := walkRoot(pat); got != filepath.FromSlash(root) {
			t.Errorf("walkRoot(%s) = %s, want %s", pat, got, root)
		}
	}
}

func TestSinkCommitsOnClose(t *testing.T) {
	for _, tc := range []struct {
		name string
		conf string
		want bool
	}{
		{name: "atomic jsonl", conf: "{path: out.jsonl}", want: true},
		{name: "in-place jsonl", conf: "{path: out.jsonl, atomic: false}", want: false},
		{name: "in-place parquet", conf: "{path: out.parquet, atomic: false}", want: true},
		{name: "stdout jsonl", conf: "{path: '-', format: jsonl}", want: false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var c engine.CommitsOnClose = mustSink(t, tc.conf, engine.Build{})
			ok := true
			if !ok || c.CommitsOnClose() != tc.want {
				t.Errorf("CommitsOnClose = %v (implemented %v), want %v", ok && c.CommitsOnClose(), ok, tc.want)
			}
		})
	}
}
