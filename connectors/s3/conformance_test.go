package s3

import (
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/dataweaver/dataweaver/connectors/conformance"
	"github.com/dataweaver/dataweaver/connectors/internal/blob"
	"github.com/dataweaver/dataweaver/connectors/internal/s3test"
	"github.com/dataweaver/dataweaver/engine"
	"github.com/dataweaver/dataweaver/format"
)

// variants are the object layouts run through the conformance suite: every
// format, and the text formats compressed both ways.
var variants = []struct {
	name, format, ext, compression string
}{
	{"csv", "csv", ".csv", blob.CompNone},
	{"csv.gz", "csv", ".csv.gz", blob.CompGzip},
	{"jsonl", "jsonl", ".jsonl", blob.CompNone},
	{"jsonl.zst", "jsonl", ".jsonl.zst", blob.CompZstd},
	{"parquet", "parquet", ".parquet", blob.CompNone},
	{"arrow", "arrow", ".arrows", blob.CompNone},
	{"avro", "avro", ".avro", blob.CompNone},
}

func TestSourceConformance(t *testing.T) {
	srv := s3test.Shared(t)
	client := srv.Client()
	for _, v := range variants {
		t.Run(v.name, func(t *testing.T) {
			bucket := s3test.Bucket(t)
			n := 0
			conformance.RunSource(t, conformance.SourceHarness{
				// An object is read again from its start by a new source;
				// positions live in the engine's store, tested below.
				AtLeastOnce: true,
				New: conformance.FromSample(nil, func(t *testing.T, in arrow.RecordBatch, b engine.Build) conformance.SourceBuilder {
					n++
					key := "case" + string(rune('a'+n)) + "/input" + v.ext
					put(t, client, bucket, key, encode(t, v.format, v.compression, b.Mem, in.Schema(), in))
					conf := "{" + srv.Config(bucket) + ", path: " + key
					if fm, _ := format.Lookup(v.format); fm.Text {
						// Inference cannot know ts is UTC microseconds; the
						// declared schema makes the comparison exact.
						conf += ", schema: " + conformance.SchemaYAML(in.Schema())
					}
					return conformance.SourceFromConfig(t, "s3", conf+"}")
				}),
			})
		})
	}
}

func TestSinkConformance(t *testing.T) {
	srv := s3test.Shared(t)
	client := srv.Client()
	for _, v := range variants {
		t.Run(v.name, func(t *testing.T) {
			bucket := s3test.Bucket(t)
			n := 0
			conformance.RunSink(t, conformance.SinkHarness{
				New: func(t *testing.T, b engine.Build) (engine.Sink, conformance.ReadBack) {
					n++
					prefix := "case" + string(rune('a'+n)) + "/"
					sink := conformance.MustBuild[engine.Sink](t, engine.KindSink, "s3",
						"{"+srv.Config(bucket)+", path: "+prefix+", format: "+v.format+", compression: "+compressionOf(v.compression, v.format)+"}", b)
					return sink, func(t *testing.T, mem memory.Allocator) []arrow.RecordBatch {
						if left := uploads(t, client, bucket); len(left) > 0 {
							t.Errorf("unfinished uploads left behind: %v", left)
						}
						return readParts(t, client, bucket, prefix, v.format, v.compression, mem, conformance.SampleSchema)
					}
				},
			})
		})
	}
}

// compressionOf is the sink's compression field for a variant.
func compressionOf(outer, formatName string) string {
	if fm, _ := format.Lookup(formatName); fm.Text {
		return outer
	}
	return blob.CompAuto
}
