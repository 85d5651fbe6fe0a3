package beamrun

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/dataweaver/dataweaver/engine"
)

// Plan is a pipeline as data: each step's recipe (connector, settings as
// YAML, batching, policies) and the pipeline's own settings, which is what
// a Beam worker needs to make the pipeline again. It travels inside the
// Beam pipeline as JSON in a DoFn's field: Beam serialises a DoFn's
// exported fields, and the Go values a built pipeline holds (open files,
// compiled modules, a *yaml.Node behind an interface) do not survive that.
type Plan struct {
	Name            string
	Buffer          int           `json:",omitempty"`
	InFlight        int           `json:",omitempty"`
	CheckpointEvery time.Duration `json:",omitempty"`
	MemoryBudget    int64         `json:",omitempty"`
	Source          Step
	Stages          []Step `json:",omitempty"`
	Sinks           []Step
	DeadLetter      *Step `json:",omitempty"`
}

// Step is one step of a Plan: its engine.Recipe with the settings as YAML
// text, and the step's policies.
type Step struct {
	Name       string
	Origin     string `json:",omitempty"`
	Connector  string
	Settings   string
	BatchRows  int                `json:",omitempty"`
	Linger     time.Duration      `json:",omitempty"`
	OnError    engine.Policy      `json:",omitempty"`
	MaxRejects engine.RejectLimit `json:",omitempty"`
	// Stages only.
	Workers   int  `json:",omitempty"`
	Unordered bool `json:",omitempty"`
	// Sinks only.
	Retry engine.Retry `json:",omitempty"`
}

// NewPlan takes the recipes of p's steps. A step made by Go code alone has
// no recipe and cannot run on Beam's workers: the error wraps
// engine.ErrNoRecipe and names it.
func NewPlan(p *engine.Pipeline) (*Plan, error) {
	pl := &Plan{Name: p.Name, Buffer: p.Buffer, InFlight: p.InFlight,
		CheckpointEvery: p.CheckpointEvery, MemoryBudget: p.MemoryBudget}
	var errs []error
	step := func(name, origin string, r *engine.Recipe) Step {
		s := Step{Name: name, Origin: origin}
		if r == nil {
			errs = append(errs, fmt.Errorf("%s: %w: it was made by Go code, so it runs only in the process that made it", name, engine.ErrNoRecipe))
			return s
		}
		n, err := r.Settings()
		if err == nil {
			var text []byte
			if text, err = yaml.Marshal(n); err == nil {
				s.Settings = string(text)
			}
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", name, err))
		}
		s.Connector, s.BatchRows, s.Linger = r.Connector, r.BatchRows, r.Linger
		return s
	}
	pl.Source = step(p.Source.Name, p.Source.Origin, p.Source.Recipe)
	pl.Source.OnError, pl.Source.MaxRejects = p.Source.OnError, p.Source.MaxRejects
	for _, st := range p.Stages {
		s := step(st.Name, st.Origin, st.Recipe)
		s.OnError, s.MaxRejects, s.Workers, s.Unordered = st.OnError, st.MaxRejects, st.Workers, st.Unordered
		pl.Stages = append(pl.Stages, s)
	}
	for _, sk := range p.Sinks {
		s := step(sk.Name, sk.Origin, sk.Recipe)
		s.OnError, s.MaxRejects, s.Retry = sk.OnError, sk.MaxRejects, sk.Retry
		pl.Sinks = append(pl.Sinks, s)
	}
	if p.DeadLetter != nil {
		s := step("dead_letter", "", p.DeadLetterRecipe)
		pl.DeadLetter = &s
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return pl, nil
}

// Encode returns the plan as JSON, DecodePlan reads it back.
func (pl *Plan) Encode() (string, error) {
	b, err := json.Marshal(pl)
	return string(b), err
}

// DecodePlan reads a plan written by Encode.
func DecodePlan(s string) (*Plan, error) {
	var pl Plan
	if err := json.Unmarshal([]byte(s), &pl); err != nil {
		return nil, fmt.Errorf("beamrun: decoding the pipeline plan: %w", err)
	}
	return &pl, nil
}

// Pipeline makes the plan's pipeline, every step built afresh from its
// recipe with b's environment, allocator and logger (engine.Pipeline.Remake
// does the building, so a step fails here as it would in weave run).
func (pl *Plan) Pipeline(b engine.Build) (*engine.Pipeline, error) {
	recipe := func(s Step) (*engine.Recipe, error) {
		var n yaml.Node
		if err := yaml.Unmarshal([]byte(s.Settings), &n); err != nil {
			return nil, fmt.Errorf("%s: settings: %w", s.Name, err)
		}
		node := &n
		if n.Kind == yaml.DocumentNode && len(n.Content) == 1 {
			node = n.Content[0]
		}
		return &engine.Recipe{Connector: s.Connector, Config: node, BatchRows: s.BatchRows, Linger: s.Linger}, nil
	}
	p := &engine.Pipeline{Name: pl.Name, Buffer: pl.Buffer, InFlight: pl.InFlight,
		CheckpointEvery: pl.CheckpointEvery, MemoryBudget: pl.MemoryBudget, Logger: b.Logger, Mem: b.Mem}
	var err error
	p.Source = engine.SourceStep{Name: pl.Source.Name, Origin: pl.Source.Origin, OnError: pl.Source.OnError, MaxRejects: pl.Source.MaxRejects}
	if p.Source.Recipe, err = recipe(pl.Source); err != nil {
		return nil, err
	}
	for _, s := range pl.Stages {
		st := engine.StageStep{Name: s.Name, Origin: s.Origin, OnError: s.OnError, MaxRejects: s.MaxRejects, Workers: s.Workers, Unordered: s.Unordered}
		if st.Recipe, err = recipe(s); err != nil {
			return nil, err
		}
		p.Stages = append(p.Stages, st)
	}
	for _, s := range pl.Sinks {
		sk := engine.SinkStep{Name: s.Name, Origin: s.Origin, OnError: s.OnError, MaxRejects: s.MaxRejects, Retry: s.Retry}
		if sk.Recipe, err = recipe(s); err != nil {
			return nil, err
		}
		p.Sinks = append(p.Sinks, sk)
	}
	if pl.DeadLetter != nil {
		if p.DeadLetterRecipe, err = recipe(*pl.DeadLetter); err != nil {
			return nil, err
		}
	}
	return p.Remake(b)
}
