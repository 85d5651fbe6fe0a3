package engine

// Partitioned is a stage that spreads each batch over instances of its
// own by a key of the rows (a Wasm stage with `key:`), so that what it
// keeps per key lives in one instance and the rows of a key keep their
// order. The engine hands it the step's worker count with Partition
// before Bind, and then calls it from one goroutine: the stage runs its
// instances side by side itself and merges their outputs in a fixed
// order. Partition reports whether the stage partitions; one that does
// not (no key declared) is run on the engine's workers as any other.
// Partition may be called more than once with the same count.
//
// A Partitioned stage that keeps state (Stateful) may run with several
// workers: each instance owns its keys, so each one's state is whole.
type Partitioned interface {
	Partition(workers int) bool
}

// goroutines is how many of the engine's goroutines run the stage: one
// for a stage that partitions its batches itself, the step's workers
// otherwise.
func (s StageStep) goroutines() int {
	n := max(s.Workers, 1)
	if k, ok := s.Stage.(Partitioned); ok && k.Partition(n) {
		return 1
	}
	return n
}
