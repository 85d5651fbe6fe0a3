package file

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/dataweaver/dataweaver/connectors/conformance"
	"github.com/dataweaver/dataweaver/engine"
	"github.com/dataweaver/dataweaver/format"
)

// variants are the file layouts run through the conformance suite: every
// format that has landed, and the text formats compressed both ways.
var variants = []struct {
	name, format, ext, compression string
}{
	{"csv", "csv", ".csv", compNone},
	{"csv.gz", "csv", ".csv.gz", compGzip},
	{"jsonl", "jsonl", ".jsonl", compNone},
	{"jsonl.zst", "jsonl", ".jsonl.zst", compZstd},
	{"parquet", "parquet", ".parquet", compNone},
	{"arrow", "arrow", ".arrows", compNone},
	{"avro", "avro", ".avro", compNone},
}

// TestFormatsRegistered fails when a format this package is tested with is
// missing, so a variant cannot silently drop out of the suite.
func TestFormatsRegistered(t *testing.T) {
	for _, v := range variants {
		if _, err := format.Lookup(v.format); err != nil {
			t.Errorf("%s: %v", v.name, err)
		}
	}
}

func TestSourceConformance(t *testing.T) {
	for _, v := range variants {
		t.Run(v.name, func(t *testing.T) {
			conformance.RunSource(t, conformance.SourceHarness{
				// A file is read again from its start by a new source.
				AtLeastOnce: true,
				New: conformance.FromSample(nil, func(t *testing.T, in arrow.RecordBatch, b engine.Build) conformance.SourceBuilder {
					path := filepath.Join(t.TempDir(), "input"+v.ext)
					writeWith(t, path, v.format, v.compression, b.Mem, in.Schema(), in)
					conf := "{path: " + q(path)
					fm, _ := format.Lookup(v.format)
					if fm.Text {
						// Inference cannot know ts is UTC microseconds; the
						// declared schema makes the comparison exact.
						conf += ", schema: " + conformance.SchemaYAML(in.Schema())
					}
					return conformance.SourceFromConfig(t, "file", conf+"}")
				}),
			})
		})
	}
}

func TestSinkConformance(t *testing.T) {
	for _, v := range variants {
		t.Run(v.name, func(t *testing.T) {
			conformance.RunSink(t, conformance.SinkHarness{
				New: func(t *testing.T, b engine.Build) (engine.Sink, conformance.ReadBack) {
					dir := t.TempDir()
					path := filepath.Join(dir, "out"+v.ext)
					sink := mustSink(t, "{path: "+q(path)+"}", b)
					return sink, func(t *testing.T, mem memory.Allocator) []arrow.RecordBatch {
						if left := tempFiles(t, dir); len(left) > 0 {
							t.Errorf("temporary files left behind: %v", left)
						}
						return readWith(t, path, v.format, v.compression, mem, conformance.SampleSchema)
					}
				},
			})
		})
	}
}

func tempFiles(t *testing.T, dir string) []string {
	t.Helper()
	all, _ := filepath.Glob(filepath.Join(dir, ".*"))
	var out []string
	for _, f := range all {
		if strings.Contains(f, ".weave-tmp-") {
			out = append(out, f)
		}
	}
	return out
}
