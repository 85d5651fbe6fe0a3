package engine_test

import (
	"context"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dataweaver/dataweaver/engine"
	"github.com/dataweaver/dataweaver/engine/position"
)

// TestLatencyCountsEveryBatch: each step's latency histogram counts
// exactly the batches the step counts, the dead-letter sink's included,
// and the sink's retries are counted.
func TestLatencyCountsEveryBatch(t *testing.T) {
	noLeakedGoroutines(t)
	mem := checkedMem(t)
	const batches, rows = 30, 10
	sink := &collectSink{failures: 2}
	dlq := &collectSink{}
	p := &engine.Pipeline{
		Name:   "latency",
		Source: engine.SourceStep{Name: "src", Source: &seqSource{mem: mem, batches: batches, rows: rows}},
		Stages: []engine.StageStep{
			{Name: "odd", Stage: keep(mem, func(v int64) bool { return v%2 == 1 }), OnError: engine.DeadLetter, Workers: 3},
			{Name: "all", Stage: keep(mem, func(int64) bool { return true }), Workers: 2, Unordered: true},
		},
		Sinks:      []engine.SinkStep{{Name: "out", Sink: sink, Retry: engine.Retry{Attempts: 3, Initial: time.Microsecond, Max: time.Microsecond}}},
		DeadLetter: dlq,
		Buffer:     3,
	}
	p.Metrics = p.NewMetrics()
	if got := p.Metrics.Phase(); got != engine.PhaseStarting {
		t.Errorf("phase before Run = %s, want starting", got)
	}
	m, err := p.Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range m.Steps {
		if got, want := s.Latency.Snapshot().Count, uint64(s.Batches.Load()); got != want || want == 0 {
			t.Errorf("step %s: latency count %d, batches %d (want equal, > 0)", s.Name, got, want)
		}
	}
	if got := m.Step("out").Retries.Load(); got != 2 {
		t.Errorf("sink retries = %d, want 2 (two failed writes tried again)", got)
	}
	if got := m.Step("dead_letter").RowsIn.Load(); got != batches*rows/2 {
		t.Errorf("dead-lettered rows = %d, want %d", got, batches*rows/2)
	}
	if got := m.Phase(); got != engine.PhaseEnded {
		t.Errorf("phase after Run = %s, want ended", got)
	}
	var names []string
	for _, q := range m.Queues() {
		names = append(names, q.Step)
		if q.Capacity != 3 || q.Batches != 0 {
			t.Errorf("queue before %s: %d of %d batches after the run, want 0 of 3", q.Step, q.Batches, q.Capacity)
		}
	}
	if want := []string{"odd", "all", engine.FanOutQueue, "out"}; !slices.Equal(names, want) {
		t.Errorf("queues %v, want %v", names, want)
	}
}

// TestPhaseFollowsTheRun: running once every step is open and while
// batches flow, draining after Drain, ended after Run; the queue in front
// of a blocked sink fills up.
func TestPhaseFollowsTheRun(t *testing.T) {
	noLeakedGoroutines(t)
	mem := checkedMem(t)
	gate := make(chan struct{})
	drain := make(chan struct{})
	p := &engine.Pipeline{
		Name:   "phase",
		Source: engine.SourceStep{Name: "src", Source: &seqSource{mem: mem, batches: -1, rows: 4}},
		Sinks:  []engine.SinkStep{{Name: "out", Sink: &collectSink{gate: gate}}},
		Drain:  drain,
		Buffer: 2,
	}
	p.Metrics = p.NewMetrics()
	done := make(chan error, 1)
	go func() { _, err := p.Run(context.Background()); done <- err }()
	m := p.Metrics
	// The sink blocks in its first Write: the queue in front of it fills.
	for !slices.ContainsFunc(m.Queues(), func(q engine.QueueDepth) bool { return q.Step == "out" && q.Batches == q.Capacity }) {
		time.Sleep(time.Millisecond)
	}
	if got := m.Phase(); got != engine.PhaseRunning {
		t.Errorf("phase while batches flow = %s, want running", got)
	}
	close(drain)
	for m.Phase() != engine.PhaseDraining && m.Phase() != engine.PhaseEnded {
		time.Sleep(time.Millisecond)
	}
	close(gate)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if got := m.Phase(); got != engine.PhaseEnded {
		t.Errorf("phase after Run = %s, want ended", got)
	}
}

// TestCheckpointsCounted: every saved position is counted, and the last
// one's time is kept.
func TestCheckpointsCounted(t *testing.T) {
	mem := checkedMem(t)
	var saves atomic.Int64
	store := &watchStore{Store: position.OpenDir(t.TempDir()), onSave: func(position.Record) { saves.Add(1) }}
	src := &resumableSource{seqSource: seqSource{mem: mem, batches: 20, rows: 5}, resumedAt: -1}
	p := &engine.Pipeline{
		Name:            "ckpt",
		Source:          engine.SourceStep{Name: "src", Source: src},
		Sinks:           []engine.SinkStep{{Name: "out", Sink: &collectSink{}}},
		Positions:       store,
		CheckpointEvery: time.Nanosecond,
	}
	p.Metrics = p.NewMetrics()
	if cp := p.Metrics.Checkpoints(); cp.Enabled || cp.Saved != 0 {
		t.Errorf("before Run: %+v, want nothing", cp)
	}
	before := time.Now()
	m, err := p.Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	cp := m.Checkpoints()
	if !cp.Enabled || cp.Saved != saves.Load() || cp.Saved < 2 {
		t.Errorf("checkpoints %+v, store saw %d saves", cp, saves.Load())
	}
	if cp.Last.Before(before.Truncate(time.Second)) || cp.Last.After(time.Now()) {
		t.Errorf("last checkpoint at %s, want during the run (from %s)", cp.Last, before)
	}
}
