package engine

import (
	"fmt"
	"log/slog"

	"github.com/apache/arrow-go/v18/arrow/memory"
	"gopkg.in/yaml.v3"

	"github.com/dataweaver/dataweaver/engine/spec"
)

// DefaultBatchRows is the batch size a step built from Go aims for when
// Build.BatchRows is unset; a pipeline file's batch.rows defaults to it too.
// Everything the engine and the readers hold in flight is counted in
// batches, so it sets the peak memory: at 16,384 rows W1 (JSON Lines
// through four Wasm stages) peaks at about 250 MiB where 65,536 reached
// 440, at equal CPU on the file paths, Kafka and NATS; a bulk load into
// PostgreSQL (COPY) spends about 10% more CPU per row and may set
// batch.rows: 65536 (BENCHMARKS.md "W1 peak memory", RATIONALE.md).
const DefaultBatchRows = 16384

// ParseConfig validates a typed configuration (a struct with `weave` tags,
// such as the generated file.SourceConfig) against the plugin's spec, as
// if its settings had been written in a pipeline file at path: zero fields
// take their defaults, and a wrong value gets the message the file would.
// The error, if any, wraps ErrInvalidConfig and the spec.Errors it lists.
//
// conf may also be the *yaml.Node of a step's settings in a pipeline file
// (as a Recipe holds it), which is parsed as it is.
func (p *Plugin) ParseConfig(conf any, path string) (*spec.Parsed, error) {
	node, ok := conf.(*yaml.Node)
	if !ok {
		var err error
		if node, err = spec.Encode(conf); err != nil {
			return nil, fmt.Errorf("%w: %s %q: %w", ErrInvalidConfig, p.Kind, p.Spec.Name(), err)
		}
	}
	parsed, errs := p.Spec.Parse(node, "", path)
	if len(errs) > 0 {
		return nil, problems(errs)
	}
	return parsed, nil
}

// problems is a failed ParseConfig: the spec's messages as they are,
// recognisable as ErrInvalidConfig and as spec.Errors.
type problems spec.Errors

func (e problems) Error() string   { return spec.Errors(e).Error() }
func (e problems) Unwrap() []error { return []error{ErrInvalidConfig, spec.Errors(e)} }

// typed looks up the plugin of a kind and name and parses conf for it.
func (e *Environment) typed(kind, name string, conf any, b *Build) (*Plugin, *spec.Parsed, error) {
	p := e.Lookup(kind, name)
	if p == nil {
		return nil, nil, fmt.Errorf("%w: no %s %q registered", ErrInvalidConfig, kind, name)
	}
	if b.Name == "" {
		b.Name = name
	}
	if b.Mem == nil {
		b.Mem = memory.DefaultAllocator
	}
	if b.Logger == nil {
		b.Logger = slog.Default().With("step", b.Name)
	}
	if b.BatchRows <= 0 {
		b.BatchRows = DefaultBatchRows
	}
	if b.Env == nil {
		b.Env = e
	}
	parsed, err := p.ParseConfig(conf, b.Name)
	return p, parsed, err
}

// BuildSource builds the source registered as name from a typed
// configuration, through the same spec and constructor as a pipeline file:
// the connector packages' generated SourceConfig.Build methods call it.
// Unset fields of b get defaults: the Go allocator, slog.Default, the
// connector's name as step name (and as the path in error messages),
// DefaultBatchRows, and e as the environment.
func (e *Environment) BuildSource(name string, conf any, b Build) (Source, error) {
	p, parsed, err := e.typed(KindSource, name, conf, &b)
	if err != nil {
		return nil, err
	}
	return p.NewSource(parsed, b)
}

// BuildStage builds the stage registered as name from a typed
// configuration; see BuildSource.
func (e *Environment) BuildStage(name string, conf any, b Build) (Stage, error) {
	p, parsed, err := e.typed(KindStage, name, conf, &b)
	if err != nil {
		return nil, err
	}
	return p.NewStage(parsed, b)
}

// BuildSink builds the sink registered as name from a typed configuration;
// see BuildSource.
func (e *Environment) BuildSink(name string, conf any, b Build) (Sink, error) {
	p, parsed, err := e.typed(KindSink, name, conf, &b)
	if err != nil {
		return nil, err
	}
	return p.NewSink(parsed, b)
}
