// Package membudget adds up what a pipeline's memory-bounded stages may
// hold and words the refusal when it is over the budget: one check and
// one message for a pipeline assembled in Go (engine) and one built from
// a file (engine/config), which adds the file position.
package membudget

import (
	"fmt"
	"sort"
	"strings"

	"github.com/dataweaver/dataweaver/internal/progress"
	"github.com/dataweaver/dataweaver/internal/sysmem"
)

// Machine is the budget when none is given: the memory this process may
// use. A variable so a test can stand in a small machine without one.
var Machine = sysmem.Limit

// Use is one memory-bounded stage: Workers instances of Each bytes.
type Use struct {
	Name    string
	Workers int
	Each    int64
	// Index is the stage's place in the pipeline, for the caller to find
	// its position in a file.
	Index int
}

func (u Use) total() int64 { return int64(u.Workers) * u.Each }

// Budget is a budget in bytes and where it comes from, for the message;
// zero Bytes means the machine's memory.
type Budget struct {
	Bytes int64
	From  string
}

// Resolve fills in the machine's memory for a zero budget.
func (b Budget) Resolve() Budget {
	if b.Bytes > 0 {
		return b
	}
	n, src := Machine()
	return Budget{Bytes: n, From: "this machine's memory, from " + src + "; set memory_budget to change it"}
}

// Check returns "" when uses fit budget (or budget has no figure: not
// Linux, no key), else the message and the biggest use, which is what to
// change. The budget must be resolved.
func Check(uses []Use, budget Budget) (msg string, biggest Use) {
	var need int64
	for _, u := range uses {
		need += u.total()
	}
	if budget.Bytes <= 0 || need <= budget.Bytes {
		return "", Use{}
	}
	// Name the biggest users first: they are what to change.
	uses = append([]Use(nil), uses...)
	sort.SliceStable(uses, func(a, b int) bool { return uses[a].total() > uses[b].total() })
	parts := make([]string, len(uses))
	for i, u := range uses {
		parts[i] = fmt.Sprintf("%s: %d × %s", u.Name, u.Workers, progress.Bytes(u.Each))
	}
	return fmt.Sprintf("the Wasm stages may hold up to %s of memory (%s; workers × each instance's "+
		"memory_limit and overhead), over the budget of %s (%s): lower workers or memory_limit",
		progress.Bytes(need), strings.Join(parts, ", "), progress.Bytes(budget.Bytes), budget.From), uses[0]
}
