package engine_test

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/dataweaver/dataweaver/engine"
	"github.com/dataweaver/dataweaver/engine/position"
)

// streamSource is a resumableSource that, once its batches are read,
// waits in Read for input that never comes (a stream gone quiet) until
// the run stops; waiting is closed when it starts to.
type streamSource struct {
	resumableSource
	once    sync.Once
	waiting chan struct{}
}

func (s *streamSource) Read(ctx context.Context) (*engine.Batch, error) {
	if s.next < s.batches {
		return s.resumableSource.Read(ctx)
	}
	s.once.Do(func() { close(s.waiting) })
	<-ctx.Done()
	return nil, ctx.Err()
}

// idleWindow is windowSum that also closes its open window on idle
// advance (engine.Idler), recording the quiet times it was given.
type idleWindow struct {
	windowSum
	mu    sync.Mutex
	quiet []time.Duration
	seen  int // rows processed
}

func (s *idleWindow) Process(ctx context.Context, rec arrow.RecordBatch) (arrow.RecordBatch, []engine.RowError, error) {
	s.mu.Lock()
	s.seen += int(rec.NumRows())
	s.mu.Unlock()
	return s.windowSum.Process(ctx, rec)
}

// passed waits until the stage has processed n rows: the clock may move
// only once the rows have reached it.
func (s *idleWindow) passed(n int) {
	for {
		s.mu.Lock()
		seen := s.seen
		s.mu.Unlock()
		if seen >= n {
			return
		}
		time.Sleep(time.Millisecond)
	}
}

func (s *idleWindow) IdleAfter() time.Duration { return 10 * time.Second }

func (s *idleWindow) Idle(_ context.Context, quiet time.Duration) ([]arrow.RecordBatch, error) {
	s.mu.Lock()
	s.quiet = append(s.quiet, quiet)
	s.mu.Unlock()
	if !s.open.Seen {
		return nil, nil
	}
	sum := s.open.Sum
	s.open = windowState{}
	return []arrow.RecordBatch{s.emit([]int64{sum})}, nil
}

func (s *idleWindow) quiets() []time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.quiet)
}

// TestIdleAdvance: a stream stops inside a window; the engine, on a fake
// clock, tells the stage nothing after 5 s of quiet, 10 s after the
// last row (the stage's IdleAfter), then 10 s after that; the window's
// sum reaches the part sink and is published by a checkpoint taken
// although the source has not moved, whose saved state no longer holds
// the window, and the source is acknowledged for its own batches only.
// A run resumed from that checkpoint emits nothing more on idle, so the
// sum is published once. A source that knows its size (a file) gets no
// idle advance: its end closes the windows.
// idleRun is one run of the stream pipeline of the idle tests, with a
// part sink over d and positions in dir, on clock.
type idleRun struct {
	src   *streamSource
	drain chan struct{}
	done  chan error
}

func startIdle(t *testing.T, dir string, d *disk, stage *idleWindow, clock *engine.FakeClock, batches, rows int) *idleRun {
	t.Helper()
	mem := checkedMem(t)
	stage.mem = mem
	r := &idleRun{
		src:   &streamSource{resumableSource: resumableSource{seqSource: seqSource{mem: mem, batches: batches, rows: rows}, resumedAt: -1}, waiting: make(chan struct{})},
		drain: make(chan struct{}),
		done:  make(chan error, 1),
	}
	p := &engine.Pipeline{
		Name:            "idle",
		Source:          engine.SourceStep{Name: "src", Source: r.src},
		Stages:          []engine.StageStep{{Name: "sum", Stage: stage}},
		Sinks:           []engine.SinkStep{{Name: "out", Sink: &partSink{d: d}}},
		Positions:       position.OpenDir(dir),
		CheckpointEvery: time.Millisecond,
		Drain:           r.drain,
	}
	engine.WithClock(p, clock)
	go func() { _, err := p.Run(context.Background()); r.done <- err }()
	select {
	case <-r.src.waiting:
	case err := <-r.done:
		t.Fatalf("the run ended before waiting for input: %v", err)
	}
	return r
}

// stop drains the run (SIGTERM) and waits for it.
func (r *idleRun) stop(t *testing.T) {
	t.Helper()
	close(r.drain)
	if err := <-r.done; err != nil {
		t.Fatal(err)
	}
}

// savedWindow is the state saved for the stage.
func savedWindow(t *testing.T, dir string) windowState {
	t.Helper()
	store := position.OpenDir(dir)
	defer store.Close()
	rec, err := store.Load(context.Background(), position.Key{Pipeline: "idle", Step: "src"})
	if err != nil {
		t.Fatal(err)
	}
	var saved windowState
	if err := json.Unmarshal(rec.Stages["sum"], &saved); err != nil {
		t.Fatalf("saved state %q: %v", rec.Stages["sum"], err)
	}
	return saved
}

func TestIdleAdvance(t *testing.T) {
	const batches, rows, width = 3, 10, 100 // the stream stops inside window 0
	dir := t.TempDir()
	d := &disk{}
	want := []int64{batches * rows * (batches*rows - 1) / 2}

	clock := engine.NewFakeClock()
	stage := &idleWindow{windowSum: windowSum{width: width}}
	run := startIdle(t, dir, d, stage, clock, batches, rows)
	stage.passed(batches * rows)
	clock.Advance(5 * time.Second)
	clock.Advance(5 * time.Second)
	for len(d.rows()) == 0 {
		time.Sleep(time.Millisecond) // the checkpoint that publishes the sum
	}
	clock.Advance(5 * time.Second)
	clock.Advance(5 * time.Second)
	for len(stage.quiets()) < 2 {
		time.Sleep(time.Millisecond)
	}
	run.stop(t)
	if got := stage.quiets(); !slices.Equal(got, []time.Duration{10 * time.Second, 10 * time.Second}) {
		t.Fatalf("Idle was told %v; want 10s (the quiet since the last row) then 10s (since the last advance), nothing at 5s", got)
	}
	if got := d.rows(); !slices.Equal(got, want) {
		t.Fatalf("published %v, want the window's sum %v", got, want)
	}
	if got := run.src.lastAck(); got != batches-1 {
		t.Fatalf("last ack %v, want the last batch's checkpoint %d", got, batches-1)
	}
	if savedWindow(t, dir).Seen {
		t.Fatal("the saved state holds the window idle advance closed")
	}

	// The rerun resumes after the last batch, with no window open: idle
	// advance finds nothing to emit.
	clock = engine.NewFakeClock()
	stage = &idleWindow{windowSum: windowSum{width: width}}
	run = startIdle(t, dir, d, stage, clock, batches, rows)
	clock.Advance(10 * time.Second)
	for len(stage.quiets()) < 1 {
		time.Sleep(time.Millisecond)
	}
	run.stop(t)
	if run.src.resumedAt != batches-1 || len(stage.restored) != 1 || stage.restored[0].Seen {
		t.Fatalf("resumed at %d with %+v; want after batch %d with no open window", run.src.resumedAt, stage.restored, batches-1)
	}
	if got := d.rows(); !slices.Equal(got, want) {
		t.Fatalf("published over both runs %v, want the sum once: %v", got, want)
	}

	t.Run("a source with a size", func(t *testing.T) {
		mem := checkedMem(t)
		clock := engine.NewFakeClock()
		stage := &idleWindow{windowSum: windowSum{mem: mem, width: width}}
		src := &sizedSource{seqSource: seqSource{mem: mem, batches: batches, rows: rows}}
		sink := &collectSink{}
		p := &engine.Pipeline{
			Name:   "file",
			Source: engine.SourceStep{Name: "src", Source: src},
			Stages: []engine.StageStep{{Name: "sum", Stage: stage}},
			Sinks:  []engine.SinkStep{{Name: "out", Sink: sink}},
		}
		engine.WithClock(p, clock)
		if _, err := p.Run(context.Background()); err != nil {
			t.Fatal(err)
		}
		if clock.Tickers() != 0 || !slices.Equal(sink.values, want) {
			t.Fatalf("%d tickers, sink got %v; want no idle advance and the sum at end of input", clock.Tickers(), sink.values)
		}
	})
}

// sizedSource is a seqSource that knows its size, as a file does.
type sizedSource struct{ seqSource }

func (s *sizedSource) Progress() (done, total int64) { return 0, 1 << 20 }

// TestIdleAdvanceAfterResume: a run is drained (SIGTERM) inside a window,
// which is saved open, not emitted. The next run resumes after the last
// batch and reads nothing more; idle advance closes the window, and the
// checkpoint it asks for saves the position the run resumed from again,
// with the state that no longer holds the window, so a third run emits
// nothing: the sum is published exactly once.
func TestIdleAdvanceAfterResume(t *testing.T) {
	const batches, rows, width = 3, 10, 100
	dir := t.TempDir()
	d := &disk{}
	want := []int64{batches * rows * (batches*rows - 1) / 2}

	stage := &idleWindow{windowSum: windowSum{width: width}}
	run := startIdle(t, dir, d, stage, engine.NewFakeClock(), batches, rows)
	stage.passed(batches * rows)
	run.stop(t)
	if got := d.rows(); len(got) != 0 || !savedWindow(t, dir).Seen {
		t.Fatalf("a drained run published %v and saved %+v; want the window saved open, nothing emitted", got, savedWindow(t, dir))
	}

	for i, wantQuiet := range []int{1, 1} {
		clock := engine.NewFakeClock()
		stage := &idleWindow{windowSum: windowSum{width: width}}
		run := startIdle(t, dir, d, stage, clock, batches, rows)
		clock.Advance(10 * time.Second)
		for len(stage.quiets()) < wantQuiet {
			time.Sleep(time.Millisecond)
		}
		if i == 0 {
			for len(d.rows()) == 0 {
				// Published by the checkpoint idle advance asked for,
				// once saved.
				time.Sleep(time.Millisecond)
			}
		}
		run.stop(t)
		if run.src.resumedAt != batches-1 {
			t.Fatalf("run %d resumed at %d, want after batch %d", i+2, run.src.resumedAt, batches-1)
		}
		if got := d.rows(); !slices.Equal(got, want) || savedWindow(t, dir).Seen {
			t.Fatalf("after run %d: published %v, saved %+v; want the sum once, the window saved closed", i+2, got, savedWindow(t, dir))
		}
	}
}

// idleMark passes batches on and, on idle advance, emits one row -1: a
// stage without state, which may run on several workers.
type idleMark struct{ tally }

func (s *idleMark) IdleAfter() time.Duration { return 10 * time.Second }

func (s *idleMark) Idle(context.Context, time.Duration) ([]arrow.RecordBatch, error) {
	w := &windowSum{mem: s.mem}
	return []arrow.RecordBatch{w.emit([]int64{-1})}, nil
}

// TestIdleAdvanceWorkers: whatever the stage's workers and ordering, a
// tick follows the batches before it through the stage, and what Idle
// emits reaches the sink after every row read, in a run without
// checkpoints.
func TestIdleAdvanceWorkers(t *testing.T) {
	const batches, rows = 6, 5
	for _, tc := range []struct {
		name      string
		workers   int
		unordered bool
	}{{"one worker", 1, false}, {"ordered workers", 3, false}, {"unordered workers", 3, true}} {
		t.Run(tc.name, func(t *testing.T) {
			mem := checkedMem(t)
			src := &streamSource{resumableSource: resumableSource{seqSource: seqSource{mem: mem, batches: batches, rows: rows}, resumedAt: -1}, waiting: make(chan struct{})}
			sink := &collectSink{}
			drain := make(chan struct{})
			stage := &idleMark{tally: tally{mem: mem}}
			p := &engine.Pipeline{
				Name:   "marks",
				Source: engine.SourceStep{Name: "src", Source: src},
				Stages: []engine.StageStep{{Name: "mark", Stage: stage, Workers: tc.workers, Unordered: tc.unordered}},
				Sinks:  []engine.SinkStep{{Name: "out", Sink: sink}},
				Drain:  drain,
			}
			clock := engine.NewFakeClock()
			engine.WithClock(p, clock)
			done := make(chan error, 1)
			go func() { _, err := p.Run(context.Background()); done <- err }()
			<-src.waiting
			for stage.rows.Load() < batches*rows {
				time.Sleep(time.Millisecond)
			}
			clock.Advance(10 * time.Second)
			for {
				sink.mu.Lock()
				n := len(sink.values)
				sink.mu.Unlock()
				if n > batches*rows {
					break
				}
				time.Sleep(time.Millisecond)
			}
			close(drain)
			if err := <-done; err != nil {
				t.Fatal(err)
			}
			// A run without checkpoints finishes its stages when drained:
			// tally's count comes last.
			if got := sink.values; len(got) != batches*rows+2 || got[batches*rows] != -1 {
				t.Fatalf("the sink got %v; want the %d rows, the idle mark -1, then the tally", got, batches*rows)
			}
		})
	}
}

// idleFails is an Idler whose Idle fails.
type idleFails struct{ idleMark }

func (s *idleFails) Idle(context.Context, time.Duration) ([]arrow.RecordBatch, error) {
	return nil, errors.New("the guest trapped")
}

// TestIdleAdvanceFailure: a failed idle advance has no input row to
// reject, so it fails the run whatever the stage's on_error says.
func TestIdleAdvanceFailure(t *testing.T) {
	mem := checkedMem(t)
	src := &streamSource{resumableSource: resumableSource{seqSource: seqSource{mem: mem, batches: 2, rows: 5}, resumedAt: -1}, waiting: make(chan struct{})}
	stage := &idleFails{idleMark{tally: tally{mem: mem}}}
	p := &engine.Pipeline{
		Name:   "fails",
		Source: engine.SourceStep{Name: "src", Source: src},
		Stages: []engine.StageStep{{Name: "mark", Stage: stage, OnError: engine.Skip}},
		Sinks:  []engine.SinkStep{{Name: "out", Sink: &collectSink{}}},
	}
	clock := engine.NewFakeClock()
	engine.WithClock(p, clock)
	done := make(chan error, 1)
	go func() { _, err := p.Run(context.Background()); done <- err }()
	<-src.waiting
	for stage.rows.Load() < 10 {
		time.Sleep(time.Millisecond)
	}
	clock.Advance(10 * time.Second)
	if err := <-done; err == nil || !strings.Contains(err.Error(), "stage mark: idle advance: the guest trapped") {
		t.Fatalf("Run: %v; want the idle advance's failure, on_error: skip or not", err)
	}
}
