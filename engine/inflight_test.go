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
