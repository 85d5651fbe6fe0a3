package file

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/memory"

	"github.com/dataweaver/dataweaver/connectors/conformance"
	"github.com/dataweaver/dataweaver/connectors/internal/blob"
	"github.com/dataweaver/dataweaver/engine"
	"github.com/dataweaver/dataweaver/format"

	// The formats that have landed; each is run through the conformance suite.
	_ "github.com/dataweaver/dataweaver/format/arrowipc"
	_ "github.com/dataweaver/dataweaver/format/avro"
	_ "github.com/dataweaver/dataweaver/format/csv"
	_ "github.com/dataweaver/dataweaver/format/jsonl"
	_ "github.com/dataweaver/dataweaver/format/parquet"
)

// newSourceYAML decodes a source configuration through the spec, as the
// pipeline loader does, and builds the source.
func newSourceYAML(t testing.TB, text string, b engine.Build) (engine.Source, error) {
	t.Helper()
	s, err := conformance.BuildStep(t, engine.KindSource, "file", text, b)
	if err != nil {
		return nil, err
	}
	return s.(engine.Source), nil
}

func mustSource(t testing.TB, text string, b engine.Build) *Source {
	t.Helper()
	return conformance.MustBuild[*Source](t, engine.KindSource, "file", text, b)
}

func newSinkYAML(t testing.TB, text string, b engine.Build) (engine.Sink, error) {
	t.Helper()
	s, err := conformance.BuildStep(t, engine.KindSink, "file", text, b)
	if err != nil {
		return nil, err
	}
	return s.(engine.Sink), nil
}

func mustSink(t testing.TB, text string, b engine.Build) *Sink {
	t.Helper()
	return conformance.MustBuild[*Sink](t, engine.KindSink, "file", text, b)
}

// q quotes a path for a YAML flow mapping.
func q(s string) string { return fmt.Sprintf("%q", filepath.ToSlash(s)) }

// writeWith encodes recs with a format's own writer, independently of the
// sink under test, optionally wrapped by a compressor.
func writeWith(t testing.TB, path, formatName, compression string, mem memory.Allocator, schema *arrow.Schema, recs ...arrow.Record) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	comp, err := blob.Compress(compression, f)
	if err != nil {
		t.Fatal(err)
	}
	fm, err := format.Lookup(formatName)
	if err != nil {
		t.Fatal(err)
	}
	w, err := fm.NewWriter(comp, schema, format.WriteOptions{Mem: mem, Name: path})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range recs {
		if err := w.Write(r); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := comp.Close(); err != nil {
		t.Fatal(err)
	}
}

// readWith decodes a file with a format's own reader (schema given for
// text formats, so values compare exactly).
func readWith(t testing.TB, path, formatName, compression string, mem memory.Allocator, schema *arrow.Schema) []arrow.Record {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r, closeZ, err := blob.Decompress(compression, f)
	if err != nil {
		t.Fatal(err)
	}
	defer closeZ()
	fm, err := format.Lookup(formatName)
	if err != nil {
		t.Fatal(err)
	}
	in := format.Input{R: r, Name: path}
	if compression == compNone {
		info, _ := f.Stat()
		in.RA, in.Size = f, info.Size()
	}
	opts := format.ReadOptions{Mem: mem}
	if fm.Text {
		opts.Schema = schema
	}
	rd, err := fm.NewReader(in, opts)
	if err != nil {
		t.Fatalf("read back %s: %v", path, err)
	}
	defer rd.Close()
	var out []arrow.Record
	for {
		rec, rejects, err := rd.Next()
		if len(rejects) > 0 {
			t.Errorf("read back %s: rejects %v", path, rejects)
		}
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			conformance.Release(out)
			t.Fatalf("read back %s: %v", path, err)
		}
		out = append(out, rec)
	}
}

// sharedData returns a file under /work/shared/data as seen from this
// package, failing (never skipping) when it is missing: these files prove
// the source reads other tools' output.
func sharedData(t testing.TB, parts ...string) string {
	t.Helper()
	p := filepath.Join(append([]string{"..", "..", "..", "shared", "data"}, parts...)...)
	if _, err := os.Stat(p); err != nil {
		abs, _ := filepath.Abs(p)
		t.Fatalf("shared test data %s is missing (%v): the repository expects ../shared/data beside it", abs, err)
	}
	return p
}
