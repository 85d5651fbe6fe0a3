package config

import (
	"fmt"
	"sort"
	"strings"

	"github.com/dataweaver/dataweaver/engine"
	"github.com/dataweaver/dataweaver/engine/spec"
	"github.com/dataweaver/dataweaver/internal/progress"
	"github.com/dataweaver/dataweaver/internal/sysmem"
)

// machineMemory is the default budget; a variable so a test can stand in a
// small machine without one.
var machineMemory = sysmem.Limit

// checkBudget refuses a pipeline whose Wasm stages could together hold more
// memory than the budget: each worker's instance may grow to its stage's
// memory_limit, and a run where they all do is exactly what the kernel's
// OOM killer ends without a word. The budget is Options.MemoryBudget, the
// file's memory_budget, or the memory of the machine (or cgroup); with no
// figure at all (not Linux, no key) nothing is checked.
func checkBudget(f *File, opts Options, p *engine.Pipeline) *spec.Error {
	type use struct {
		name         string
		workers      int
		each, total  int64
		path         string
		line, column int
	}
	var uses []use
	var need int64
	for i, st := range p.Stages {
		mb, ok := st.Stage.(engine.MemoryBounded)
		if !ok {
			continue
		}
		w := max(st.Workers, 1)
		u := use{name: st.Name, workers: w, each: mb.MaxMemory(), total: int64(w) * mb.MaxMemory()}
		if i < len(f.Stages) {
			fs := &f.Stages[i]
			u.path, u.line, u.column = joinPath(fs.Path, fs.Connector), fs.Line, fs.Column
		}
		uses = append(uses, u)
		need += u.total
	}
	budget, from := opts.MemoryBudget, "the memory budget given by the caller"
	path, line, column := "memory_budget", 0, 0
	switch {
	case budget > 0:
	case f.MemoryBudget.Bytes > 0:
		budget, from = f.MemoryBudget.Bytes, "memory_budget"
		line, column = f.MemoryBudget.Line, f.MemoryBudget.Column
	default:
		var src string
		budget, src = machineMemory()
		from = "this machine's memory, from " + src + "; set memory_budget to change it"
	}
	if budget <= 0 || need <= budget {
		return nil
	}
	// Name the biggest users first: they are what to change.
	sort.SliceStable(uses, func(a, b int) bool { return uses[a].total > uses[b].total })
	parts := make([]string, len(uses))
	for i, u := range uses {
		parts[i] = fmt.Sprintf("%s: %d × %s", u.name, u.workers, progress.Bytes(u.each))
	}
	if line == 0 && len(uses) > 0 {
		path, line, column = uses[0].path, uses[0].line, uses[0].column
	}
	return &spec.Error{
		File: f.Filename, Line: line, Column: column, Path: path,
		Msg: fmt.Sprintf("the Wasm stages may hold up to %s of memory (%s; workers × each instance's "+
			"memory_limit and overhead), over the budget of %s (%s): lower workers or memory_limit",
			progress.Bytes(need), strings.Join(parts, ", "), progress.Bytes(budget), from),
	}
}
