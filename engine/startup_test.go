package engine_test

import (
	"context"
	"sync/atomic"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/dataweaver/dataweaver/engine"
)

// slowOpenSource's Open waits, as a connect to a database that does not
// answer does, until its context ends.
type slowOpenSource struct {
	seqSource
	opening chan struct{} // closed when Open starts waiting
}

func (s *slowOpenSource) Open(ctx context.Context) (*arrow.Schema, error) {
	close(s.opening)
	<-ctx.Done()
	return nil, context.Cause(ctx)
}

// TestDrainDuringStartUp: a Drain (the first Ctrl-C or SIGTERM) while a
// step is still opening stops the start-up: Run returns without error as
// an interrupted run, and no sink publishes an empty output.
func TestDrainDuringStartUp(t *testing.T) {
	src := &slowOpenSource{seqSource: seqSource{mem: checkedMem(t), batches: -1, rows: 1}, opening: make(chan struct{})}
	sink := &abortSink{}
	drain := make(chan struct{})
	p := &engine.Pipeline{
		Source: engine.SourceStep{Name: "source.slow", Source: src},
		Sinks:  []engine.SinkStep{{Name: "sinks[0]", Sink: sink}},
		Drain:  drain,
	}
	go func() { <-src.opening; close(drain) }()
	m, err := p.Run(context.Background())
	if err != nil {
		t.Fatalf("Run = %v, want an interrupted run without error", err)
	}
	if !m.Interrupted.Load() {
		t.Error("the run is not marked interrupted")
	}
	if !sink.aborted {
		t.Error("the sink was closed, not aborted: its output would be replaced by an empty one")
	}
}

// ctxSource keeps the context it was opened with, as a client started in
// Open does, and reports at Close whether it was cancelled.
type ctxSource struct {
	seqSource
	ctx            context.Context
	cancelledFirst atomic.Bool
}

func (s *ctxSource) Open(ctx context.Context) (*arrow.Schema, error) {
	s.ctx = ctx
	return numSchema, nil
}

func (s *ctxSource) Close() error {
	s.cancelledFirst.Store(s.ctx.Err() != nil)
	return nil
}

// TestDrainAfterStartUp: once every step is open, a Drain is a drain: the
// context the steps were opened with stays live until they are closed, so
// what they started in Open can finish the batches in flight.
func TestDrainAfterStartUp(t *testing.T) {
	mem := checkedMem(t)
	src := &ctxSource{seqSource: seqSource{mem: mem, batches: -1, rows: 10}}
	drain := make(chan struct{})
	sink := &collectSink{}
	var once atomic.Bool
	src.onAck = func(engine.Checkpoint) {
		if once.CompareAndSwap(false, true) {
			close(drain)
		}
	}
	p := &engine.Pipeline{
		Source: engine.SourceStep{Name: "source", Source: src},
		Sinks:  []engine.SinkStep{{Name: "sinks[0]", Sink: sink}},
		Drain:  drain,
	}
	m, err := p.Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if !m.Interrupted.Load() {
		t.Error("the run is not marked interrupted")
	}
	if src.cancelledFirst.Load() {
		t.Error("the source's Open context was cancelled before Close: a drain after start-up cut it off")
	}
	if len(sink.values) == 0 {
		t.Error("nothing reached the sink before the drain")
	}
}
