package http

import (
	"context"
	"time"

	"github.com/dataweaver/dataweaver/internal/wait"
)

// clock is the sink's time: the rate limit and Retry-After waits go
// through it, so tests can count waits on a fake clock instead of
// asserting on wall time.
type clock interface {
	Now() time.Time
	// Sleep waits d or until ctx ends, whichever is first.
	Sleep(ctx context.Context, d time.Duration) error
}

type wallClock struct{}

func (wallClock) Now() time.Time { return time.Now() }

func (wallClock) Sleep(ctx context.Context, d time.Duration) error { return wait.For(ctx, d) }

// bucket is a token bucket: rate tokens a second, at most burst saved up.
// A request takes a token and, when there is none, waits until its token
// is due; tokens may go negative so that waiters queue in order (as in
// golang.org/x/time/rate's reservations). The sink calls it from one
// goroutine, so it needs no lock.
type bucket struct {
	rate   float64
	burst  float64
	tokens float64
	last   time.Time
}

func newBucket(rate float64, burst int, now time.Time) *bucket {
	return &bucket{rate: rate, burst: float64(burst), tokens: float64(burst), last: now}
}

// reserve takes a token at now and returns how long to wait before using it.
func (b *bucket) reserve(now time.Time) time.Duration {
	if el := now.Sub(b.last); el > 0 {
		b.tokens = min(b.burst, b.tokens+el.Seconds()*b.rate)
		b.last = now
	}
	b.tokens--
	if b.tokens >= 0 {
		return 0
	}
	return time.Duration(-b.tokens / b.rate * float64(time.Second))
}

// cancel gives back a token whose wait was cut short.
func (b *bucket) cancel() { b.tokens = min(b.burst, b.tokens+1) }

// wait takes a token, sleeping on c until it is due.
func (b *bucket) wait(ctx context.Context, c clock) error {
	d := b.reserve(c.Now())
	if d <= 0 {
		return nil
	}
	if err := c.Sleep(ctx, d); err != nil {
		b.cancel()
		return err
	}
	return nil
}
