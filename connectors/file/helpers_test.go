package file

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/dataweaver/dataweaver/connectors/conformance"
	"github.com/dataweaver/dataweaver/connectors/internal/blob/blobtest"
	"github.com/dataweaver/dataweaver/engine"

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
func writeWith(t testing.TB, path, formatName, compression string, mem memory.Allocator, schema *arrow.Schema, recs ...arrow.RecordBatch) {
	t.Helper()
	if err := os.WriteFile(path, blobtest.Encode(t, formatName, compression, mem, schema, recs...), 0o666); err != nil {
		t.Fatal(err)
	}
}

// readWith decodes a file with a format's own reader (schema given for
// text formats, so values compare exactly).
func readWith(t testing.TB, path, formatName, compression string, mem memory.Allocator, schema *arrow.Schema) []arrow.RecordBatch {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return blobtest.Decode(t, path, data, formatName, compression, mem, schema)
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
