package cli_test

import (
	"context"
	"strings"
	"testing"

	"github.com/dataweaver/dataweaver/engine"
	"github.com/dataweaver/dataweaver/internal/cli"
)

// recorder is a Runner that notes what it was given and lets the local
// engine run it.
type recorder struct{ connectors []string }

func (r *recorder) Run(ctx context.Context, p *engine.Pipeline) (*engine.Metrics, error) {
	r.connectors = append(r.connectors, p.Source.Recipe.Connector)
	for _, s := range p.Stages {
		r.connectors = append(r.connectors, s.Recipe.Connector)
	}
	for _, s := range p.Sinks {
		r.connectors = append(r.connectors, s.Recipe.Connector)
	}
	return engine.Local{}.Run(ctx, p)
}

// TestRunThroughRunner: weave run hands the pipeline to Options.Runner,
// with a recipe for every step, and prints the summary of what it returns.
func TestRunThroughRunner(t *testing.T) {
	rec := &recorder{}
	r := run(t, cli.Options{Runner: rec}, "run", writeFile(t, "p.yaml", goodPipeline))
	if r.code != 0 {
		t.Fatalf("exit code %d; stderr:\n%s", r.code, r.stderr)
	}
	if got, want := strings.Join(rec.connectors, " "), "counter pass collect"; got != want {
		t.Errorf("the runner got steps of %q, want %q", got, want)
	}
	if !strings.Contains(r.stderr, "sinks[0].collect") {
		t.Errorf("no summary:\n%s", r.stderr)
	}
}
