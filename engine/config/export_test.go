package config

import "github.com/dataweaver/dataweaver/engine/internal/membudget"

// SetMachineMemory stands in a machine of n bytes (0: unknown) for one
// test; the default budget is otherwise the real machine's.
func SetMachineMemory(n int64, from string) (restore func()) {
	old := membudget.Machine
	membudget.Machine = func() (int64, string) { return n, from }
	return func() { membudget.Machine = old }
}
