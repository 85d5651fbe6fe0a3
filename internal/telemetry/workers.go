package telemetry

import "fmt"

// Worker is what a worker of a coordinated run (connectors/coordinator)
// knows of its splits, read at each scrape.
type Worker struct {
	Pipeline string
	// Phase is one of WorkerPhases.
	Phase                                 string
	Planned, Taken, Done, Redone, Skipped int64
	// Left is the job's splits in the work-queue stream (waiting or
	// leased) at the worker's last count; negative before the first.
	Left int64
}

// WorkerPhases are the phases of weave_worker_phase, in order (those of
// coordinator.Phases).
var WorkerPhases = []string{"connecting", "planning", "reading", "waiting", "ended"}

// Coordinate makes the collector export the splits of a coordinated
// run's workers, read from list at each scrape, and answer /readyz from
// their phases instead of from the pipelines': a worker runs one short
// pipeline per split, and the moments between two of them are not a
// worker that is unready.
func (c *Collector) Coordinate(list func() []Worker) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.workers = list
}

func (c *Collector) workerList() func() []Worker {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.workers
}

// collectWorkers reads every worker's series.
func (r *reader) collectWorkers(ws []Worker) {
	for _, w := range ws {
		r.emit(defSplitsPlanned, float64(w.Planned), w.Pipeline)
		r.emit(defSplitsTaken, float64(w.Taken), w.Pipeline)
		r.emit(defSplitsDone, float64(w.Done), w.Pipeline)
		r.emit(defSplitsRedone, float64(w.Redone), w.Pipeline)
		r.emit(defSplitsSkipped, float64(w.Skipped), w.Pipeline)
		if w.Left >= 0 {
			r.emit(defSplitsLeft, float64(w.Left), w.Pipeline)
		}
		for _, ph := range WorkerPhases {
			v := 0.0
			if ph == w.Phase {
				v = 1
			}
			r.emit(defWorkerPhase, v, w.Pipeline, ph)
		}
	}
}

// workersNotReady says why a coordinated run's worker is not ready, or
// "" when each is planning, reading a split or waiting for one: at work
// on the job.
func workersNotReady(ws []Worker) string {
	if len(ws) == 0 {
		return "no worker"
	}
	for _, w := range ws {
		switch w.Phase {
		case "planning", "reading", "waiting":
		case "connecting":
			return fmt.Sprintf("pipeline %s: worker connecting to the coordinator's NATS servers", w.Pipeline)
		default:
			return fmt.Sprintf("pipeline %s: worker %s", w.Pipeline, w.Phase)
		}
	}
	return ""
}
