package position_test

import (
	"context"
	"fmt"
	"os"

	"github.com/dataweaver/dataweaver/connectors/discard"
	"github.com/dataweaver/dataweaver/connectors/generate"
	"github.com/dataweaver/dataweaver/engine"
	"github.com/dataweaver/dataweaver/engine/position"
)

// A pipeline given a position store resumes where its last run stopped:
// the first run stops after 1,000 rows (Limit) and saves its position, the
// second reads the other 1,500. weave run keeps the store in .weave-state
// beside the pipeline file.
func Example() {
	dir, err := os.MkdirTemp("", "positions")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer os.RemoveAll(dir)
	run := func(limit int64) {
		src, err := generate.SourceConfig{Rows: new(2500), Preset: "orders"}.Build(engine.Build{})
		if err != nil {
			fmt.Println(err)
			return
		}
		sink := discard.New()
		p := &engine.Pipeline{
			Name:      "orders",
			Source:    engine.SourceStep{Name: "orders", Source: src},
			Sinks:     []engine.SinkStep{{Name: "nowhere", Sink: sink}},
			Positions: position.OpenDir(dir), // Run closes it
			Limit:     limit,
		}
		m, err := p.Run(context.Background())
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Printf("read %d rows; started at %s, saved %s\n", sink.Rows(), m.StartPosition, m.EndPosition())
	}
	run(1000)
	run(0)

	store := position.OpenDir(dir)
	defer store.Close()
	rec, err := store.Load(context.Background(), position.Key{Pipeline: "orders", Step: "orders"})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(rec.Describe(), "finished:", rec.Finished)
	// Output:
	// read 1000 rows; started at the start (no saved position), saved row 1000 (seed 1)
	// read 1500 rows; started at row 1000 (seed 1), saved row 2500 (seed 1)
	// row 2500 (seed 1) finished: true
}
