package wasmabi

import (
	"context"
	"sync"
	"sync/atomic"
	"time"
)

// stopper is the context every guest call of one instance runs under when
// its stage can stop a running guest (a timeout, or interruptible). It
// fires when its per-instance timer does or when the caller's context is
// cancelled, and then stops the call: through the module's stop global
// when the module carries the host's loop checks (loopchecks.go; the
// guest traps at its next loop head), else through the module's exit code
// when wazero's own per-call watcher is detached (watcher.go), else by
// closing Done, which wazero's watcher sees; in the last two wazero closes
// the module and the guest stops at its next loop head.
//
// It replaces a context.WithTimeout per call (a context, a timer and a
// goroutine registration: 8 allocations and ~1 µs per batch) with one timer
// per instance that is reset and stopped around each call, and one
// cancellation hook per caller context (the engine passes the same run
// context batch after batch). A stopper fires at most once: the instance
// is then thrown away, as after any failed call.
type stopper struct {
	timeout time.Duration // 0: no timer, only the caller's cancellation
	timer   *time.Timer
	done    chan struct{}
	// exit is the module's exit-code word when wazero's watcher is
	// detached (detachWatcher), nil otherwise. loop is the module's stop
	// global when it carries the host's loop checks (loopchecks.go); then
	// exit is nil.
	exit *atomic.Uint64
	loop *loopFlags

	mu       sync.Mutex
	err      error // context.DeadlineExceeded (timer) or the caller's error
	timedOut bool
	// exited: fire set the exit code; dead: close ran, fire does nothing.
	exited, dead bool

	// Owned by the goroutine making calls (one call at a time).
	parent  context.Context // the current call's context, for Value
	watched context.Context // the caller context unwatch belongs to
	unwatch func() bool
}

func newStopper(timeout time.Duration, exit *atomic.Uint64, loop *loopFlags) *stopper {
	s := &stopper{timeout: timeout, done: make(chan struct{}), exit: exit, loop: loop}
	if timeout > 0 {
		s.timer = time.AfterFunc(time.Hour, func() { s.fire(context.DeadlineExceeded, true) })
		s.timer.Stop()
	}
	return s
}

func (s *stopper) fire(err error, timedOut bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err != nil || s.dead {
		return
	}
	s.err, s.timedOut = err, timedOut
	close(s.done)
	if s.loop != nil {
		s.loop.halt()
	}
	if s.exit != nil {
		// What wazero's watcher does: the call's next check sees it.
		s.exited = s.exit.CompareAndSwap(0, stopCode(timedOut))
	}
}

// begin arms the stopper for one call made under ctx.
func (s *stopper) begin(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := s.Err(); err != nil {
		return err
	}
	if ctx != s.watched {
		if s.unwatch != nil {
			s.unwatch()
		}
		s.watched, s.unwatch = ctx, nil
		if ctx.Done() != nil {
			s.unwatch = context.AfterFunc(ctx, func() { s.fire(ctx.Err(), false) })
		}
	}
	s.parent = ctx
	if s.timer != nil {
		s.timer.Reset(s.timeout)
	}
	return nil
}

// end disarms the stopper after a call. It reports false when the stopper
// fired (or its timer expired and is about to): the call must then count as
// stopped whatever it returned, and the instance must not be reused.
func (s *stopper) end() bool {
	stopped := true
	if s.timer != nil {
		stopped = s.timer.Stop()
	}
	s.parent = nil
	return stopped && s.Err() == nil
}

// cause is why the stopper fired: ok is false when it has not.
func (s *stopper) cause() (timedOut, ok bool, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.timedOut, s.err != nil, s.err
}

// close disarms the stopper for good. It reports whether fire set the
// module's exit code: the instance must then clear it before closing the
// module, or wazero's Close would find the module closed already and skip
// removing it from its store.
func (s *stopper) close() (exited bool) {
	if s.timer != nil {
		s.timer.Stop()
	}
	if s.unwatch != nil {
		s.unwatch()
		s.unwatch = nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.dead = true
	return s.exited
}

// context.Context. Deadline is not reported: wazero only watches Done.

func (s *stopper) Deadline() (time.Time, bool) { return time.Time{}, false }
func (s *stopper) Done() <-chan struct{}       { return s.done }

func (s *stopper) Err() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.err
}

func (s *stopper) Value(key any) any {
	if p := s.parent; p != nil {
		return p.Value(key)
	}
	return nil
}
