package cli

import (
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
	Usage: "with --http, keep serving for `DURATION` after the run ended, so a scraper collects the final " +
		"counts of a short job (/readyz answers 503 meanwhile; a signal ends the wait)",
}

// serveHTTP starts the --http server for p, if asked, and logs the address
// it bound (the port :0 chose). The returned func waits --http-linger and
// stops the server; a signal (which closes drain) cuts the wait short, so
// an orchestrator stopping weave does not wait for it, and a run stopped by
// a signal does not linger at all.
func (w *weave) serveHTTP(c *ucli.Context, p *engine.Pipeline, drain <-chan struct{}) (stop func(), err error) {
	if c.String("http") == "" {
		return func() {}, nil
	}
	col := telemetry.NewCollector()
	col.Add(p)
	return w.serveCollector(c, col, drain)
}

// serveCollector is serveHTTP for a collector the caller fills: a
// coordinated run adds each split's pipeline as it runs.
func (w *weave) serveCollector(c *ucli.Context, col *telemetry.Collector, drain <-chan struct{}) (stop func(), err error) {
	srv, err := telemetry.Listen(c.String("http"), col, w.logger)
	if err != nil {
		return nil, err
	}
	w.logger.Info("serving metrics and health", "addr", srv.Addr(),
		"metrics", "http://"+srv.Addr()+"/metrics")
	return func() {
		if d := c.Duration("http-linger"); d > 0 && !closed(drain) {
			w.logger.Info("run ended; serving metrics before exit", "addr", srv.Addr(), "for", d)
			t := time.NewTimer(d)
			select {
			case <-t.C:
			case <-drain:
				t.Stop()
			}
		}
		if err := srv.Close(); err != nil {
			w.logger.Warn("stopping the metrics server", "err", err)
		}
	}, nil
}

func closed(c <-chan struct{}) bool {
	select {
	case <-c:
		return true
	default:
		return false
	}
}
