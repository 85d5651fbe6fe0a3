package engine

import (
	"errors"
	"fmt"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/dataweaver/dataweaver/engine/spec"
)

// Recipe is how a step was made from a registered connector, as data: the
// connector's name and its settings, from which another process with the
// same connectors registered makes the same step again. Runners that run
// steps somewhere else than where the pipeline was built (see [Runner])
// depend on it; the local engine ignores it.
type Recipe struct {
	// Connector is the name the connector registered under ("file").
	Connector string
	// Config is the step's settings: a typed configuration (the generated
	// file.SourceConfig, …) or the *yaml.Node a pipeline file gave (after
	// ${VAR} substitution and --set). A runner may replace it to make a
	// variant of the step (one split of a source, one part of a sink).
	// Secret fields (passwords, tokens) are in it as given: a runner that
	// ships it to workers must guard it as it would the pipeline file.
	Config any
	// BatchRows and Linger are the batching the step was made with
	// (Build.BatchRows, Build.Linger); zero means the defaults.
	BatchRows int
	Linger    time.Duration
}

// Settings returns the recipe's settings as the YAML node a pipeline file
// would give for them, the one form every recipe has: a runner edits it
// to make a variant of the step, or marshals it (yaml.Marshal) to make
// the step in another process.
func (r *Recipe) Settings() (*yaml.Node, error) {
	if n, ok := r.Config.(*yaml.Node); ok {
		return n, nil
	}
	n, err := spec.Encode(r.Config)
	if err != nil {
		return nil, fmt.Errorf("%w: %s settings: %w", ErrInvalidConfig, r.Connector, err)
	}
	return n, nil
}

// ErrNoRecipe is wrapped by Remake's error for a step made by Go code
// alone, which only the process that made it can run.
var ErrNoRecipe = errors.New("step has no recipe")

// Remake returns a new pipeline with p's settings and every step made
// again from its recipe, ready to run once, while p itself is untouched
// (it may still be run, or closed). b supplies what recipes leave out: the
// environment the connectors are looked up in (default
// DefaultEnvironment), the allocator and the logger; each step gets its
// own name and the batching of its recipe. The copy has no Positions and no
// Metrics, which belong to one run: the runner gives it its own.
//
// A step without a recipe fails with ErrNoRecipe; a step that fails to
// build fails Remake, and the steps already made are closed again.
func (p *Pipeline) Remake(b Build) (*Pipeline, error) {
	if b.Env == nil {
		b.Env = DefaultEnvironment()
	}
	q := *p
	q.Positions, q.Metrics, q.closed = nil, nil, false
	q.Source.Source, q.DeadLetter = nil, nil
	q.Stages = append([]StageStep(nil), p.Stages...)
	q.Sinks = append([]SinkStep(nil), p.Sinks...)
	var errs []error
	fail := func(name string, err error) { errs = append(errs, fmt.Errorf("%s: %w", name, err)) }
	if src, err := remake(p.Source.Recipe, p.Source.Name, b, b.Env.BuildSource); err != nil {
		fail(p.Source.Name, err)
	} else {
		q.Source.Source = src
	}
	for i := range q.Stages {
		q.Stages[i].Stage = nil
		if st, err := remake(q.Stages[i].Recipe, q.Stages[i].Name, b, b.Env.BuildStage); err != nil {
			fail(q.Stages[i].Name, err)
		} else {
			q.Stages[i].Stage = st
		}
	}
	for i := range q.Sinks {
		q.Sinks[i].Sink = nil
		if s, err := remake(q.Sinks[i].Recipe, q.Sinks[i].Name, b, b.Env.BuildSink); err != nil {
			fail(q.Sinks[i].Name, err)
		} else {
			q.Sinks[i].Sink = s
		}
	}
	// A pipeline described by recipes alone (the Beam adapter's plan) has
	// the dead-letter sink's recipe and not yet the sink.
	if p.DeadLetter != nil || p.DeadLetterRecipe != nil {
		b := b
		b.DeadLetter = true
		if s, err := remake(p.DeadLetterRecipe, deadLetterName, b, b.Env.BuildSink); err != nil {
			fail(deadLetterName, err)
		} else {
			q.DeadLetter = s
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(append(errs, q.Close())...)
	}
	return &q, nil
}

// remake makes one step from its recipe with the environment's typed
// builder for its kind.
func remake[T any](r *Recipe, name string, b Build, build func(string, any, Build) (T, error)) (T, error) {
	if r == nil {
		var zero T
		return zero, fmt.Errorf("%w: it was made by Go code, not from a registered connector, so it runs only in the process that made it", ErrNoRecipe)
	}
	b.Name, b.BatchRows, b.Linger = name, r.BatchRows, r.Linger
	if b.Logger != nil {
		b.Logger = b.Logger.With("step", name)
	}
	return build(r.Connector, r.Config, b)
}
