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

// prepare makes an instance of r for a later Bind, or nil if it fails:
// Bind then instantiates again and reports the failure where it always
// has, with the same error.
func (r *runtime) prepare(ctx context.Context, timeout time.Duration, log *guestLog) *instance {
	inst, _, err := r.instantiate(ctx, timeout, log)
	if err != nil {
		return nil
	}
	return inst
}

// takeWarm hands over the instance made in the background, once.
func (s *Stage) takeWarm() *instance {
	s.mu.Lock()
	defer s.mu.Unlock()
	inst := s.warm
	s.warm = nil
	return inst
}
