package kafka

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"

	"github.com/dataweaver/dataweaver/internal/wait"
)

// Brokers that cannot be reached.
//
// kgo retries polls and group joins by itself for as long as the brokers
// are away, so a source without stop_at_end simply waits. The admin
// requests the source makes on its own (stop_at_end's end-offset check)
// fail at the first refused dial instead: a worker started before its
// brokers (a pod scheduled first, a broker restarting) would fail its run
// at once. Those requests are retried here, with backoff, until the
// brokers have been unreachable for longer than max_outage.

// ErrOutage is wrapped by the error the source fails with once the
// brokers have been unreachable for longer than max_outage.
var ErrOutage = errors.New("kafka: brokers unreachable for longer than max_outage")

// Backoff between two tries: it doubles from retryMin up to retryMax.
const (
	retryMin = 100 * time.Millisecond
	retryMax = 2 * time.Second
)

// outage is one source's run of failed requests.
type outage struct {
	log   *slog.Logger
	bound time.Duration // max_outage; 0 waits for ever
	since time.Time     // the first failure of the run; zero after a success
	delay time.Duration
}

// unreachable reports whether err may go away by itself: a dial or
// connection error, a timeout, or an error Kafka calls retriable (a
// coordinator loading, a leader moving).
func unreachable(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) || kerr.IsRetriable(err) || errors.Is(err, context.DeadlineExceeded)
}

// again records a failed request and sleeps before the next try; it
// returns the error to fail with instead once the outage is longer than
// its bound or ctx ends.
func (o *outage) again(ctx context.Context, what string, err error) error {
	if o.since.IsZero() {
		o.since, o.delay = time.Now(), retryMin
		o.log.Warn("kafka: brokers unreachable; retrying", "request", what, "max_outage", o.bound, "err", err)
	}
	if out := time.Since(o.since); o.bound > 0 && out > o.bound {
		return fmt.Errorf("%w: %s: failing for %s (max_outage %s): %w", ErrOutage, what, out.Round(time.Millisecond), o.bound, err)
	}
	// Half the delay plus jitter: workers that lost the same brokers do
	// not all come back in the same instant.
	sleep := o.delay/2 + rand.N(o.delay/2+1)
	o.delay = min(2*o.delay, retryMax)
	return wait.For(ctx, sleep)
}

// ok ends an outage, if one was under way.
func (o *outage) ok() {
	if o.since.IsZero() {
		return
	}
	o.log.Info("kafka: brokers answer again", "after", time.Since(o.since).Round(time.Millisecond))
	o.since = time.Time{}
}
