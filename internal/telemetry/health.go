package telemetry

import (
	"fmt"
	"net/http"

	"github.com/dataweaver/dataweaver/engine"
)

// notReady says why the collector's pipelines are not ready, or "" when
// every one of them is running: its source and every sink are open and
// batches flow. A pipeline starting, draining (end of input or a first
// SIGTERM) or ended is not ready, so an orchestrator stops routing to it
// (an HTTP source) before it goes away.
func (c *Collector) notReady() string {
	if list := c.workerList(); list != nil {
		return workersNotReady(list())
	}
	ps := c.snapshot()
	if len(ps) == 0 {
		return "no pipeline"
	}
	for _, p := range ps {
		if p.Metrics == nil {
			return fmt.Sprintf("pipeline %s: not started", p.Name)
		}
		switch ph := p.Metrics.Phase(); ph {
		case engine.PhaseRunning:
		case engine.PhaseStarting:
			return fmt.Sprintf("pipeline %s: starting (source and sinks not open yet)", p.Name)
		default:
			return fmt.Sprintf("pipeline %s: %s", p.Name, ph)
		}
	}
	return ""
}

// healthz answers 200 while the process serves at all: a liveness probe.
func healthz(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	fmt.Fprintln(w, "ok")
}

// readyz answers 200 when every pipeline is running, else 503 with the
// reason: a readiness probe.
func (c *Collector) readyz(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	if why := c.notReady(); why != "" {
		w.WriteHeader(http.StatusServiceUnavailable)
		fmt.Fprintln(w, "not ready: "+why)
		return
	}
	fmt.Fprintln(w, "ready")
}
