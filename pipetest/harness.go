package pipetest

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"

	connmem "github.com/dataweaver/dataweaver/connectors/inmemory"
	"github.com/dataweaver/dataweaver/engine"
	"github.com/dataweaver/dataweaver/engine/config"
	"github.com/dataweaver/dataweaver/engine/spec"
)

// Options say how a pipeline file is read and run. The zero value uses
// the default environment, the process environment for ${VAR}, the Go
// allocator, and discards the pipeline's logs.
type Options struct {
	// Env resolves connector and stage names; default engine.DefaultEnvironment().
	Env *engine.Environment
	// Lookup reads ${VAR} values for the pipeline file; default os.LookupEnv.
	Lookup func(string) (string, bool)
	// Set holds "path=value" overrides, as weave run --set takes them.
	Set []string
	// Mem allocates every Arrow buffer of the run; pass a
	// memory.CheckedAllocator (connectors/conformance.Checked) to make a
	// test fail on a leak.
	Mem memory.Allocator
	// Logger receives the pipeline's logs; nil discards them.
	Logger *slog.Logger
}

// Pipeline is a pipeline file read for testing: its stages are built anew
// for every Run, its source and sinks are never built at all.
type Pipeline struct {
	file *config.File
	opts Options
}

// Load reads and checks the pipeline file at path, as weave validate does,
// without building any step. Its errors are config.Load's: every problem,
// with file and line, wrapping engine.ErrInvalidConfig.
func Load(path string, opts Options) (*Pipeline, error) {
	f, err := config.ParseFile(path, opts.config())
	if err != nil {
		return nil, err
	}
	return &Pipeline{file: f, opts: opts}, nil
}

func (o Options) config() config.Options {
	logger := o.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return config.Options{Env: o.Env, Lookup: o.Lookup, Set: o.Set, Logger: logger, Mem: o.Mem, NoPositions: true}
}

// Name is the pipeline's name.
func (p *Pipeline) Name() string { return p.file.Name }

// Steps names the steps whose output a Result holds, in pipeline order:
// the source, each stage and each sink, named as weave run's summary
// names them ("source.file", "stages[1].wasm", or the step's name:).
func (p *Pipeline) Steps() []string {
	names := []string{p.file.Source.Name}
	for _, s := range p.file.Stages {
		names = append(names, s.Name)
	}
	for _, s := range p.file.Sinks {
		names = append(names, s.Name)
	}
	return names
}

// HasDeadLetter reports whether the pipeline file has a dead_letter sink:
// without one, no row ends up in Result.DeadLetters.
func (p *Pipeline) HasDeadLetter() bool { return p.file.DeadLetter != nil }

// Input builds the source a test run reads in place of the pipeline's own.
// b is what the pipeline's source would have been built with (its name,
// batch size, allocator).
type Input func(b engine.Build) (engine.Source, error)

// Records serves recs, in order, through a memory source of schema (see
// connectors/inmemory.NewSource). The records are retained until the run's
// Result is released.
func Records(schema *arrow.Schema, recs ...arrow.RecordBatch) Input {
	return func(engine.Build) (engine.Source, error) { return connmem.NewSource(schema, recs...), nil }
}

// Names of the stand-ins registered in the run's private environment;
// no pipeline file can name them, so they never clash with a connector.
const (
	inputPlugin  = "pipetest input"
	outputPlugin = "pipetest output"
)

// Run builds the pipeline with in as its source, an in-memory sink in place
// of every sink and of the dead-letter sink, and the file's real stages
// (Wasm included), and runs it through the engine. The Result holds what
// every step emitted; it is returned, with whatever was captured, even when
// the run fails, so a test can check a failure too. Release it when done.
//
// Each stage runs with one worker, so what it emits is captured in the
// order the engine forwards it; the policies, batch size and reject limits
// are the file's.
func (p *Pipeline) Run(ctx context.Context, in Input) (*Result, error) {
	res := &Result{sinks: map[string]*connmem.Sink{}}
	env := p.opts.Env
	if env == nil {
		env = engine.DefaultEnvironment()
	}
	env = env.Clone()
	inSpec, outSpec := spec.New(inputPlugin), spec.New(outputPlugin)
	err := env.RegisterSource(inSpec, func(_ *spec.Parsed, b engine.Build) (engine.Source, error) {
		src, err := in(b)
		if err != nil {
			return nil, err
		}
		tap := &sourceTap{src: src}
		tap.out.Name, tap.out.Kind = b.Name, engine.KindSource
		res.source = tap
		return tap, nil
	})
	if err == nil {
		err = env.RegisterSink(outSpec, func(_ *spec.Parsed, b engine.Build) (engine.Sink, error) {
			s := connmem.NewSink()
			if b.DeadLetter {
				res.dead = s
			} else {
				res.sinks[b.Name] = s
			}
			return s, nil
		})
	}
	if err != nil {
		return nil, fmt.Errorf("pipetest: registering the stand-ins: %w", err)
	}

	f := p.standIns()
	opts := p.opts.config()
	opts.Env = env
	pl, err := config.Build(f, opts)
	if err != nil {
		res.Release()
		return nil, err
	}
	res.taps = make([]*stageTap, len(pl.Stages))
	for i := range pl.Stages {
		t := &stageTap{Stage: pl.Stages[i].Stage}
		t.out.Name, t.out.Kind = pl.Stages[i].Name, engine.KindStage
		pl.Stages[i].Stage = t
		res.taps[i] = t
	}
	res.sinkNames = make([]string, len(pl.Sinks))
	for i, s := range pl.Sinks {
		res.sinkNames[i] = s.Name
	}
	res.Metrics, err = pl.Run(ctx)
	if res.dead != nil {
		res.DeadLetters = deadLetters(res.dead.Records())
	}
	return res, err
}

// standIns is a copy of the file whose source and sinks are the stand-ins,
// under the original steps' names, places and policies. The steps are new
// values: a parsed step remembers the connector it was parsed for.
func (p *Pipeline) standIns() *config.File {
	f := *p.file
	empty := func(name string) *spec.Parsed {
		conf, _ := spec.New(name).Parse(nil, f.Filename, "")
		return conf
	}
	stand := func(st *config.Step, plugin string) config.Step {
		return config.Step{Kind: st.Kind, Name: st.Name, Connector: plugin, Config: empty(plugin),
			OnError: st.OnError, MaxRejects: st.MaxRejects, Retry: st.Retry,
			Path: st.Path, Line: st.Line, Column: st.Column}
	}
	f.Source = stand(&p.file.Source, inputPlugin)
	f.Stages = append([]config.Step(nil), p.file.Stages...)
	for i := range f.Stages {
		f.Stages[i].Workers, f.Stages[i].Unordered = 1, false
	}
	f.Sinks = make([]config.Step, len(p.file.Sinks))
	for i := range p.file.Sinks {
		f.Sinks[i] = stand(&p.file.Sinks[i], outputPlugin)
	}
	if p.file.DeadLetter != nil {
		dl := stand(p.file.DeadLetter, outputPlugin)
		f.DeadLetter = &dl
	}
	return &f
}

// Result is what one Run captured.
type Result struct {
	// Metrics are the run's counts, as weave run's summary prints them.
	Metrics *engine.Metrics
	// DeadLetters are the rows the dead-letter sink received, in order.
	DeadLetters []DeadLetter

	source    *sourceTap
	taps      []*stageTap
	sinkNames []string
	sinks     map[string]*connmem.Sink
	dead      *connmem.Sink
}

// Output is what one step emitted during a run.
type Output struct {
	Name string
	Kind string // engine.KindSource, KindStage or KindSink
	// Schema is the schema the step emits (the source's from Open, a
	// stage's from Bind, a sink's as opened); nil when the run failed
	// before the step got that far.
	Schema *arrow.Schema
	// Records are the batches in the order the step emitted them; they
	// belong to the Result.
	Records []arrow.RecordBatch
}

// Rows is the number of rows in o.Records.
func (o *Output) Rows() int64 {
	var n int64
	for _, r := range o.Records {
		n += r.NumRows()
	}
	return n
}

// Steps returns every step's output in pipeline order: source, stages,
// sinks (the dead-letter sink's rows are in DeadLetters).
func (r *Result) Steps() []*Output {
	var out []*Output
	if r.source != nil {
		out = append(out, r.source.output())
	}
	for _, t := range r.taps {
		out = append(out, t.output())
	}
	for _, name := range r.sinkNames {
		s := r.sinks[name]
		out = append(out, &Output{Name: name, Kind: engine.KindSink, Schema: s.Schema(), Records: s.Records()})
	}
	return out
}

// Step returns the output of the step called name, or nil.
func (r *Result) Step(name string) *Output {
	for _, o := range r.Steps() {
		if o.Name == name {
			return o
		}
	}
	return nil
}

// Release frees every record the run captured, and the input's records.
func (r *Result) Release() {
	if r.source != nil {
		r.source.release()
	}
	for _, t := range r.taps {
		t.release()
	}
	for _, s := range r.sinks {
		s.Release()
	}
	if r.dead != nil {
		r.dead.Release()
	}
}
