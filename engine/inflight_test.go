package engine_test

import (
	"context"
	"sync"
	"testing"

	"github.com/dataweaver/dataweaver/engine"
)

// watchedSource is a seqSource that checks, at every Read, how many batches
// it has handed out that the slow sink has not yet written.
type watchedSource struct {
	seqSource
	slow *collectSink
	cond *sync.Cond // broadcast after every Read
	most int        // largest count of batches in flight seen at a Read
}

func (s *watchedSource) Read(ctx context.Context) (*engine.Batch, error) {
	s.slow.mu.Lock()
	written := s.slow.written
	s.slow.mu.Unlock()
	b, err := s.seqSource.Read(ctx)
	s.cond.L.Lock()
	s.most = max(s.most, s.readCount()-1-written) // not counting the batch being read
	s.cond.Broadcast()
	s.cond.L.Unlock()
	return b, err
}

// TestInFlightBounded runs many batches through three stages into a fast
// and a slow sink and checks that the source never has more than InFlight
// batches out that a sink has not written: the queues between steps (4 each)
// would hold 16 here, and a real pipeline's batches are megabytes each. The
// slow sink is released one batch at a time, only once the source has
// read as far ahead as it may, so a source allowed further would go further.
func TestInFlightBounded(t *testing.T) {
	const batches, inFlight = 40, 3
	mem := checkedMem(t)
	noLeakedGoroutines(t)
	slow := &collectSink{gate: make(chan struct{})}
	src := &watchedSource{seqSource: seqSource{mem: mem, batches: batches, rows: 10}, slow: slow, cond: sync.NewCond(&sync.Mutex{})}
	all := func(int64) bool { return true }
	p := &engine.Pipeline{
		Name:   "t",
		Source: engine.SourceStep{Name: "src", Source: src},
		Stages: []engine.StageStep{
			{Name: "a", Stage: keep(mem, all)}, {Name: "b", Stage: keep(mem, all)}, {Name: "c", Stage: keep(mem, all)},
		},
		Sinks:    []engine.SinkStep{{Name: "fast", Sink: &collectSink{}}, {Name: "slow", Sink: slow}},
		InFlight: inFlight,
	}
	done := make(chan error, 1)
	go func() {
		_, err := p.Run(context.Background())
		done <- err
	}()
	for i := 0; i < batches; i++ {
		src.cond.L.Lock()
		for src.readCount() < min(i+inFlight, batches) {
			src.cond.Wait()
		}
		src.cond.L.Unlock()
		slow.gate <- struct{}{}
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	wantSeq(t, slow.values, batches*10, all)
	if src.most > inFlight-1 {
		t.Errorf("the source had up to %d batches in flight, want at most InFlight-1 = %d besides the one being read", src.most, inFlight-1)
	}
}

// TestInFlightDrainWhileFull drains a run whose source is held back by the
// cap (the sink has not written anything yet): the run ends as a drain,
// without error, and exactly the batches read are written and acknowledged.
func TestInFlightDrainWhileFull(t *testing.T) {
	const inFlight = 2
	mem := checkedMem(t)
	noLeakedGoroutines(t)
	drain := make(chan struct{})
	slow := &collectSink{gate: make(chan struct{})}
	src := &watchedSource{seqSource: seqSource{mem: mem, batches: -1, rows: 10}, slow: slow, cond: sync.NewCond(&sync.Mutex{})}
	p := &engine.Pipeline{
		Name:     "t",
		Source:   engine.SourceStep{Name: "src", Source: src},
		Stages:   []engine.StageStep{{Name: "a", Stage: keep(mem, func(int64) bool { return true })}},
		Sinks:    []engine.SinkStep{{Name: "slow", Sink: slow}},
		InFlight: inFlight,
		Drain:    drain,
	}
	done := make(chan error, 1)
	go func() {
		_, err := p.Run(context.Background())
		done <- err
	}()
	src.cond.L.Lock()
	for src.readCount() < inFlight {
		src.cond.Wait()
	}
	src.cond.L.Unlock()
	close(drain)
	var err error
	for fed := false; !fed; {
		select {
		case slow.gate <- struct{}{}:
		case err = <-done:
			fed = true
		}
	}
	if err != nil {
		t.Fatalf("a drain should end the run without error: %v", err)
	}
	// The drain reaches the source through a goroutine, so a batch the
	// sink frees meanwhile may still be read: every batch read counts.
	reads := src.readCount()
	wantSeq(t, slow.values, reads*10, nil)
	if got := src.lastAck(); got != reads-1 {
		t.Errorf("last ack %v, want %d", got, reads-1)
	}
}
