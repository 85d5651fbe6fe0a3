package nats

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/dataweaver/dataweaver/internal/wait"
)

// ErrOutage is wrapped by the error a step fails with once the server has
// been unreachable, or has failed every request, for longer than
// max_outage.
var ErrOutage = errors.New("nats: server unavailable for longer than max_outage")

// Backoff between two tries of a failed request: it doubles from
// retryMin up to retryMax. The client itself reconnects every
// ReconnectWait (2 s); a request tried while it is still reconnecting is
// only buffered, so trying much faster gains nothing.
const (
	retryMin = 100 * time.Millisecond
	retryMax = 2 * time.Second
)

// link is one step's view of its connection's health. It logs disconnects
// and reconnects, and decides, for a request that keeps failing, whether
// to try again or give up: a step gives up once the outage (from the
// disconnect, or from the first of an unbroken run of failed requests,
// whichever came first) has lasted longer than bound.
//
// nats.go reconnects by itself (MaxReconnects is unlimited) and buffers
// what is published meanwhile, but a request whose answer was lost with
// the old connection waits for its context, and nothing retries it: that
// is the link's job.
type link struct {
	log     *slog.Logger  // the step's: it names the step
	bound   time.Duration // max_outage; 0 waits forever
	timeout time.Duration // request_timeout: one try of one request

	mu      sync.Mutex
	url     string    // the server of the current or last connection
	down    time.Time // when the connection dropped; zero while connected
	failing time.Time // when the first of an unbroken run of failed requests began; zero after a success

	// retries counts tries made again after a failure (for a sink,
	// weave_sink_retries_total through engine.RetryCounter).
	retries atomic.Int64
}

func newLink(log *slog.Logger, bound, timeout time.Duration) *link {
	if log == nil {
		log = slog.Default()
	}
	return &link{log: log, bound: bound, timeout: timeout}
}

// options are the connection callbacks that keep the link current.
func (l *link) options() []nats.Option {
	return []nats.Option{
		nats.DisconnectErrHandler(l.disconnected),
		nats.ReconnectHandler(l.reconnected),
	}
}

// connected records the first connection's server.
func (l *link) connected(nc *nats.Conn) {
	l.mu.Lock()
	l.url, l.down, l.failing = nc.ConnectedUrlRedacted(), time.Time{}, time.Time{}
	l.mu.Unlock()
}

func (l *link) disconnected(nc *nats.Conn, err error) {
	if nc.IsClosed() {
		return // our own Close, not an outage
	}
	l.mu.Lock()
	if l.down.IsZero() {
		l.down = time.Now()
	}
	url := l.url
	l.mu.Unlock()
	args := []any{"server", url}
	if err != nil {
		args = append(args, "error", err)
	}
	l.log.Warn("nats: disconnected; reconnecting", args...)
}

func (l *link) reconnected(nc *nats.Conn) {
	l.mu.Lock()
	var after time.Duration
	if !l.down.IsZero() {
		after = time.Since(l.down)
	}
	l.url, l.down = nc.ConnectedUrlRedacted(), time.Time{}
	url := l.url
	l.mu.Unlock()
	l.log.Info("nats: reconnected", "server", url, "down_for", after.Round(time.Millisecond))
}

// isDown reports whether the client is between connections.
func (l *link) isDown() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return !l.down.IsZero()
}

// ok records a request the server answered.
func (l *link) ok() {
	l.mu.Lock()
	if l.failing.IsZero() {
		l.mu.Unlock()
		return
	}
	since := time.Since(l.failing)
	l.failing = time.Time{}
	l.mu.Unlock()
	l.log.Info("nats: requests succeed again", "failed_for", since.Round(time.Millisecond))
}

// retrier tries one operation again with backoff.
type retrier struct {
	l     *link
	what  string
	delay time.Duration
	began time.Time // of the try that failed, for the outage's start
}

func (l *link) retrier(what string) *retrier {
	return &retrier{l: l, what: what, delay: retryMin, began: time.Now()}
}

// again records a failed try (err) and sleeps before the next one. It
// returns the error to fail with instead when ctx ends or the outage has
// lasted longer than max_outage.
func (r *retrier) again(ctx context.Context, err error) error {
	l := r.l
	l.mu.Lock()
	first := l.failing.IsZero()
	if first {
		l.failing = r.began
	}
	start, down, url := l.failing, !l.down.IsZero(), l.url
	if down && l.down.Before(start) {
		start = l.down
	}
	l.mu.Unlock()
	if first {
		l.log.Warn("nats: request failed; retrying", "request", r.what, "server", url, "error", err)
	}
	if out := time.Since(start); l.bound > 0 && out > l.bound {
		if down {
			return fmt.Errorf("%w: %s: disconnected from %s for %s (max_outage %s): %w",
				ErrOutage, r.what, url, out.Round(time.Millisecond), l.bound, err)
		}
		return fmt.Errorf("%w: %s: requests to %s have failed for %s (max_outage %s): %w",
			ErrOutage, r.what, url, out.Round(time.Millisecond), l.bound, err)
	}
	// Half the delay plus jitter: many pipelines that lost one server
	// do not all come back in the same instant.
	sleep := r.delay/2 + rand.N(r.delay/2+1)
	r.delay = min(2*r.delay, retryMax)
	if err := wait.For(ctx, sleep); err != nil {
		return err
	}
	r.began = time.Now()
	l.retries.Add(1)
	return nil
}

// do runs op until it succeeds, giving each try its own request_timeout:
// a request on the caller's context (no deadline, or a long one) waited
// for the whole of it when the answer was lost with the connection or the
// consumer's leader. It fails at once on an error retrying cannot fix.
func (l *link) do(ctx context.Context, what string, op func(ctx context.Context) error) error {
	r := l.retrier(what)
	for {
		tctx, cancel := context.WithTimeout(ctx, l.timeout)
		err := op(tctx)
		cancel()
		if err == nil {
			l.ok()
			return nil
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if !transient(err) {
			return fmt.Errorf("%s: %w", what, err)
		}
		if err := r.again(ctx, err); err != nil {
			return err
		}
	}
}

// errReconnected fails a try that spanned a reconnect: what it sent on the
// old connection may be lost even though the last request was answered.
var errReconnected = errors.New("nats: reconnected during the request")

// transient reports whether retrying err may succeed: anything from a lost
// connection, a timeout, a server or JetStream that is starting or
// electing a leader. A server's refusal (a 4xx status: a missing stream
// or consumer, a bad request) and a closed connection are final.
func transient(err error) bool {
	switch {
	case errors.Is(err, context.Canceled),
		errors.Is(err, errClosed),
		errors.Is(err, nats.ErrConnectionClosed),
		errors.Is(err, jetstream.ErrConnectionClosed),
		errors.Is(err, jetstream.ErrConsumerDeleted),
		errors.Is(err, jetstream.ErrBadRequest),
		errors.Is(err, nats.ErrBadSubject),
		errors.Is(err, nats.ErrMaxPayload):
		return false
	}
	var je jetstream.JetStreamError
	if errors.As(err, &je) && je.APIError() != nil {
		code := je.APIError().Code
		return code < 400 || code >= 500 || code == 408
	}
	return true
}
