package spec_test

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/dataweaver/dataweaver/engine/spec"
)

var update = flag.Bool("update", false, "rewrite golden files")

// sampleSpec uses every feature the renderers have to show.
func sampleSpec() *spec.Spec {
	return spec.New("file").
		Summary("Reads files in CSV, JSON Lines, Parquet, Arrow or Avro.").
		Description("Reads one file, a glob, or stdin.\n\nFiles matched by a glob are read in name order, "+
			"as one table: the first file's schema applies to all of them, later text files are decoded "+
			"into it and later binary files must match it — or the run stops.").
		Scalar("path").
		Field(
			spec.String("path").Desc("File path or glob; - for stdin. A glob may use * ? [..] within a directory and ** across directories; matches are sorted.").Example("data/*.csv").Example("-"),
			spec.String("format").Desc("Input format; guessed from the extension when absent.").OneOf("csv", "jsonl", "parquet").Optional(),
			spec.Int("batch_rows").Desc("Rows per batch.").Default(65536),
			spec.Duration("linger").Default(100*time.Millisecond),
			spec.StringList("null_values").Desc("Cell texts read as null.").Default([]string{"", "NA"}),
			spec.Map("rename").Desc("Columns to rename | old → new; see `weave run`. Types like list<int64> and globs like **/*.csv stay literal.").Optional(),
			spec.Object("csv",
				spec.String("delimiter").Default(","),
				spec.Bool("header").Default(true),
			).Desc("CSV options."),
			spec.ByteSize("buffer").Default(int64(1<<20)).Advance(),
			spec.Object("auth", spec.String("token").Desc("Bearer token.")).Optional(),
		).
		WithExample("Read every CSV file in a folder", "file:\n  path: data/*.csv\n  format: csv\n").
		WithExample("", "file: orders.parquet")
}

func TestRender(t *testing.T) {
	tests := []struct {
		name   string
		golden string
		spec   *spec.Spec
		write  func(*spec.Spec, *bytes.Buffer)
	}{
		{"text", "describe.txt", sampleSpec(), func(s *spec.Spec, b *bytes.Buffer) { s.WriteText(b, "source") }},
		{"markdown", "describe.md", sampleSpec(), func(s *spec.Spec, b *bytes.Buffer) { s.WriteMarkdown(b, "source") }},
		{"text empty", "empty.txt", spec.New("discard").Summary("Drops every batch."), func(s *spec.Spec, b *bytes.Buffer) { s.WriteText(b, "sink") }},
		{"markdown empty", "empty.md", spec.New("discard"), func(s *spec.Spec, b *bytes.Buffer) { s.WriteMarkdown(b, "sink") }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b bytes.Buffer
			tt.write(tt.spec, &b)
			golden(t, filepath.Join("testdata", tt.golden), b.Bytes())
		})
	}
}

func TestFormatValue(t *testing.T) {
	tests := []struct {
		in   any
		want string
	}{
		{"csv", "csv"},
		{"", `""`},
		{",", `","`},
		{"true", `"true"`},
		{"10", `"10"`},
		{"- x", `"- x"`},
		{250 * time.Millisecond, "250ms"},
		{[]string{"a", ""}, `[a, ""]`},
		{[]spec.KV{{Key: "a", Value: "b"}}, "{a: b}"},
		{42, "42"},
		{int64(64 << 20), "64MiB"},
		{int64(1500), "1500"},
		{int64(0), "0"},
		{true, "true"},
	}
	for _, tt := range tests {
		if got := spec.FormatValue(tt.in); got != tt.want {
			t.Errorf("FormatValue(%#v) = %s, want %s", tt.in, got, tt.want)
		}
	}
}

func golden(t *testing.T, path string, got []byte) {
	t.Helper()
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs (run with -update to accept):\n--- got ---\n%s\n--- want ---\n%s", path, got, want)
	}
}
