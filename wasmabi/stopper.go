package wasmabi

import (
	"context"
	"sync"
	"time"
)

// stopper is the context every guest call of one instance runs under when
// its stage has a timeout. wazero closes the module (stopping the guest at
// its next loop head or function entry) once Done is closed; the stopper
// closes it when its per-instance timer fires or when the caller's context
// is cancelled.
//
// It replaces a context.WithTimeout per call (a context, a timer and a
// goroutine registration: 8 allocations and ~1 µs per batch) with one timer
// per instance that is reset and stopped around each call, and one
// cancellation hook per caller context (the engine passes the same run
// context batch after batch). A stopper fires at most once: the instance
// is then thrown away, as after any failed call.
type stopper struct {
	timeout time.Duration
	timer   *time.Timer
	done    chan struct{}

	mu       sync.Mutex
	err      error // context.DeadlineExceeded (timer) or the caller's error
	timedOut bool

	// Owned by the goroutine making calls (one call at a time).
	parent  context.Context // the current call's context, for Value
	watched context.Context // the caller context unwatch belongs to
	unwatch func() bool
}

func newStopper(timeout time.Duration) *stopper {
	s := &stopper{timeout: timeout, done: make(chan struct{})}
	s.timer = time.AfterFunc(time.Hour, func() { s.fire(context.DeadlineExceeded, true) })
	s.timer.Stop()
	return s
}

func (s *stopper) fire(err error, timedOut bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err == nil {
		s.err, s.timedOut = err, timedOut
		close(s.done)
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
	s.timer.Reset(s.timeout)
	return nil
}

// end disarms the stopper after a call. It reports false when the stopper
// fired (or its timer expired and is about to): the call must then count as
// stopped whatever it returned, and the instance must not be reused.
func (s *stopper) end() bool {
	stopped := s.timer.Stop()
	s.parent = nil
	return stopped && s.Err() == nil
}

// cause is why the stopper fired: ok is false when it has not.
func (s *stopper) cause() (timedOut, ok bool, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.timedOut, s.err != nil, s.err
}

func (s *stopper) close() {
	s.timer.Stop()
	if s.unwatch != nil {
		s.unwatch()
		s.unwatch = nil
	}
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
