package telemetry

import (
	"strconv"
	"strings"
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
	// retired holds the counters and histograms of the runs Remove took
	// out, by series, so a pipeline's counters go on growing across its
	// runs in one process (weave serve's restarts and reloads) instead of
	// resetting, or vanishing when a run ends.
	retired map[string]*series
	// supervised, when set, lists weave serve's pipelines.
	supervised func() []Supervised
	// workers, when set, lists a coordinated run's workers (Coordinate).
	workers func() []Worker
}

// Supervised is what weave serve knows of one pipeline beyond its runs.
type Supervised struct {
	Pipeline          string
	State             string // one of ServeStates
	Restarts, Reloads int
}

// Supervise makes the collector export weave serve's restarts, reloads
// and states, read from list at each scrape. list must name each
// pipeline once.
func (c *Collector) Supervise(list func() []Supervised) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.supervised = list
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

// Remove stops exporting p's run. Its counters and histograms stay: the
// next run of a pipeline of the same name continues them, and until then
// they are exported at their final values (a Prometheus counter resets
// only when the process does). Its gauges go with it.
func (c *Collector) Remove(p *engine.Pipeline) {
	var final []*series
	if p.Metrics != nil {
		final = read(p, p.Metrics)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for i, q := range c.pipelines {
		if q == p {
			c.pipelines = append(c.pipelines[:i], c.pipelines[i+1:]...)
			break
		}
	}
	if c.retired == nil {
		c.retired = map[string]*series{}
	}
	for _, s := range final {
		if !s.cumulative() {
			continue
		}
		if r, ok := c.retired[s.key()]; ok {
			r.add(s)
		} else {
			c.retired[s.key()] = s
		}
	}
}

func (c *Collector) snapshot() []*engine.Pipeline {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]*engine.Pipeline(nil), c.pipelines...)
}

// retiredCopy copies the retired series, so a scrape adds to them without
// holding the lock.
func (c *Collector) retiredCopy() map[string]series {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make(map[string]series, len(c.retired))
	for k, s := range c.retired {
		out[k] = *s
	}
	return out
}

// Describe sends every metric's description.
func (c *Collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range Definitions() {
		ch <- c.descs[d.Name]
	}
}

// Collect reads every pipeline's figures: the live runs' and, for counters
// and histograms, what the ended runs of the same series counted.
func (c *Collector) Collect(ch chan<- prometheus.Metric) {
	retired := c.retiredCopy()
	for _, p := range c.snapshot() {
		if p.Metrics == nil {
			continue
		}
		for _, s := range read(p, p.Metrics) {
			if r, ok := retired[s.key()]; ok && s.cumulative() {
				s.add(&r)
				delete(retired, s.key())
			}
			c.send(ch, s)
		}
	}
	for _, s := range retired {
		c.send(ch, &s)
	}
	if list := c.workerList(); list != nil {
		var r reader
		r.collectWorkers(list())
		for _, s := range r {
			c.send(ch, s)
		}
	}
	c.mu.Lock()
	list := c.supervised
	c.mu.Unlock()
	if list == nil {
		return
	}
	for _, p := range list() {
		c.send(ch, &series{def: defRestarts, labels: []string{p.Pipeline}, value: float64(p.Restarts)})
		c.send(ch, &series{def: defReloads, labels: []string{p.Pipeline}, value: float64(p.Reloads)})
		for _, st := range ServeStates {
			v := 0.0
			if st == p.State {
				v = 1
			}
			c.send(ch, &series{def: defState, labels: []string{p.Pipeline, st}, value: v})
		}
	}
}

// send hands one series to Prometheus.
func (c *Collector) send(ch chan<- prometheus.Metric, s *series) {
	desc := c.descs[s.def.Name]
	switch s.def.Type {
	case "histogram":
		buckets := make(map[float64]uint64, len(c.buckets))
		for i, b := range c.buckets {
			buckets[b] = s.hist.Cumulative[i]
		}
		ch <- prometheus.MustNewConstHistogram(desc, s.hist.Count, s.hist.Sum.Seconds(), buckets, s.labels...)
	case "counter":
		ch <- prometheus.MustNewConstMetric(desc, prometheus.CounterValue, s.value, s.labels...)
	default:
		ch <- prometheus.MustNewConstMetric(desc, prometheus.GaugeValue, s.value, s.labels...)
	}
}

// series is one counter, gauge or histogram of one run.
type series struct {
	def    Definition
	labels []string
	value  float64
	hist   *engine.HistogramSnapshot // histograms only
}

// key identifies a series among every pipeline's: its name and labels.
func (s *series) key() string { return s.def.Name + "\xff" + strings.Join(s.labels, "\xff") }

// cumulative reports whether a series adds up across runs: counters and
// histograms do; a gauge is the live run's alone.
func (s *series) cumulative() bool { return s.def.Type != "gauge" }

// add folds o, the same series of another run, into s.
func (s *series) add(o *series) {
	s.value += o.value
	if s.hist == nil || o.hist == nil {
		return
	}
	h := engine.HistogramSnapshot{Count: s.hist.Count + o.hist.Count, Sum: s.hist.Sum + o.hist.Sum,
		Cumulative: make([]uint64, len(s.hist.Cumulative))}
	for i := range h.Cumulative {
		h.Cumulative[i] = s.hist.Cumulative[i] + o.hist.Cumulative[i]
	}
	s.hist = &h
}

// reader gathers one run's series.
type reader []*series

// read returns every series of p's run.
func read(p *engine.Pipeline, m *engine.Metrics) []*series {
	var r reader
	r.collect(p, m)
	return r
}

func (r *reader) emit(d Definition, v float64, labels ...string) {
	*r = append(*r, &series{def: d, labels: labels, value: v})
}

func (r *reader) histogram(d Definition, h *engine.Histogram, labels ...string) {
	s := h.Snapshot()
	*r = append(*r, &series{def: d, labels: labels, hist: &s})
}

func (c *reader) collect(p *engine.Pipeline, m *engine.Metrics) {
	name := p.Name
	for _, s := range m.Steps {
		c.emit(defRowsIn, float64(s.RowsIn.Load()), name, s.Name, s.Kind)
		c.emit(defRowsOut, float64(s.RowsOut.Load()), name, s.Name, s.Kind)
		c.emit(defSkipped, float64(s.Skipped.Load()), name, s.Name, s.Kind)
		c.emit(defDeadLettered, float64(s.DeadLettered.Load()), name, s.Name, s.Kind)
		c.emit(defBatches, float64(s.Batches.Load()), name, s.Name, s.Kind)
		c.histogram(defBatchDuration, &s.Latency, name, s.Name, s.Kind)
		if s.Kind == engine.KindSink {
			c.emit(defSinkRetries, float64(s.Retries.Load()+ownRetries(p, s.Name)), name, s.Name)
		}
	}
	if len(m.Steps) > 0 {
		src := m.Steps[0]
		c.emit(defSourceBytes, float64(src.Bytes.Load()), name, src.Name)
		if m.Source != nil {
			if done, total := m.Source.Progress(); total > 0 {
				c.emit(defSourceRemaining, float64(max(total-done, 0)), name, src.Name)
			}
		}
		if l, ok := p.Source.Source.(engine.Lagger); ok {
			if n, ok := l.LagMessages(); ok {
				c.emit(defSourceLag, float64(n), name, src.Name)
			}
		}
		if rc, ok := p.Source.Source.(engine.RequestCounter); ok {
			st := rc.RequestStats()
			for code, n := range st.Replies {
				c.emit(defSourceRequests, float64(n), name, src.Name, strconv.Itoa(code))
			}
			for reason, n := range st.Refused {
				c.emit(defSourceRefused, float64(n), name, src.Name, reason)
			}
			c.emit(defSourceRequestBytes, float64(st.BodyBytes), name, src.Name)
		}
	}
	for _, q := range m.Queues() {
		c.emit(defQueue, float64(q.Batches), name, q.Step)
		c.emit(defQueueCap, float64(q.Capacity), name, q.Step)
	}
	for _, st := range p.Stages {
		g, ok := st.Stage.(engine.GuestStager)
		if !ok {
			continue
		}
		gs := g.GuestStats()
		c.histogram(defWasmCall, &gs.Calls, name, st.Name)
		c.emit(defWasmTraps, float64(gs.Traps.Load()), name, st.Name)
		c.emit(defWasmTimeouts, float64(gs.Timeouts.Load()), name, st.Name)
		c.emit(defWasmReplaced, float64(gs.Replaced.Load()), name, st.Name)
	}
	if cp := m.Checkpoints(); cp.Enabled {
		c.emit(defCheckpoints, float64(cp.Saved), name)
		since := m.Start
		if !cp.Last.IsZero() {
			since = cp.Last
			c.emit(defCheckpointTime, float64(cp.Last.UnixNano())/1e9, name)
		}
		c.emit(defCheckpointAge, time.Since(since).Seconds(), name)
	}
	phase := m.Phase()
	for _, ph := range engine.Phases() {
		v := 0.0
		if ph == phase {
			v = 1
		}
		c.emit(defPhase, v, name, ph.String())
	}
	c.emit(defStart, float64(m.Start.UnixNano())/1e9, name)
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
