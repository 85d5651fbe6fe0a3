package discard_test

import (
	"context"
	"fmt"

	"github.com/dataweaver/dataweaver/connectors/discard"
	"github.com/dataweaver/dataweaver/connectors/generate"
	"github.com/dataweaver/dataweaver/engine"
)

// A dry run: read every row of a source and write nothing, to check that
// the input is readable (or to time a source and its stages alone). The
// sink counts what reached it: 16,384 rows a batch by default.
func Example() {
	src, err := generate.SourceConfig{Preset: "orders", Rows: new(100_000)}.Build(engine.Build{})
	if err != nil {
		fmt.Println(err)
		return
	}
	sink := discard.New()
	p := &engine.Pipeline{
		Source: engine.SourceStep{Name: "orders", Source: src},
		Sinks:  []engine.SinkStep{{Name: "nowhere", Sink: sink}},
	}
	if _, err := p.Run(context.Background()); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(sink.Rows(), "rows in", sink.Batches(), "batches")
	// Output: 100000 rows in 7 batches
}
