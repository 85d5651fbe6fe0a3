package coordinator

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/dataweaver/dataweaver/connectors/internal/natsauth"
)

// connect makes the first connection, which must succeed at once; the
// client then reconnects for ever and each request retries within
// max_outage (see retry).
func (c Config) connect(log *slog.Logger) (*nats.Conn, error) {
	where := "coordinator: connect to " + natsauth.DisplayURLs(c.URLs)
	opts := append([]nats.Option{nats.Name("dataweaver coordinator " + c.Worker), nats.Timeout(5 * time.Second),
		nats.MaxReconnects(-1), nats.ReconnectWait(250 * time.Millisecond),
		nats.DisconnectErrHandler(func(_ *nats.Conn, err error) {
			if err != nil {
				log.Warn("coordinator: disconnected", "error", err)
			}
		}),
		nats.ReconnectHandler(func(nc *nats.Conn) { log.Info("coordinator: reconnected", "server", nc.ConnectedUrlRedacted()) }),
	}, c.Options...)
	if c.auth != nil {
		auth, err := c.auth.Options()
		if err != nil {
			return nil, fmt.Errorf("%s: %w", where, err)
		}
		opts = append(opts, auth...)
		where += " with " + c.auth.Kind()
	}
	nc, err := nats.Connect(strings.Join(c.URLs, ","), opts...)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", where, err)
	}
	return nc, nil
}

// retry runs fn until it succeeds, fails for good, or has failed for
// longer than outage: a JetStream leader election or a server restart
// makes requests fail for a few seconds ("no responders", timeouts), and
// a worker that gave up then would exit non-zero for nothing.
func retry(ctx context.Context, outage time.Duration, log *slog.Logger, what string, fn func(ctx context.Context) error) error {
	start := time.Now()
	wait := 50 * time.Millisecond
	for {
		rctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		err := fn(rctx)
		cancel()
		var perm permanentErr
		switch {
		case err == nil:
			return nil
		case ctx.Err() != nil:
			return fmt.Errorf("coordinator: %s: %w", what, ctx.Err())
		case errors.As(err, &perm):
			return fmt.Errorf("coordinator: %s: %w", what, perm.err)
		}
		if time.Since(start) > outage {
			return fmt.Errorf("coordinator: %s: failing for %s: %w", what, time.Since(start).Round(time.Second), err)
		}
		log.Debug("coordinator: retrying", "what", what, "error", err)
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(wait):
		}
		wait = min(2*wait, 2*time.Second)
	}
}

// permanentErr marks an error retry must not retry.
type permanentErr struct{ err error }

func (e permanentErr) Error() string { return e.err.Error() }
func (e permanentErr) Unwrap() error { return e.err }

func permanent(err error) error { return permanentErr{err} }
