package config

import (
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"

	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/dataweaver/dataweaver/engine"
	"github.com/dataweaver/dataweaver/engine/position"
	"github.com/dataweaver/dataweaver/engine/spec"
)

// Build constructs the pipeline a parsed File describes. Every constructor
// runs even after one fails, so all their complaints come back together;
// on failure the steps already built are closed again.
func Build(f *File, opts Options) (*engine.Pipeline, error) {
	logger := opts.Logger
	if logger == nil {
		logger = slog.Default()
	}
	mem := opts.Mem
	if mem == nil {
		mem = memory.DefaultAllocator
	}
	p := &engine.Pipeline{Name: f.Name, Buffer: f.Buffer, Logger: logger, Mem: mem, CheckpointEvery: f.CheckpointEvery}
	b := &builder{file: f, env: opts.env(), logger: logger, mem: mem}

	src, err := b.plugin(&f.Source).NewSource(f.Source.Config, b.build(&f.Source))
	if b.check(&f.Source, src, err) {
		p.Source = engine.SourceStep{Name: f.Source.Name, Source: src, OnError: f.Source.OnError, MaxRejects: f.Source.MaxRejects, Origin: b.origin(&f.Source), Recipe: b.recipe(&f.Source)}
	}
	// Stages are all constructed before any is waited for, so that those
	// preparing in the background (engine.Warming: Wasm modules
	// compiling) do so in parallel, and with the sinks' constructors.
	stages := make([]engine.Stage, len(f.Stages))
	errs := make([]error, len(f.Stages))
	for i := range f.Stages {
		st := &f.Stages[i]
		stages[i], errs[i] = b.plugin(st).NewStage(st.Config, b.build(st))
	}
	for i := range f.Sinks {
		st := &f.Sinks[i]
		sink, err := b.plugin(st).NewSink(st.Config, b.build(st))
		if b.check(st, sink, err) {
			p.Sinks = append(p.Sinks, engine.SinkStep{Name: st.Name, Sink: sink, OnError: st.OnError, MaxRejects: st.MaxRejects, Retry: st.Retry, Origin: b.origin(st), Recipe: b.recipe(st)})
		}
	}
	if st := f.DeadLetter; st != nil {
		sink, err := b.plugin(st).NewSink(st.Config, b.build(st))
		if b.check(st, sink, err) {
			p.DeadLetter, p.DeadLetterRecipe = sink, b.recipe(st)
		}
	}
	// Deferred only when nothing else failed: a pipeline that cannot be
	// built reports every problem at once, failed compiles included.
	deferred := opts.DeferReady && len(b.errs) == 0 && !slices.ContainsFunc(errs, func(err error) bool { return err != nil })
	if !deferred {
		// A stage that failed is closed and left out, with its error.
		for _, i := range waitReady(stages, errs) {
			_ = stages[i].Close()
			stages[i] = nil
		}
	}
	for i := range f.Stages {
		st := &f.Stages[i]
		if b.check(st, stages[i], errs[i]) {
			p.Stages = append(p.Stages, engine.StageStep{Name: st.Name, Stage: stages[i], OnError: st.OnError, MaxRejects: st.MaxRejects, Workers: st.Workers, Unordered: st.Unordered, Origin: b.origin(st), Recipe: b.recipe(st)})
		}
	}
	if len(b.errs) == 0 {
		budget, err := checkBudget(f, opts, p)
		if err != nil {
			b.errs = append(b.errs, err)
		}
		p.MemoryBudget = budget
	}
	if deferred && len(b.errs) > 0 {
		// Only the budget can have failed, which Build checks once every
		// stage is ready: stages that failed take its place, as they do
		// without DeferReady. They are in p.Stages: closeAll closes them.
		if failed := waitReady(stages, errs); len(failed) > 0 {
			b.errs = nil
			for _, i := range failed {
				b.check(&f.Stages[i], nil, errs[i])
			}
		}
	}
	if len(b.errs) > 0 {
		closeAll(p)
		return nil, invalid(b.errs)
	}
	if deferred {
		p.Warm = b.warm(stages)
	}
	if dir := opts.StateDir(f); dir != "" {
		p.Positions = position.OpenDir(dir)
	}
	return p, nil
}

// waitReady waits for every stage still preparing (engine.Warming) and
// returns the indexes of those that failed, with their errors in errs.
func waitReady(stages []engine.Stage, errs []error) []int {
	var failed []int
	for i, stage := range stages {
		if w, ok := stage.(engine.Warming); ok && errs[i] == nil {
			if errs[i] = w.Ready(); errs[i] != nil {
				failed = append(failed, i)
			}
		}
	}
	return failed
}

// warm is Pipeline.Warm for stages Build did not wait for: the problems
// of those that failed, placed at their steps and put together as Build
// would have returned them. The run closes every stage, failed or not.
func (b *builder) warm(stages []engine.Stage) func() error {
	return func() error {
		errs := make([]error, len(stages))
		wb := &builder{file: b.file, env: b.env, logger: b.logger, mem: b.mem}
		for _, i := range waitReady(stages, errs) {
			wb.check(&b.file.Stages[i], nil, errs[i])
		}
		return invalid(wb.errs)
	}
}

type builder struct {
	file   *File
	env    *engine.Environment
	logger *slog.Logger
	mem    memory.Allocator
	errs   spec.Errors
}

// plugin is the connector Parse resolved; a File assembled by hand is
// resolved here instead.
func (b *builder) plugin(st *Step) *engine.Plugin {
	if st.plugin != nil {
		return st.plugin
	}
	if p := b.env.Lookup(st.Kind, st.Connector); p != nil {
		return p
	}
	// A plugin of no kind makes every New* fail with a clear message.
	return &engine.Plugin{Kind: "unknown", Spec: spec.New(st.Connector)}
}

func (b *builder) build(st *Step) engine.Build {
	return engine.Build{
		Mem:       b.mem,
		Logger:    b.logger.With("step", st.Name),
		Name:      st.Name,
		BatchRows: b.file.Batch.Rows,
		Linger:    b.file.Batch.Linger,
		Env:       b.env,

		DeadLetter: b.file.DeadLetter == st,
	}
}

// check records a constructor's failure and reports whether it succeeded.
// Errors the constructor positioned itself (spec.Error from Parsed.Errorf)
// are kept as they are; others are placed at the step.
func (b *builder) check(st *Step, built any, err error) bool {
	if err == nil && built == nil {
		err = errors.New("constructor returned nothing")
	}
	if err == nil {
		return true
	}
	var many spec.Errors
	var one *spec.Error
	switch {
	case errors.As(err, &many):
		b.errs = append(b.errs, many...)
		return false
	case errors.As(err, &one):
		b.errs = append(b.errs, one)
		return false
	}
	msg := strings.TrimPrefix(err.Error(), engine.ErrInvalidConfig.Error()+": ")
	if st.Name != joinPath(st.Path, st.Connector) {
		msg = fmt.Sprintf("step %q: %s", st.Name, msg)
	}
	b.errs = append(b.errs, &spec.Error{File: b.file.Filename, Line: st.Line, Column: st.Column, Path: joinPath(st.Path, st.Connector), Msg: msg})
	return false
}

// closeAll releases what constructors acquired (a compiled module, say)
// when the pipeline as a whole cannot be built.
func closeAll(p *engine.Pipeline) {
	if p.Source.Source != nil {
		_ = p.Source.Source.Close()
	}
	for _, s := range p.Stages {
		_ = s.Stage.Close()
	}
	for _, s := range p.Sinks {
		_ = s.Sink.Close()
	}
	if p.DeadLetter != nil {
		_ = p.DeadLetter.Close()
	}
}

// origin is where a step is declared, for the engine's error messages.
func (b *builder) origin(st *Step) string {
	return fmt.Sprintf("%s:%d:%d", b.file.Filename, st.Line, st.Column)
}

// recipe is how st's step is made, for runners that make it again
// elsewhere (engine.Runner); nil for a step of a File assembled by hand,
// whose settings exist only as parsed values.
func (b *builder) recipe(st *Step) *engine.Recipe {
	if st.node == nil {
		return nil
	}
	return &engine.Recipe{Connector: st.Connector, Config: st.node, BatchRows: b.file.Batch.Rows, Linger: b.file.Batch.Linger}
}
