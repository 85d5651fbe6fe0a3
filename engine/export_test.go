package engine

import (
	"sync"
	"time"
)

// FakeClock is a clock a test moves by hand (idle advance, idle.go): Now
// stands still until Advance, and the run's ticker ticks only when
// Advance delivers a tick.
type FakeClock struct {
	mu      sync.Mutex
	now     time.Time
	ticks   chan time.Time
	tickers int
}

func NewFakeClock() *FakeClock {
	return &FakeClock{now: time.Unix(1_780_000_000, 0), ticks: make(chan time.Time)}
}

func (c *FakeClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }

func (c *FakeClock) Ticker(time.Duration) (<-chan time.Time, func()) {
	c.mu.Lock()
	c.tickers++
	c.mu.Unlock()
	return c.ticks, func() {}
}

// Tickers counts the tickers a run asked for.
func (c *FakeClock) Tickers() int { c.mu.Lock(); defer c.mu.Unlock(); return c.tickers }

// Advance moves the clock by d and hands the run's ticker one tick; it
// returns once the ticker has taken it.
func (c *FakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	now := c.now
	c.mu.Unlock()
	c.ticks <- now
}

// WithClock makes p's idle advance read c.
func WithClock(p *Pipeline, c *FakeClock) { p.clock = c }
