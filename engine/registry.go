package engine

import (
	"fmt"
	"log/slog"
	"sort"
	"sync"
	"time"

	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/dataweaver/dataweaver/engine/spec"
)

// Build is what a constructor gets besides its own configuration.
type Build struct {
	Mem    memory.Allocator
	Logger *slog.Logger
	// Name is the step's name in the pipeline ("source", "stages[1].select", "sinks[0].file").
	Name string
	// BatchRows and Linger are the pipeline's batching settings; sources
	// size their batches by them.
	BatchRows int
	Linger    time.Duration
	// Env lets a constructor build nested connectors (a dead-letter sink, say).
	Env *Environment
	// DeadLetter is set when the sink being built is the pipeline's
	// dead-letter sink, whose output a later run must never replace.
	DeadLetter bool
}

// Constructors build a step from its parsed configuration.
type (
	SourceCtor func(conf *spec.Parsed, b Build) (Source, error)
	StageCtor  func(conf *spec.Parsed, b Build) (Stage, error)
	SinkCtor   func(conf *spec.Parsed, b Build) (Sink, error)
)

// Plugin kinds.
const (
	KindSource = "source"
	KindStage  = "stage"
	KindSink   = "sink"
)

// Plugin is one registered connector or stage.
type Plugin struct {
	Kind   string
	Spec   *spec.Spec
	source SourceCtor
	stage  StageCtor
	sink   SinkCtor
}

// Environment holds the registered sources, stages and sinks. Connectors
// register into the default environment from init(); tests build an
// isolated one with NewEnvironment or Clone so they never mutate globals.
type Environment struct {
	mu      sync.RWMutex
	plugins map[string]map[string]*Plugin // kind → name → plugin
}

// NewEnvironment returns an empty environment.
func NewEnvironment() *Environment {
	return &Environment{plugins: map[string]map[string]*Plugin{KindSource: {}, KindStage: {}, KindSink: {}}}
}

var defaultEnv = NewEnvironment()

// DefaultEnvironment is the environment connectors register into from init().
func DefaultEnvironment() *Environment { return defaultEnv }

// Clone returns an independent copy.
func (e *Environment) Clone() *Environment {
	e.mu.RLock()
	defer e.mu.RUnlock()
	c := NewEnvironment()
	for k, m := range e.plugins {
		for n, p := range m {
			c.plugins[k][n] = p
		}
	}
	return c
}

func (e *Environment) add(p *Plugin) error {
	if p.Spec == nil || p.Spec.Name() == "" {
		return fmt.Errorf("%w: %s registered without a spec name", ErrInvalidConfig, p.Kind)
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if _, dup := e.plugins[p.Kind][p.Spec.Name()]; dup {
		return fmt.Errorf("%w: %s %q registered twice", ErrInvalidConfig, p.Kind, p.Spec.Name())
	}
	e.plugins[p.Kind][p.Spec.Name()] = p
	return nil
}

// RegisterSource adds a source.
func (e *Environment) RegisterSource(s *spec.Spec, ctor SourceCtor) error {
	return e.add(&Plugin{Kind: KindSource, Spec: s, source: ctor})
}

// RegisterStage adds a stage.
func (e *Environment) RegisterStage(s *spec.Spec, ctor StageCtor) error {
	return e.add(&Plugin{Kind: KindStage, Spec: s, stage: ctor})
}

// RegisterSink adds a sink.
func (e *Environment) RegisterSink(s *spec.Spec, ctor SinkCtor) error {
	return e.add(&Plugin{Kind: KindSink, Spec: s, sink: ctor})
}

// RegisterSource adds a source to the default environment; it panics on a
// duplicate, which is a programming error caught at start-up.
func RegisterSource(s *spec.Spec, ctor SourceCtor) { must(defaultEnv.RegisterSource(s, ctor)) }

// RegisterStage adds a stage to the default environment.
func RegisterStage(s *spec.Spec, ctor StageCtor) { must(defaultEnv.RegisterStage(s, ctor)) }

// RegisterSink adds a sink to the default environment.
func RegisterSink(s *spec.Spec, ctor SinkCtor) { must(defaultEnv.RegisterSink(s, ctor)) }

func must(err error) {
	if err != nil {
		panic(err)
	}
}

// Lookup returns the plugin of a kind and name, or nil.
func (e *Environment) Lookup(kind, name string) *Plugin {
	e.mu.RLock()
	defer e.mu.RUnlock()
	return e.plugins[kind][name]
}

// Plugins lists every plugin of a kind ("" for all), sorted by kind then name.
func (e *Environment) Plugins(kind string) []*Plugin {
	e.mu.RLock()
	defer e.mu.RUnlock()
	var out []*Plugin
	for k, m := range e.plugins {
		if kind != "" && k != kind {
			continue
		}
		for _, p := range m {
			out = append(out, p)
		}
	}
	order := map[string]int{KindSource: 0, KindStage: 1, KindSink: 2}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Kind != out[j].Kind {
			return order[out[i].Kind] < order[out[j].Kind]
		}
		return out[i].Spec.Name() < out[j].Spec.Name()
	})
	return out
}

// NewSource builds a source from its parsed configuration.
func (p *Plugin) NewSource(conf *spec.Parsed, b Build) (Source, error) {
	if p.source == nil {
		return nil, fmt.Errorf("%w: %q is a %s, not a source", ErrInvalidConfig, p.Spec.Name(), p.Kind)
	}
	return p.source(conf, b)
}

// NewStage builds a stage from its parsed configuration.
func (p *Plugin) NewStage(conf *spec.Parsed, b Build) (Stage, error) {
	if p.stage == nil {
		return nil, fmt.Errorf("%w: %q is a %s, not a stage", ErrInvalidConfig, p.Spec.Name(), p.Kind)
	}
	return p.stage(conf, b)
}

// NewSink builds a sink from its parsed configuration.
func (p *Plugin) NewSink(conf *spec.Parsed, b Build) (Sink, error) {
	if p.sink == nil {
		return nil, fmt.Errorf("%w: %q is a %s, not a sink", ErrInvalidConfig, p.Spec.Name(), p.Kind)
	}
	return p.sink(conf, b)
}
