package conformance_test

import (
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/dataweaver/dataweaver/connectors/conformance"
	memconn "github.com/dataweaver/dataweaver/connectors/inmemory"
	"github.com/dataweaver/dataweaver/engine"
)

// A connector's conformance_test.go runs the suite with a harness per
// direction. The memory connector stands in for yours here: a source
// harness stores the sample rows where a source reads them (a topic, a
// table, a file) and returns how to build the source from its
// configuration; a sink harness reads back what the sink stored. (The
// functions are go test functions, so this example is compiled, not run;
// the memory connector's own tests run the same harnesses.)
func Example() {
	testSourceConformance := func(t *testing.T) {
		conformance.RunSource(t, conformance.SourceHarness{
			// Rows not acknowledged before a restart are read again (here
			// because a new source reads the whole input again); set
			// Resumes as well if your source keeps a durable position.
			AtLeastOnce: true,
			New: conformance.FromSample(nil, func(t *testing.T, in arrow.RecordBatch, b engine.Build) conformance.SourceBuilder {
				// Store in where your source reads it (publish it, insert
				// it, write a file) and return a builder; most return
				//   conformance.SourceFromConfig(t, "yours", "{url: …, topic: in}")
				// so each call builds a new source from the configuration.
				return func(b engine.Build) engine.Source {
					src := memconn.NewSource(in.Schema(), in)
					t.Cleanup(src.Release)
					return src
				}
			}),
		})
	}
	testSinkConformance := func(t *testing.T) {
		conformance.RunSink(t, conformance.SinkHarness{
			New: func(t *testing.T, b engine.Build) (engine.Sink, conformance.ReadBack) {
				sink := memconn.NewSink()
				return sink, func(t *testing.T, mem memory.Allocator) []arrow.RecordBatch {
					// your harness: consume the topic, query the table, read the file…
					recs := sink.Records()
					for _, r := range recs {
						r.Retain()
					}
					sink.Release()
					return recs
				}
			},
		})
	}
	_, _ = testSourceConformance, testSinkConformance
}
