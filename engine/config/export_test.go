package config

// SetMachineMemory stands in a machine of n bytes (0: unknown) for one
// test; the default budget is otherwise the real machine's.
func SetMachineMemory(n int64, from string) (restore func()) {
	old := machineMemory
	machineMemory = func() (int64, string) { return n, from }
	return func() { machineMemory = old }
}
