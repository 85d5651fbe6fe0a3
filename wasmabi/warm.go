package wasmabi

import (
	"context"
	"time"
)

// A stage compiled in the background (WithBackgroundCompile) also makes
// there the one instance its first Bind needs: instantiating a Go guest
// and running its _initialize (the Go runtime's start) takes ~2 ms, and
// Bind runs stage after stage on one goroutine, where four such starts
// add up on the start-up's critical path, while the background goroutine
// overlaps them with the next module's compile. It makes only that one:
// a short job needs no more, and a longer one makes the others as its
// workers ask (Stage.get).

// warmInstance is the outcome of prepare: an instance, or the error
// instantiating gave and the export that gave it. A guest whose
// _initialize fails (or loops until the timeout) fails the first Bind with
// that error rather than being started a second time.
type warmInstance struct {
	inst   *instance
	export string
	err    error
}

// prepare makes an instance of r for a later Bind.
func (r *runtime) prepare(ctx context.Context, timeout time.Duration, log *guestLog) warmInstance {
	inst, export, err := r.instantiate(ctx, timeout, log)
	return warmInstance{inst, export, err}
}

// takeWarm hands over what prepare gave, once; the zero value when there
// is nothing (a stage compiled in the foreground, or taken already).
func (s *Stage) takeWarm() warmInstance {
	s.mu.Lock()
	defer s.mu.Unlock()
	w := s.warm
	s.warm = warmInstance{}
	return w
}
