package telemetry

import (
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/dataweaver/dataweaver/engine"
)

// Collector exports the figures of the pipelines added to it, read from
// the engine's atomics when Prometheus scrapes (prometheus.Collector).
// It is safe for concurrent use; pipelines may be added and removed while
// it is registered.
type Collector struct {
	descs   map[string]*prometheus.Desc
	buckets []float64 // engine.LatencyBounds in seconds

	mu        sync.Mutex
	pipelines []*engine.Pipeline
}

// NewCollector returns a collector with no pipeline.
func NewCollector() *Collector {
	c := &Collector{descs: map[string]*prometheus.Desc{}}
	for _, d := range Definitions() {
		c.descs[d.Name] = d.desc()
	}
	for _, b := range engine.LatencyBounds() {
		c.buckets = append(c.buckets, b.Seconds())
	}
	return c
}

// Add starts exporting p. p.Metrics must be set (p.NewMetrics) before p
// runs, so the collector reads the counters the run updates.
func (c *Collector) Add(p *engine.Pipeline) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.pipelines = append(c.pipelines, p)
}

// Remove stops exporting p.
func (c *Collector) Remove(p *engine.Pipeline) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for i, q := range c.pipelines {
		if q == p {
			c.pipelines = append(c.pipelines[:i], c.pipelines[i+1:]...)
			return
		}
	}
}

func (c *Collector) snapshot() []*engine.Pipeline {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]*engine.Pipeline(nil), c.pipelines...)
}

// Describe sends every metric's description.
func (c *Collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range Definitions() {
		ch <- c.descs[d.Name]
	}
}

// Collect reads every pipeline's figures.
func (c *Collector) Collect(ch chan<- prometheus.Metric) {
	for _, p := range c.snapshot() {
		if p.Metrics != nil {
			c.collect(ch, p, p.Metrics)
		}
	}
}

// emit sends one counter or gauge.
func (c *Collector) emit(ch chan<- prometheus.Metric, d Definition, v float64, labels ...string) {
	t := prometheus.GaugeValue
	if d.Type == "counter" {
		t = prometheus.CounterValue
	}
	ch <- prometheus.MustNewConstMetric(c.descs[d.Name], t, v, labels...)
}

func (c *Collector) histogram(ch chan<- prometheus.Metric, d Definition, h *engine.Histogram, labels ...string) {
	s := h.Snapshot()
	buckets := make(map[float64]uint64, len(c.buckets))
	for i, b := range c.buckets {
		buckets[b] = s.Cumulative[i]
	}
	ch <- prometheus.MustNewConstHistogram(c.descs[d.Name], s.Count, s.Sum.Seconds(), buckets, labels...)
}

func (c *Collector) collect(ch chan<- prometheus.Metric, p *engine.Pipeline, m *engine.Metrics) {
	name := p.Name
	for _, s := range m.Steps {
		c.emit(ch, defRowsIn, float64(s.RowsIn.Load()), name, s.Name, s.Kind)
		c.emit(ch, defRowsOut, float64(s.RowsOut.Load()), name, s.Name, s.Kind)
		c.emit(ch, defSkipped, float64(s.Skipped.Load()), name, s.Name, s.Kind)
		c.emit(ch, defDeadLettered, float64(s.DeadLettered.Load()), name, s.Name, s.Kind)
		c.emit(ch, defBatches, float64(s.Batches.Load()), name, s.Name, s.Kind)
		c.histogram(ch, defBatchDuration, &s.Latency, name, s.Name, s.Kind)
		if s.Kind == engine.KindSink {
			c.emit(ch, defSinkRetries, float64(s.Retries.Load()+ownRetries(p, s.Name)), name, s.Name)
		}
	}
	if len(m.Steps) > 0 {
		src := m.Steps[0]
		c.emit(ch, defSourceBytes, float64(src.Bytes.Load()), name, src.Name)
		if m.Source != nil {
			if done, total := m.Source.Progress(); total > 0 {
				c.emit(ch, defSourceRemaining, float64(max(total-done, 0)), name, src.Name)
			}
		}
		if l, ok := p.Source.Source.(engine.Lagger); ok {
			if n, ok := l.LagMessages(); ok {
				c.emit(ch, defSourceLag, float64(n), name, src.Name)
			}
		}
	}
	for _, q := range m.Queues() {
		c.emit(ch, defQueue, float64(q.Batches), name, q.Step)
		c.emit(ch, defQueueCap, float64(q.Capacity), name, q.Step)
	}
	for _, st := range p.Stages {
		g, ok := st.Stage.(engine.GuestStager)
		if !ok {
			continue
		}
		gs := g.GuestStats()
		c.histogram(ch, defWasmCall, &gs.Calls, name, st.Name)
		c.emit(ch, defWasmTraps, float64(gs.Traps.Load()), name, st.Name)
		c.emit(ch, defWasmTimeouts, float64(gs.Timeouts.Load()), name, st.Name)
		c.emit(ch, defWasmReplaced, float64(gs.Replaced.Load()), name, st.Name)
	}
	if cp := m.Checkpoints(); cp.Enabled {
		c.emit(ch, defCheckpoints, float64(cp.Saved), name)
		since := m.Start
		if !cp.Last.IsZero() {
			since = cp.Last
			c.emit(ch, defCheckpointTime, float64(cp.Last.UnixNano())/1e9, name)
		}
		c.emit(ch, defCheckpointAge, time.Since(since).Seconds(), name)
	}
	phase := m.Phase()
	for _, ph := range engine.Phases() {
		v := 0.0
		if ph == phase {
			v = 1
		}
		c.emit(ch, defPhase, v, name, ph.String())
	}
	c.emit(ch, defStart, float64(m.Start.UnixNano())/1e9, name)
}

// ownRetries is what the sink called name retried by itself
// (engine.RetryCounter), 0 for a sink that does not say.
func ownRetries(p *engine.Pipeline, name string) int64 {
	if rc, ok := p.DeadLetter.(engine.RetryCounter); ok && name == "dead_letter" {
		return rc.Retries()
	}
	for _, s := range p.Sinks {
		if rc, ok := s.Sink.(engine.RetryCounter); ok && s.Name == name {
			return rc.Retries()
		}
	}
	return 0
}
