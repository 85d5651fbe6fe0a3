package engine_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/dataweaver/dataweaver/connectors/inmemory"
	"github.com/dataweaver/dataweaver/engine"
	"github.com/dataweaver/dataweaver/engine/spec"
)

// TestRemake: a step with a recipe is made again from it, a typed
// configuration as well as a file's settings (ExampleRunner), and a step
// made by Go code alone is refused by name with ErrNoRecipe, the refusal a
// runner that runs steps elsewhere gives.
func TestRemake(t *testing.T) {
	sinkRecipe := &engine.Recipe{Connector: "memory", Config: inmemory.SinkConfig{Name: "remade"}}
	p := &engine.Pipeline{
		Name:   "remake",
		Source: engine.SourceStep{Name: "words", Source: &wordSource{lines: []string{"a", "b", "c"}}},
		Sinks:  []engine.SinkStep{{Name: "out", Sink: inmemory.NewSink(), Recipe: sinkRecipe}},
	}
	t.Cleanup(func() { _ = p.Close() })
	_, err := p.Remake(engine.Build{})
	if !errors.Is(err, engine.ErrNoRecipe) || !strings.HasPrefix(err.Error(), "words: ") {
		t.Fatalf("Remake of a Go-made source: %v, want ErrNoRecipe naming the step", err)
	}

	p.Source.Recipe = &engine.Recipe{Connector: "memory", Config: inmemory.SourceConfig{
		Schema: []spec.KV{{Key: "text", Value: "utf8"}},
		Rows:   []any{map[string]any{"text": "x"}, map[string]any{"text": "y"}},
	}}
	q, err := p.Remake(engine.Build{})
	if err != nil {
		t.Fatal(err)
	}
	m, err := engine.Local{}.Run(context.Background(), q)
	if err != nil {
		t.Fatal(err)
	}
	sink := inmemory.Lookup("remade")
	if got := sink.Rows(); got != 2 || m.Steps[0].RowsOut.Load() != 2 {
		t.Fatalf("the remade pipeline wrote %d rows (source: %d), want the recipe's 2", got, m.Steps[0].RowsOut.Load())
	}
	sink.Release()
}
