package engine_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/dataweaver/dataweaver/engine"
	"github.com/dataweaver/dataweaver/engine/position"
)

// warmingSource is a resumable seqSource that says when it has been read
// from, and whose Open may fail.
type warmingSource struct {
	resumableSource
	openErr error
	once    sync.Once
	read    chan struct{} // closed after the first Read
}

func (s *warmingSource) Open(ctx context.Context) (*arrow.Schema, error) {
	if s.openErr != nil {
		return nil, s.openErr
	}
	return s.resumableSource.Open(ctx)
}

func (s *warmingSource) Read(ctx context.Context) (*engine.Batch, error) {
	b, err := s.resumableSource.Read(ctx)
	s.once.Do(func() { close(s.read) })
	return b, err
}

// warmingStage is a stage still preparing, as a Wasm stage compiling its
// module is: Ready waits until the test lets it finish, or until Close.
type warmingStage struct {
	funcStage
	done      chan struct{}
	err       error
	closeOnce sync.Once
}

func (s *warmingStage) Ready() error { <-s.done; return s.err }

func (s *warmingStage) Close() error {
	s.closeOnce.Do(func() { close(s.done) })
	return nil
}

// TestWarmUp: with Pipeline.Warm set, Run opens the source and reads
// ahead while the stages warm. A stage that fails to warm after the
// source has read batches fails the run with Warm's error as it is, and
// nothing of what was read is written, acknowledged or saved as a
// position; a source that cannot open reports after a failed warm-up,
// which Build would have reported first; a Drain during the warm-up ends
// the run as interrupted at once; a warm-up that succeeds delivers every
// row, those read ahead first, in order.
func TestWarmUp(t *testing.T) {
	noLeakedGoroutines(t)
	loadErr := errors.New(`pipeline.yaml:7:9: stages[0].wasm.path: module[bad.wasm] (load): missing exports [dw_process]`)
	openErr := errors.New("connection refused")
	for _, tc := range []struct {
		name    string
		openErr error
		warmErr error
		drain   bool
		want    error // nil: every row arrives
	}{
		{name: "fails after reading ahead", warmErr: loadErr, want: loadErr},
		{name: "fails, and the source cannot open", openErr: openErr, warmErr: loadErr, want: loadErr},
		{name: "the source cannot open", openErr: openErr, want: openErr},
		{name: "drained while warming", drain: true},
		{name: "warms", want: nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			const batches, rows = 12, 5
			mem := checkedMem(t)
			dir := t.TempDir()
			src := &warmingSource{resumableSource: resumableSource{seqSource: seqSource{mem: mem, batches: batches, rows: rows}, resumedAt: -1},
				openErr: tc.openErr, read: make(chan struct{})}
			stage := &warmingStage{funcStage: keep(mem, func(int64) bool { return true }), done: make(chan struct{}), err: tc.warmErr}
			sink := &abortSink{}
			drain := make(chan struct{})
			p := &engine.Pipeline{
				Name:            "warm",
				Source:          engine.SourceStep{Name: "src", Source: src},
				Stages:          []engine.StageStep{{Name: "stages[0].wasm", Stage: stage}},
				Sinks:           []engine.SinkStep{{Name: "out", Sink: sink}},
				Buffer:          3,
				Positions:       position.OpenDir(dir),
				CheckpointEvery: time.Nanosecond, // a barrier after every batch
				Drain:           drain,
			}
			p.Warm = func() error {
				if tc.openErr == nil {
					<-src.read // the source has read ahead while the stage warms
				}
				if tc.drain {
					close(drain) // and the stage finishes only when closed
				} else {
					_ = stage.Close()
				}
				return stage.Ready()
			}
			m, err := p.Run(context.Background())
			switch {
			case tc.drain:
				if err != nil || !m.Interrupted.Load() {
					t.Fatalf("Run = %v, interrupted %v; want an interrupted run", err, m.Interrupted.Load())
				}
			case tc.want != nil:
				// Warm's error as it is (Build's text); the source's
				// with the step's name in front.
				if !errors.Is(err, tc.want) || (tc.want == loadErr && err.Error() != loadErr.Error()) {
					t.Fatalf("Run = %v, want %v", err, tc.want)
				}
			case err != nil:
				t.Fatal(err)
			}
			if tc.want != nil || tc.drain {
				if tc.openErr == nil && src.readCount() == 0 {
					t.Error("the source read nothing ahead")
				}
				if len(sink.values) != 0 || src.lastAck() != nil {
					t.Errorf("a failed start-up wrote %v and acknowledged %v", sink.values, src.lastAck())
				}
				list, err := position.OpenDir(dir).List(context.Background(), "warm")
				if err != nil || len(list) != 0 {
					t.Errorf("positions %v (%v), want none saved", list, err)
				}
				return
			}
			wantSeq(t, sink.values, batches*rows, nil)
		})
	}
}

// TestValidateWarms: Validate waits for the warm-up first and reports its
// error before opening anything.
func TestValidateWarms(t *testing.T) {
	loadErr := errors.New("module[bad.wasm] (load): missing exports [dw_process]")
	src := &warmingSource{openErr: errors.New("not opened first"), read: make(chan struct{})}
	p := &engine.Pipeline{
		Source: engine.SourceStep{Name: "src", Source: src},
		Sinks:  []engine.SinkStep{{Name: "out", Sink: &collectSink{}}},
		Warm:   func() error { return loadErr },
	}
	if _, err := p.Validate(context.Background()); !errors.Is(err, loadErr) {
		t.Errorf("Validate = %v, want %v", err, loadErr)
	}
}

// stallingSource is a seqSource whose reads after the first wait, as a
// stream's do when nothing arrives, until their context ends.
type stallingSource struct {
	seqSource
	read atomic.Int32
}

func (s *stallingSource) Read(ctx context.Context) (*engine.Batch, error) {
	if s.read.Add(1) > 1 {
		<-ctx.Done()
		return nil, ctx.Err()
	}
	return s.seqSource.Read(ctx)
}

// TestDrainWhileReadingAhead: a Drain after start-up while the read ahead
// waits on a quiet source stops that read as it stops the source's own:
// the batch read ahead is written and acknowledged, and the run ends as a
// drained one.
func TestDrainWhileReadingAhead(t *testing.T) {
	noLeakedGoroutines(t)
	mem := checkedMem(t)
	src := &stallingSource{seqSource: seqSource{mem: mem, batches: -1, rows: 4}}
	drain := make(chan struct{})
	var once sync.Once
	src.onAck = func(engine.Checkpoint) { once.Do(func() { close(drain) }) }
	sink := &collectSink{}
	p := &engine.Pipeline{
		Source: engine.SourceStep{Name: "src", Source: src},
		Stages: []engine.StageStep{{Name: "pass", Stage: keep(mem, func(int64) bool { return true })}},
		Sinks:  []engine.SinkStep{{Name: "out", Sink: sink}},
		Drain:  drain,
		Warm:   func() error { return nil },
	}
	m, err := p.Run(context.Background())
	if err != nil || !m.Interrupted.Load() {
		t.Fatalf("Run = %v, interrupted %v; want a drained run", err, m.Interrupted.Load())
	}
	wantSeq(t, sink.values, 4, nil)
}
