package engine

import (
	"fmt"

	"github.com/dataweaver/dataweaver/engine/internal/membudget"
)

// memoryUses lists the stages that hold memory per worker (MemoryBounded),
// for the budget check.
func (p *Pipeline) memoryUses() []membudget.Use {
	var uses []membudget.Use
	for i, st := range p.Stages {
		if mb, ok := st.Stage.(MemoryBounded); ok {
			uses = append(uses, membudget.Use{Name: st.Name, Workers: max(st.Workers, 1), Each: mb.MaxMemory(), Index: i})
		}
	}
	return uses
}

// checkBudget refuses a pipeline whose Wasm stages could together hold
// more memory than p.MemoryBudget (the machine's when zero): a run where
// every worker's instance grows to its memory_limit is exactly what the
// kernel's OOM killer ends without a word. engine/config makes the same
// check, with the file's positions, when it builds a pipeline.
func (p *Pipeline) checkBudget() error {
	if p.MemoryBudget < 0 {
		return nil
	}
	budget := membudget.Budget{Bytes: p.MemoryBudget, From: "Pipeline.MemoryBudget"}.Resolve()
	if msg, _ := membudget.Check(p.memoryUses(), budget); msg != "" {
		return fmt.Errorf("%w: %s", ErrInvalidConfig, msg)
	}
	return nil
}
