// Package wait holds the one way this module sleeps: for a duration or
// until a context ends, whichever comes first, so that no backoff, poll or
// pacing delay keeps a cancelled run waiting.
package wait

import (
	"context"
	"time"
)

// For waits d, or until ctx ends. It returns ctx.Err() when ctx ended
// (before or during the wait) and nil when d passed. d <= 0 does not wait.
func For(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
