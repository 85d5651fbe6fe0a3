package file

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/dataweaver/dataweaver/connectors/conformance"
	"github.com/dataweaver/dataweaver/engine"
	"github.com/dataweaver/dataweaver/format"
	"github.com/dataweaver/dataweaver/internal/orders"
)

// readRejects reads src to the end like conformance.ReadAll but keeps the
// rejects, which that helper treats as failures.
func readRejects(t *testing.T, src engine.Source) (recs []arrow.RecordBatch, rejects []engine.RowError) {
	t.Helper()
	ctx := context.Background()
	if _, err := src.Open(ctx); err != nil {
		t.Fatalf("Open: %v", err)
	}
	defer src.Close()
	for {
		b, err := src.Read(ctx)
		if errors.Is(err, engine.ErrEndOfInput) {
			return recs, rejects
		}
		if err != nil {
			conformance.Release(recs)
			t.Fatalf("Read: %v", err)
		}
		if b.Record != nil {
			recs = append(recs, b.Record)
		}
		rejects = append(rejects, b.Rejects...)
	}
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func ids(t *testing.T, recs []arrow.RecordBatch, col int) []int64 {
	t.Helper()
	var out []int64
	for _, r := range recs {
		a, ok := r.Column(col).(*array.Int64)
		if !ok {
			t.Fatalf("column %d is %s, want int64", col, r.Column(col).DataType())
		}
		out = append(out, a.Int64Values()...)
	}
	return out
}

func equalInts(a, b []int64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestGlobSortedOrder writes files out of order; they must be read in
// sorted path order as one table, with ** crossing directories.
func TestGlobSortedOrder(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "c.csv"), "id,v\n5,e\n6,f\n")
	writeFile(t, filepath.Join(dir, "a.csv"), "id,v\n1,a\n2,b\n")
	writeFile(t, filepath.Join(dir, "b.csv"), "id,v\n3,c\n4,d\n")
	writeFile(t, filepath.Join(dir, "skip.jsonl"), `{"id": 99}`+"\n")
	writeFile(t, filepath.Join(dir, "2024", "05", "x.csv"), "id,v\n8,h\n")
	writeFile(t, filepath.Join(dir, "2024", "x.csv"), "id,v\n7,g\n")
	writeFile(t, filepath.Join(dir, "2024", "05", "y.txt"), "not csv\n")

	tests := []struct {
		name, pattern string
		want          []int64
	}{
		{"star", "*.csv", []int64{1, 2, 3, 4, 5, 6}},
		{"class", "[ab].csv", []int64{1, 2, 3, 4}},
		{"double star", "**/x.csv", []int64{8, 7}}, // "2024/05/x.csv" < "2024/x.csv"
		{"double star everything", "**/*.csv", []int64{8, 7, 1, 2, 3, 4, 5, 6}},
		{"double star in middle", "2024/**/x.csv", []int64{8, 7}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			mem := conformance.Checked(t)
			src := mustSource(t, "{path: "+q(filepath.Join(dir, tc.pattern))+", format: csv}", conformance.Build(mem, 100, "source"))
			recs := conformance.ReadAll(t, src, 100, true)
			defer conformance.Release(recs)
			if got := ids(t, recs, 0); !equalInts(got, tc.want) {
				t.Fatalf("ids %v, want %v", got, tc.want)
			}
		})
	}
}

// TestCompressed reads gzip and zstd files, by suffix and by magic bytes
// (a compressed file without the suffix, and compressed stdin-like data).
func TestCompressed(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct{ name, file, comp, extra string }{
		{"gzip suffix", "d.csv.gz", compGzip, ""},
		{"zstd suffix", "d.csv.zst", compZstd, ""},
		{"gzip magic", "gz-no-suffix.csv", compGzip, ""},
		{"zstd magic", "zst-no-suffix.csv", compZstd, ""},
		{"forced", "forced.dat", compGzip, ", format: csv, compression: gzip"},
		{"plain", "plain.csv", compNone, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			mem := conformance.Checked(t)
			want := conformance.Sample(mem, conformance.SampleSchema, 0, 300)
			defer want.Release()
			path := filepath.Join(dir, tc.file)
			writeWith(t, path, "csv", tc.comp, mem, want.Schema(), want)
			src := mustSource(t, "{path: "+q(path)+", schema: "+conformance.SchemaYAML(want.Schema())+tc.extra+"}", conformance.Build(mem, 128, "source"))
			got := conformance.ReadAll(t, src, 128, true)
			defer conformance.Release(got)
			conformance.EqualRows(t, want, got)
			info, _ := os.Stat(path)
			if done, total := src.Progress(); done != info.Size() || total != info.Size() {
				t.Errorf("Progress = %d/%d, want %d/%d (compressed bytes)", done, total, info.Size(), info.Size())
			}
		})
	}
}

// TestProgressAndBytes: Batch.Bytes adds up to the input size, and
// Progress never runs past the total while reading several files.
func TestProgressAndBytes(t *testing.T) {
	mem := conformance.Checked(t)
	dir := t.TempDir()
	var total int64
	for i, name := range []string{"a.jsonl", "b.jsonl", "c.jsonl"} {
		rec := conformance.Sample(mem, conformance.SampleSchema, i*1000, 1000)
		path := filepath.Join(dir, name)
		writeWith(t, path, "jsonl", compNone, mem, rec.Schema(), rec)
		rec.Release()
		info, _ := os.Stat(path)
		total += info.Size()
	}
	src := mustSource(t, "{path: "+q(filepath.Join(dir, "*.jsonl"))+"}", conformance.Build(mem, 100, "source"))
	ctx := context.Background()
	if _, err := src.Open(ctx); err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	var bytes, rows int64
	for {
		b, err := src.Read(ctx)
		if errors.Is(err, engine.ErrEndOfInput) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		bytes += b.Bytes
		rows += b.Record.NumRows()
		b.Record.Release()
		if done, tot := src.Progress(); done > tot || tot != total {
			t.Fatalf("Progress %d/%d, total should be %d", done, tot, total)
		}
	}
	if rows != 3000 || bytes != total {
		t.Fatalf("%d rows, %d bytes in batches; want 3000 rows, %d bytes", rows, bytes, total)
	}
	if done, _ := src.Progress(); done != total {
		t.Fatalf("Progress at the end %d, want %d", done, total)
	}
}

func TestStdin(t *testing.T) {
	for _, tc := range []struct {
		name     string
		comp     string
		rows     int
		reopened bool // opened and closed first, as Pipeline.Validate does
	}{
		{"plain", compNone, 50, false},
		{"gzip", compGzip, 50, false},
		{"zstd", compZstd, 50, false},
		{"validated first", compNone, 50, true},
		{"validated first, large", compNone, 200_000, true},
		{"validated first, zstd", compZstd, 200_000, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			mem := conformance.Checked(t)
			want := conformance.Sample(mem, conformance.SampleSchema, 0, tc.rows)
			defer want.Release()
			path := filepath.Join(t.TempDir(), "in")
			writeWith(t, path, "jsonl", tc.comp, mem, want.Schema(), want)
			data, _ := os.ReadFile(path)

			r, w, err := os.Pipe()
			if err != nil {
				t.Fatal(err)
			}
			old := os.Stdin
			os.Stdin = r
			defer func() { os.Stdin = old; r.Close() }()
			go func() { w.Write(data); w.Close() }()

			src := mustSource(t, `{path: "-", format: jsonl, schema: `+conformance.SchemaYAML(want.Schema())+"}", conformance.Build(mem, 4096, "source"))
			if tc.reopened {
				if _, err := src.Open(context.Background()); err != nil {
					t.Fatal(err)
				}
				if err := src.Close(); err != nil {
					t.Fatal(err)
				}
			}
			got := conformance.ReadAll(t, src, 4096, true)
			defer conformance.Release(got)
			conformance.EqualRows(t, want, got)
			if done, total := src.Progress(); done != int64(len(data)) || total > 0 {
				t.Errorf("Progress %d/%d, want %d/unknown", done, total, len(data))
			}
		})
	}
}

// TestMalformedRows: bad rows come back as RowErrors with file and line,
// and every good row around them still arrives.
func TestMalformedRows(t *testing.T) {
	mem := conformance.Checked(t)
	dir := t.TempDir()
	path := filepath.Join(dir, "orders.csv")
	writeFile(t, path, "id,amount,country\n1,9.50,FR\n2,oops,DE\n3,1.25,US\n4,2.00\n5,3.00,GB\n")
	src := mustSource(t, "{path: "+q(path)+", schema: {id: int64, amount: float64, country: utf8}}", conformance.Build(mem, 2, "source"))
	recs, rejects := readRejects(t, src)
	defer conformance.Release(recs)
	if got := ids(t, recs, 0); !equalInts(got, []int64{1, 3, 5}) {
		t.Errorf("good rows %v, want [1 3 5]", got)
	}
	if len(rejects) != 2 {
		t.Fatalf("%d rejects, want 2: %v", len(rejects), rejects)
	}
	want := []struct {
		line   int64
		column string
		raw    string
	}{{3, "amount", "2,oops,DE"}, {5, "", "4,2.00"}}
	for i, w := range want {
		r := rejects[i]
		if r.File != path || r.Line != w.line || r.Column != w.column || !strings.HasPrefix(string(r.Raw), w.raw) || r.Err == nil {
			t.Errorf("reject %d: file %q line %d column %q raw %q err %v; want %s:%d column %q raw %q",
				i, r.File, r.Line, r.Column, r.Raw, r.Err, path, w.line, w.column, w.raw)
		}
	}
}

// TestMaxRecordBytes: a line over max_record_bytes in a gzipped file is a
// row error naming the file, its line and the limit, handled like any bad
// row; the rows around it arrive.
func TestMaxRecordBytes(t *testing.T) {
	mem := conformance.Checked(t)
	path := filepath.Join(t.TempDir(), "events.jsonl.gz")
	var z bytes.Buffer
	w := gzip.NewWriter(&z)
	fmt.Fprintf(w, "{\"id\":1}\n{\"id\":2,\"pad\":\"%s\"}\n{\"id\":3}\n", strings.Repeat("x", 1<<20))
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	writeFile(t, path, z.String())
	src := mustSource(t, "{path: "+q(path)+", schema: {id: int64}, max_record_bytes: 1000}", conformance.Build(mem, 10, "source"))
	recs, rejects := readRejects(t, src)
	defer conformance.Release(recs)
	if got := ids(t, recs, 0); !equalInts(got, []int64{1, 3}) {
		t.Errorf("good rows %v, want [1 3]", got)
	}
	if len(rejects) != 1 {
		t.Fatalf("%d rejects, want 1: %v", len(rejects), rejects)
	}
	r := rejects[0]
	if r.File != path || r.Line != 2 || !errors.Is(r.Err, format.ErrRecordTooLarge) || !strings.Contains(r.Err.Error(), "1000 bytes") {
		t.Errorf("reject: file %q line %d err %v; want %s:2, record too large over 1000 bytes", r.File, r.Line, r.Err, path)
	}
}

// TestLaterFileDecodedIntoFirstSchema: with inference, the first file
// fixes the types; a later file's value that does not fit is a row error
// naming that file, not a silent type change.
func TestLaterFileDecodedIntoFirstSchema(t *testing.T) {
	mem := conformance.Checked(t)
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "1.csv"), "id,qty\n1,10\n2,20\n")
	writeFile(t, filepath.Join(dir, "2.csv"), "qty,id\n30,3\n2.5,4\n")
	src := mustSource(t, "{path: "+q(filepath.Join(dir, "*.csv"))+"}", conformance.Build(mem, 10, "source"))
	recs, rejects := readRejects(t, src)
	defer conformance.Release(recs)
	if got := ids(t, recs, 0); !equalInts(got, []int64{1, 2, 3}) {
		t.Errorf("ids %v, want [1 2 3] (2.csv has its columns in another order)", got)
	}
	if len(rejects) != 1 || rejects[0].File != filepath.Join(dir, "2.csv") || rejects[0].Line != 3 || rejects[0].Column != "qty" {
		t.Fatalf("rejects %v, want one for 2.csv:3 column qty", rejects)
	}
}

// TestBinarySchemaMismatch: a later Parquet file with other columns stops
// the run with an error naming it; one that differs only in nullability
// is read as the first file's schema.
func TestBinarySchemaMismatch(t *testing.T) {
	mem := conformance.Checked(t)
	dir := t.TempDir()
	first := conformance.Sample(mem, conformance.SampleSchema, 0, 5)
	defer first.Release()
	writeWith(t, filepath.Join(dir, "1.arrows"), "arrow", compNone, mem, first.Schema(), first)

	notNull := arrow.NewSchema([]arrow.Field{{Name: "id", Type: arrow.PrimitiveTypes.Int64}}, nil)
	nullable := arrow.NewSchema([]arrow.Field{{Name: "id", Type: arrow.PrimitiveTypes.Int64, Nullable: true}}, nil)
	for i, sc := range []*arrow.Schema{nullable, notNull, nullable} {
		rec := conformance.Sample(mem, sc, 3*i, 3)
		writeWith(t, filepath.Join(dir, fmt.Sprintf("n%d.arrows", i+1)), "arrow", compNone, mem, sc, rec)
		rec.Release()
	}
	readErr := func(pattern string) error {
		src := mustSource(t, "{path: "+q(filepath.Join(dir, pattern))+"}", conformance.Build(mem, 10, "source"))
		ctx := context.Background()
		if _, err := src.Open(ctx); err != nil {
			t.Fatal(err)
		}
		defer src.Close()
		for {
			batch, err := src.Read(ctx)
			if err != nil {
				// The error sticks: a retrying caller must not silently
				// skip to the next file.
				if _, again := src.Read(ctx); again != err {
					t.Errorf("Read after %v returned %v", err, again)
				}
				return err
			}
			batch.Record.Release()
		}
	}

	err := readErr("[1n]*.arrows")
	if !errors.Is(err, engine.ErrSchema) || !strings.Contains(err.Error(), "n1.arrows has columns (id int64)") || !strings.Contains(err.Error(), "1.arrows (the first file)") {
		t.Fatalf("error %v; want ErrSchema naming n1.arrows and the first file", err)
	}
	// A non-nullable file after a nullable one is relabelled.
	src := mustSource(t, "{path: "+q(filepath.Join(dir, "n[12].arrows"))+"}", conformance.Build(mem, 10, "source"))
	recs := conformance.ReadAll(t, src, 10, true)
	defer conformance.Release(recs)
	// Row 2 of the nullable file is null (Sample puts a null there).
	if got := ids(t, recs, 0); !equalInts(got, []int64{0, 1, 0, 3, 4, 5}) || !recs[0].Column(0).IsNull(2) || !recs[0].Schema().Field(0).Nullable {
		t.Fatalf("ids %v, schema %s", got, recs[0].Schema())
	}
	// The other way round would declare the later file's nulls away.
	if err := readErr("n[23].arrows"); !errors.Is(err, engine.ErrSchema) || !strings.Contains(err.Error(), "(id int64 not null)") {
		t.Fatalf("a nullable file after a non-nullable one: %v, want ErrSchema showing the nullability", err)
	}
}

func TestOpenErrors(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "x.csv"), "a\n1\n")
	tests := []struct {
		name, conf, want string
		is               error
	}{
		{"missing file", "{path: " + q(filepath.Join(dir, "nope.csv")) + "}", "nope.csv: no such file", fs.ErrNotExist},
		{"empty glob", "{path: " + q(filepath.Join(dir, "*.jsonl")) + "}", "no files match " + filepath.Join(dir, "*.jsonl"), nil},
		{"missing dir glob", "{path: " + q(filepath.Join(dir, "none", "**", "*.csv")) + "}", "no files match", nil},
		{"directory", "{path: " + q(dir) + ", format: csv}", "is a directory", nil},
		{"bad glob", "{path: " + q(filepath.Join(dir, "[.csv")) + "}", "bad glob", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			src := mustSource(t, tc.conf, conformance.Build(memory.NewGoAllocator(), 10, "source"))
			defer src.Close()
			_, err := src.Open(context.Background())
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Open error %v, want it to contain %q", err, tc.want)
			}
			if tc.is != nil && !errors.Is(err, tc.is) {
				t.Fatalf("error %v does not wrap %v", err, tc.is)
			}
		})
	}
}

// TestConfigErrors: mistakes are caught when the source is built, with no
// file touched (the paths do not exist).
func TestConfigErrors(t *testing.T) {
	tests := []struct{ conf, want string }{
		{`{path: "-"}`, "format is required with path -"},
		{"{path: data/x.unknown}", "cannot tell the format"},
		{"{path: x.csv, format: xml}", `unknown format "xml"`},
		{"{path: x.parquet, compression: gzip}", "parquet files cannot be read through gzip"},
		{"{path: x.parquet.gz}", "parquet files cannot be read through gzip"},
		{"{path: x.csv, compression: bzip2}", `"bzip2" is not one of`},
		{"{path: x.jsonl, csv: {delimiter: ;}}", "csv options given but the format is jsonl"},
		{`{path: x.csv, csv: {delimiter: "ab"}}`, "must be a single character"},
		{`{path: x.csv, schema: {a: int65}}`, `did you mean "int64"`},
		{`{path: x.csv, infer_rows: 0}`, "must be at least 1"},
		{`{path: x.csv, max_record_bytes: 0}`, "must be between 1 and"},
		{`{path: x.csv, max_record_bytes: 2147483648}`, "must be between 1 and"},
		{`{pth: x.csv}`, `did you mean "path"`},
	}
	for _, tc := range tests {
		_, err := newSourceYAML(t, tc.conf, conformance.Build(memory.NewGoAllocator(), 10, "source"))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want it to contain %q", tc.conf, err, tc.want)
		}
	}
}

func TestCSVOptions(t *testing.T) {
	mem := conformance.Checked(t)
	path := filepath.Join(t.TempDir(), "x.tsv")
	writeFile(t, path, "1\tNA\tx\n2\t3\tNULL\n")
	src := mustSource(t, `{path: `+q(path)+`, format: csv, schema: {id: int64, n: int64, s: utf8}, csv: {delimiter: "\t", header: false, null_values: [NA, "NULL"]}}`,
		conformance.Build(mem, 10, "source"))
	recs := conformance.ReadAll(t, src, 10, true)
	defer conformance.Release(recs)
	if len(recs) != 1 || recs[0].NumRows() != 2 {
		t.Fatalf("got %v", recs)
	}
	r := recs[0]
	if !r.Column(1).IsNull(0) || r.Column(1).(*array.Int64).Value(1) != 3 || !r.Column(2).IsNull(1) || r.Column(2).(*array.String).Value(0) != "x" {
		t.Fatalf("null_values/delimiter not applied: %v", r)
	}
}

// TestSharedCSV reads a CSV written by another project (Apache DataFusion's
// test data) with inference.
func TestSharedCSV(t *testing.T) {
	mem := conformance.Checked(t)
	path := sharedData(t, "csv", "aggregate_test_100.csv")
	src := mustSource(t, "{path: "+q(path)+"}", conformance.Build(mem, 32, "source"))
	recs := conformance.ReadAll(t, src, 32, true)
	defer conformance.Release(recs)
	var rows int64
	for _, r := range recs {
		rows += r.NumRows()
	}
	if rows != 100 || recs[0].NumCols() != 13 {
		t.Fatalf("%d rows of %d columns, want 100 rows of 13", rows, recs[0].NumCols())
	}
	if s := recs[0].Schema(); s.Field(0).Name != "c1" || s.Field(1).Type.ID() != arrow.INT64 || s.Field(11).Type.ID() != arrow.FLOAT64 {
		t.Fatalf("unexpected inferred schema %s", s)
	}
	if v := recs[0].Column(4).(*array.Int64).Value(0); v != 2033001162 {
		t.Fatalf("c5 of the first row = %d, want 2033001162", v)
	}
}

// TestRepoTestdata reads testdata/orders.csv and orders.jsonl, which the
// demo pipeline uses: 50 good rows each and two malformed ones at known
// lines (see testdata/README.md).
func TestRepoTestdata(t *testing.T) {
	for _, tc := range []struct {
		name  string
		lines []int64
	}{{"orders.csv", []int64{19, 41}}, {"orders.jsonl", []int64{13, 34}}} {
		t.Run(tc.name, func(t *testing.T) {
			mem := conformance.Checked(t)
			path := filepath.Join("..", "..", "testdata", tc.name)
			src := mustSource(t, "{path: "+q(path)+"}", conformance.Build(mem, 16, "source"))
			recs, rejects := readRejects(t, src)
			defer conformance.Release(recs)
			var rows int64
			for _, r := range recs {
				rows += r.NumRows()
			}
			if rows != 50 || len(rejects) != len(tc.lines) {
				t.Fatalf("%d good rows and %d rejects, want 50 and %d", rows, len(rejects), len(tc.lines))
			}
			for i, r := range rejects {
				if r.File != path || r.Line != tc.lines[i] || len(r.Raw) == 0 {
					t.Errorf("reject %d at %s:%d (raw %q), want %s:%d with the raw line", i, r.File, r.Line, r.Raw, path, tc.lines[i])
				}
			}
			if d := conformance.SameColumns(orders.Schema, recs[0].Schema()); d != "" {
				t.Errorf("fixture columns differ from the orders table: %s", d)
			}
		})
	}
}

func TestReadAfterClose(t *testing.T) {
	mem := conformance.Checked(t)
	path := filepath.Join(t.TempDir(), "x.csv")
	writeFile(t, path, "a\n1\n")
	src := mustSource(t, "{path: "+q(path)+"}", conformance.Build(mem, 10, "source"))
	if _, err := src.Open(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := src.Close(); err != nil {
		t.Fatal(err)
	}
	if err := src.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if _, err := src.Read(context.Background()); err == nil {
		t.Fatal("Read after Close succeeded")
	}
}

// TestSharedBinary reads Parquet, Avro and Arrow files written by other
// implementations, through globs across codecs and container variants.
func TestSharedBinary(t *testing.T) {
	tests := []struct {
		glob      []string
		format    string
		rows      int64
		cols      int64
		firstName string
	}{
		{[]string{"parquet", "alltypes_plain.parquet"}, "parquet", 8, 11, "id"},
		// weather.avro, weather-deflate.avro and weather-zstd.avro: the same rows, three codecs.
		{[]string{"avro", "weather*.avro"}, "avro", 15, 3, "station"},
		// The same table as an Arrow IPC file and stream.
		{[]string{"arrow", "generated_primitive.*[em]"}, "arrow", 74, 30, "bool_nullable"},
	}
	for _, tc := range tests {
		t.Run(tc.glob[1], func(t *testing.T) {
			mem := conformance.Checked(t)
			dir := sharedData(t, tc.glob[0])
			src := mustSource(t, "{path: "+q(filepath.Join(dir, tc.glob[1]))+", format: "+tc.format+"}", conformance.Build(mem, 10, "source"))
			recs := conformance.ReadAll(t, src, 10, true)
			defer conformance.Release(recs)
			var rows int64
			for _, r := range recs {
				rows += r.NumRows()
			}
			if rows != tc.rows || recs[0].NumCols() != tc.cols || recs[0].ColumnName(0) != tc.firstName {
				t.Fatalf("%d rows of %d columns starting %q; want %d of %d starting %q", rows, recs[0].NumCols(), recs[0].ColumnName(0), tc.rows, tc.cols, tc.firstName)
			}
		})
	}
}

// TestCloseMidFile stops reading a large compressed file after one batch:
// Close must stop the decompressor's and the format's goroutines and free
// their buffers (conformance.Checked fails the test otherwise).
func TestCloseMidFile(t *testing.T) {
	for _, tc := range []struct{ file, format, comp string }{
		{"big.csv.zst", "csv", compZstd},
		{"big.jsonl.gz", "jsonl", compGzip},
		{"big.csv", "csv", compNone},
	} {
		t.Run(tc.file, func(t *testing.T) {
			mem := conformance.Checked(t)
			rec := conformance.Sample(mem, conformance.SampleSchema, 0, 200_000)
			path := filepath.Join(t.TempDir(), tc.file)
			writeWith(t, path, tc.format, tc.comp, mem, rec.Schema(), rec)
			rec.Release()
			src := mustSource(t, "{path: "+q(path)+"}", conformance.Build(mem, 1000, "source"))
			ctx := context.Background()
			if _, err := src.Open(ctx); err != nil {
				t.Fatal(err)
			}
			b, err := src.Read(ctx)
			if err != nil {
				t.Fatal(err)
			}
			b.Record.Release()
			if err := src.Close(); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// TestCorruptCompressed: a truncated or garbled compressed file ends the
// run with an error naming it (the bytes are unusable from there on), and
// never panics or hangs.
func TestCorruptCompressed(t *testing.T) {
	for _, tc := range []struct {
		file, format, comp string
		mangle             func([]byte) []byte
	}{
		{"cut.csv.gz", "csv", compGzip, func(b []byte) []byte { return b[:len(b)/2] }},
		{"cut.csv.zst", "csv", compZstd, func(b []byte) []byte { return b[:len(b)/2] }},
		{"cut.jsonl.zst", "jsonl", compZstd, func(b []byte) []byte { return b[:len(b)/2] }},
		{"garbled.csv.gz", "csv", compGzip, func(b []byte) []byte {
			for i := len(b) / 3; i < len(b)/3+64; i++ {
				b[i] ^= 0x5a
			}
			return b
		}},
	} {
		t.Run(tc.file, func(t *testing.T) {
			mem := conformance.Checked(t)
			rec := conformance.Sample(mem, conformance.SampleSchema, 0, 20_000)
			path := filepath.Join(t.TempDir(), tc.file)
			writeWith(t, path, tc.format, tc.comp, mem, rec.Schema(), rec)
			rec.Release()
			data, _ := os.ReadFile(path)
			writeFile(t, path, string(tc.mangle(data)))

			src := mustSource(t, "{path: "+q(path)+", schema: "+conformance.SchemaYAML(conformance.SampleSchema)+"}", conformance.Build(mem, 1000, "source"))
			defer src.Close()
			ctx := context.Background()
			_, err := src.Open(ctx)
			for err == nil {
				var b *engine.Batch
				if b, err = src.Read(ctx); err == nil && b.Record != nil {
					b.Record.Release()
				}
			}
			// A cut stream must not read as a clean end: that would drop
			// the tail of the file without a word.
			if errors.Is(err, engine.ErrEndOfInput) || !strings.Contains(err.Error(), path) {
				t.Fatalf("got %v, want an error naming %s", err, path)
			}
		})
	}
}
