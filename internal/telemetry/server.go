package telemetry

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Server serves /metrics, /healthz and /readyz for a Collector's pipelines.
type Server struct {
	srv  *http.Server
	ln   net.Listener
	done chan struct{}
}

// shutdownGrace bounds how long Close waits for a scrape in progress.
const shutdownGrace = 2 * time.Second

// Route is one more endpoint a caller serves beside the standard ones
// (weave serve's /pipelines).
type Route struct {
	Pattern string
	Handler http.Handler
}

// Listen binds addr ("127.0.0.1:9090", ":0" for any free port) and serves
// in the background until Close. The address is bound before Listen
// returns, so Addr tells a caller (or a test) where to scrape at once.
// extra adds routes; they are registered before the first request.
func Listen(addr string, c *Collector, log *slog.Logger, extra ...Route) (*Server, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("--http %s: %w", addr, err)
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(c,
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{
		ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn),
		// A scrape that failed part-way still returns what it could.
		ErrorHandling: promhttp.ContinueOnError,
	}))
	mux.HandleFunc("/healthz", healthz)
	mux.HandleFunc("/readyz", c.readyz)
	for _, r := range extra {
		mux.Handle(r.Pattern, r.Handler)
	}
	s := &Server{
		srv: &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second,
			ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn)},
		ln:   ln,
		done: make(chan struct{}),
	}
	go func() {
		defer close(s.done)
		if err := s.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("metrics server stopped", "addr", s.Addr(), "err", err)
		}
	}()
	return s, nil
}

// Addr is the address the server listens on (the port chosen for ":0").
func (s *Server) Addr() string { return s.ln.Addr().String() }

// Close stops the server, letting a scrape in progress finish for a moment.
func (s *Server) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
	defer cancel()
	err := s.srv.Shutdown(ctx)
	<-s.done
	if err != nil {
		return fmt.Errorf("metrics server: %w", err)
	}
	return nil
}
