package engine_test

import (
	"errors"
	"reflect"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/dataweaver/dataweaver/engine"
	"github.com/dataweaver/dataweaver/engine/spec"
)

type countConf struct {
	Rows  *int   `weave:"rows"`
	Label string `weave:"label"`
}

// TestBuildTyped: BuildSource/Stage/Sink parse a typed configuration with
// the plugin's spec and hand the result to its constructor, with b's
// unset fields defaulted; a refused configuration never reaches the
// constructor and wraps ErrInvalidConfig and the spec's problems.
func TestBuildTyped(t *testing.T) {
	env := engine.NewEnvironment()
	s := spec.New("count").Field(spec.Int("rows").Default(10), spec.String("label").OneOf("a", "b").Optional())
	var got *spec.Parsed
	var gotB engine.Build
	ctor := func(conf *spec.Parsed, b engine.Build) (engine.Sink, error) {
		got, gotB = conf, b
		return nil, errors.New("built")
	}
	if err := env.RegisterSink(s, ctor); err != nil {
		t.Fatal(err)
	}

	if _, err := env.BuildSink("count", countConf{Rows: new(0)}, engine.Build{}); err == nil || err.Error() != "built" {
		t.Fatalf("constructor not reached: %v", err)
	}
	if want := map[string]any{"rows": 0}; !reflect.DeepEqual(got.Values(), want) {
		t.Errorf("parsed %v, want %v", got.Values(), want)
	}
	if gotB.Name != "count" || gotB.Mem != memory.DefaultAllocator || gotB.Logger == nil || gotB.BatchRows != engine.DefaultBatchRows || gotB.Env != env {
		t.Errorf("defaults not applied: %+v", gotB)
	}

	mem := memory.NewGoAllocator()
	if _, err := env.BuildSink("count", countConf{}, engine.Build{Name: "sinks[0]", Mem: mem, BatchRows: 5}); err == nil {
		t.Fatal("constructor error lost")
	}
	if got.Int("rows") != 10 || gotB.Name != "sinks[0]" || gotB.Mem != mem || gotB.BatchRows != 5 {
		t.Errorf("rows %d (want the default 10), build %+v", got.Int("rows"), gotB)
	}

	got = nil
	_, err := env.BuildSink("count", countConf{Label: "c"}, engine.Build{Name: "out"})
	var problems spec.Errors
	if !errors.Is(err, engine.ErrInvalidConfig) || !errors.As(err, &problems) || got != nil {
		t.Fatalf("got %v (constructor reached: %v), want an ErrInvalidConfig with spec.Errors", err, got != nil)
	}
	if want := `out.label: "c" is not one of: a, b`; err.Error() != want {
		t.Errorf("got %q, want %q", err, want)
	}

	for _, err := range []error{
		func() error { _, err := env.BuildSource("count", countConf{}, engine.Build{}); return err }(),
		func() error { _, err := env.BuildStage("nope", countConf{}, engine.Build{}); return err }(),
		func() error { _, err := env.BuildSink("count", 42, engine.Build{}); return err }(),
	} {
		if !errors.Is(err, engine.ErrInvalidConfig) {
			t.Errorf("%v: not an ErrInvalidConfig", err)
		}
	}
}
