package conformance

import (
	"context"
	"log/slog"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/memory"
	"gopkg.in/yaml.v3"

	"github.com/dataweaver/dataweaver/engine"
	"github.com/dataweaver/dataweaver/engine/config"
	"github.com/dataweaver/dataweaver/engine/position"
)

// BuildStep decodes a step's configuration (YAML text) through the spec of the
// plugin registered as kind/name in the default environment, as the
// pipeline loader does, and builds it. Spec problems come back as the
// error, so tests can check them; text that is not YAML fails t.
func BuildStep(t testing.TB, kind, name, text string, b engine.Build) (any, error) {
	t.Helper()
	var doc yaml.Node
	if err := yaml.Unmarshal([]byte(text), &doc); err != nil {
		t.Fatalf("test YAML %q: %v", text, err)
	}
	p := engine.DefaultEnvironment().Lookup(kind, name)
	if p == nil {
		t.Fatalf("no %s registered as %q", kind, name)
	}
	conf, errs := p.Spec.Parse(doc.Content[0], "p.yaml", kind+"."+name)
	if len(errs) > 0 {
		return nil, errs
	}
	switch kind {
	case engine.KindSource:
		return p.NewSource(conf, b)
	case engine.KindStage:
		return p.NewStage(conf, b)
	default:
		return p.NewSink(conf, b)
	}
}

// MustBuild is BuildStep for configurations that must build: any error
// fails t. T is what the test needs the step as, usually the connector's
// own type (*Source, *Sink) so it can reach unexported methods.
func MustBuild[T any](t testing.TB, kind, name, text string, b engine.Build) T {
	t.Helper()
	s, err := BuildStep(t, kind, name, text, b)
	if err != nil {
		t.Fatalf("build %s %s from %s: %v", kind, name, text, err)
	}
	step, ok := s.(T)
	if !ok {
		t.Fatalf("%s %s built a %T, not a %T", kind, name, s, step)
	}
	return step
}

// RunPipeline parses, builds and runs a pipeline file's text with the
// default environment, failing t on any error. It keeps no positions.
func RunPipeline(t testing.TB, mem memory.Allocator, text string) *engine.Metrics {
	t.Helper()
	return RunPipelineIn(t, mem, text, "")
}

// RunPipelineIn is RunPipeline keeping the pipeline's positions in the
// state directory state (none when ""), as weave run --state does. The
// pipeline is named "t" unless its text says otherwise.
func RunPipelineIn(t testing.TB, mem memory.Allocator, text, state string) *engine.Metrics {
	t.Helper()
	opts := config.Options{Mem: mem, Logger: slog.New(slog.DiscardHandler), State: state}
	f, err := config.Parse([]byte(text), "t.yaml", opts)
	if err != nil {
		t.Fatalf("parse:\n%s\n%v", text, err)
	}
	p, err := config.Build(f, opts)
	if err != nil {
		t.Fatal(err)
	}
	m, err := p.Run(context.Background())
	if err != nil {
		t.Fatalf("run:\n%s\n%v", text, err)
	}
	return m
}

// SavedPosition is the one position pipeline has saved in the state
// directory state; it fails t unless there is exactly one.
func SavedPosition(t testing.TB, state, pipeline string) position.Record {
	t.Helper()
	s := position.OpenDir(state)
	defer s.Close()
	entries, err := s.List(context.Background(), pipeline)
	if err != nil || len(entries) != 1 {
		t.Fatalf("positions of %s in %s: %v, %v", pipeline, state, entries, err)
	}
	return entries[0].Record
}
