package wasm_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"time"

	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/dataweaver/dataweaver/connectors/file"
	"github.com/dataweaver/dataweaver/connectors/wasm"
	"github.com/dataweaver/dataweaver/engine"
)

// A pipeline assembled in Go from typed configurations: a CSV file, a Wasm
// filter keeping orders of 100 or more, a JSON Lines file. Each Build goes
// through the same spec as a pipeline file's step, so defaults and error
// messages are the same; no blank import of connectors/all is needed.
func ExampleStageConfig() {
	dir, err := os.MkdirTemp("", "weave-example-")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	in, out := filepath.Join(dir, "orders.csv"), filepath.Join(dir, "big.jsonl")
	csv := "id,country,amount\n1,SE,195.64\n2,US,31.43\n3,DE,263.98\n"
	if err := os.WriteFile(in, []byte(csv), 0o644); err != nil {
		log.Fatal(err)
	}

	// A checked allocator, to show below that every Arrow buffer was freed.
	mem := memory.NewCheckedAllocator(memory.DefaultAllocator)
	b := engine.Build{Mem: mem}
	src, err := file.SourceConfig{Path: in}.Build(b)
	if err != nil {
		log.Fatal(err)
	}
	filter, err := wasm.StageConfig{
		Path:   "../../transforms/c/filter/filter.wasm",
		Config: map[string]any{"column": "amount", "op": ">=", "value": 100},
		// No limit per batch (the default is 10s): this example runs as a
		// test, on machines that may be very busy.
		Timeout: new(time.Duration(0)),
	}.Build(b)
	if err != nil {
		log.Fatal(err)
	}
	sink, err := file.SinkConfig{Path: out}.Build(b)
	if err != nil {
		log.Fatal(err)
	}

	p := &engine.Pipeline{
		Name:   "big-orders",
		Source: engine.SourceStep{Name: "orders", Source: src},
		Stages: []engine.StageStep{{Name: "at-least-100", Stage: filter}},
		Sinks:  []engine.SinkStep{{Name: "big", Sink: sink}},
		Mem:    mem,
	}
	metrics, err := p.Run(context.Background())
	if err != nil {
		log.Fatal(err)
	}
	written, err := os.ReadFile(out)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Print(string(written))
	st := metrics.Step("at-least-100")
	fmt.Printf("%s: %d rows in, %d out; Arrow bytes still allocated: %d\n", st.Name, st.RowsIn.Load(), st.RowsOut.Load(), mem.CurrentAlloc())
	// Output:
	// {"id":1,"country":"SE","amount":195.64}
	// {"id":3,"country":"DE","amount":263.98}
	// at-least-100: 3 rows in, 2 out; Arrow bytes still allocated: 0
}
