package config

import (
	"github.com/dataweaver/dataweaver/engine"
	"github.com/dataweaver/dataweaver/engine/internal/membudget"
	"github.com/dataweaver/dataweaver/engine/spec"
)

// checkBudget refuses a pipeline whose Wasm stages could together hold more
// memory than the budget, as the engine does for a pipeline assembled in Go
// (engine.Pipeline.MemoryBudget), with the same message placed in the file:
// at the memory_budget key, or at the biggest stage when the budget is the
// machine's. The budget is Options.MemoryBudget, the file's memory_budget,
// or the memory of the machine (or cgroup); with no figure at all (not
// Linux, no key) nothing is checked. It returns the budget it checked
// against, which Build gives the pipeline so that Run checks the same one.
func checkBudget(f *File, opts Options, p *engine.Pipeline) (int64, *spec.Error) {
	budget := membudget.Budget{Bytes: opts.MemoryBudget, From: "the memory budget given by the caller"}
	path, line, column := "memory_budget", 0, 0
	if budget.Bytes <= 0 && f.MemoryBudget.Bytes > 0 {
		budget = membudget.Budget{Bytes: f.MemoryBudget.Bytes, From: "memory_budget"}
		line, column = f.MemoryBudget.Line, f.MemoryBudget.Column
	}
	given := budget.Bytes
	var uses []membudget.Use
	for i, st := range p.Stages {
		if mb, ok := st.Stage.(engine.MemoryBounded); ok {
			uses = append(uses, membudget.Use{Name: st.Name, Workers: max(st.Workers, 1), Each: mb.MaxMemory(), Index: i})
		}
	}
	msg, biggest := membudget.Check(uses, budget.Resolve())
	if msg == "" {
		return given, nil
	}
	if line == 0 && biggest.Index < len(f.Stages) {
		fs := &f.Stages[biggest.Index]
		path, line, column = joinPath(fs.Path, fs.Connector), fs.Line, fs.Column
	}
	return given, &spec.Error{File: f.Filename, Line: line, Column: column, Path: path, Msg: msg}
}
