package cli

import (
	"os"
	"os/signal"
	"syscall"
	"time"

	ucli "github.com/urfave/cli/v2"

	"github.com/dataweaver/dataweaver/engine"
	"github.com/dataweaver/dataweaver/internal/telemetry"
)

var httpFlag = &ucli.StringFlag{
	Name:  "http",
	Usage: "serve /metrics (Prometheus), /healthz and /readyz on `ADDR` (host:port; :0 picks a free port)",
}

var httpLingerFlag = &ucli.DurationFlag{
	Name: "http-linger",
	Usage: "with --http, keep serving for this long after the run ended, so a scraper collects the final " +
		"counts of a short job (/readyz answers 503 meanwhile)",
}

// serveHTTP starts the --http server for p, if asked, and logs the address
// it bound (the port :0 chose). The returned func waits --http-linger and
// stops the server.
func (w *weave) serveHTTP(c *ucli.Context, p *engine.Pipeline) (stop func(), err error) {
	addr := c.String("http")
	if addr == "" {
		return func() {}, nil
	}
	col := telemetry.NewCollector()
	col.Add(p)
	srv, err := telemetry.Listen(addr, col, w.logger)
	if err != nil {
		return nil, err
	}
	w.logger.Info("serving metrics and health", "addr", srv.Addr(),
		"metrics", "http://"+srv.Addr()+"/metrics")
	return func() {
		if d := c.Duration("http-linger"); d > 0 {
			w.logger.Info("run ended; serving metrics before exit", "addr", srv.Addr(), "for", d)
			w.linger(d)
		}
		if err := srv.Close(); err != nil {
			w.logger.Warn("stopping the metrics server", "err", err)
		}
	}, nil
}

// linger waits d, or less when SIGINT or SIGTERM arrives: an orchestrator
// stopping weave must not wait for the linger.
func (w *weave) linger(d time.Duration) {
	sigs := w.opts.Signals
	if sigs == nil {
		ch := make(chan os.Signal, 1)
		signal.Notify(ch, os.Interrupt, syscall.SIGTERM)
		defer signal.Stop(ch)
		sigs = ch
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-sigs:
	}
}
