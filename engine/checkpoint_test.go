package engine_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/dataweaver/dataweaver/engine"
	"github.com/dataweaver/dataweaver/engine/position"
)

// resumableSource is a seqSource that continues after a saved batch index.
type resumableSource struct {
	seqSource
	resumedAt int // -1 until Resume
}

func (s *resumableSource) Resume(pos []byte) error {
	var i int
	if err := json.Unmarshal(pos, &i); err != nil {
		return err
	}
	s.next, s.resumedAt = i+1, i
	return nil
}

// disk stands in for a directory of part files that outlives a sink
// object: what a fresh sink built after a "crash" finds.
type disk struct {
	mu        sync.Mutex
	visible   [][]int64          // published parts
	prepared  map[string][]int64 // prepared, not yet published, by part name
	parts     int
	commitErr error // the next Commit fails with it (a crash between save and publish)
}

// partSink publishes its rows in parts at checkpoints, like the file sink's
// directory mode.
type partSink struct {
	d       *disk
	current []int64
	// onPrepare, when set, sees the rows of every part prepared.
	onPrepare func(rows []int64)
}

func (s *partSink) Open(context.Context, *arrow.Schema) error { return nil }
func (s *partSink) Write(_ context.Context, rec arrow.RecordBatch) error {
	c := rec.Column(0).(*array.Int64)
	for i := 0; i < c.Len(); i++ {
		s.current = append(s.current, c.Value(i))
	}
	return nil
}
func (s *partSink) Flush(context.Context) error { return nil }
func (s *partSink) Close() error                { return nil }

func (s *partSink) Prepare(context.Context) ([]byte, error) {
	if len(s.current) == 0 {
		return nil, nil
	}
	s.d.mu.Lock()
	defer s.d.mu.Unlock()
	s.d.parts++
	name := fmt.Sprintf("part-%06d", s.d.parts)
	if s.d.prepared == nil {
		s.d.prepared = map[string][]int64{}
	}
	s.d.prepared[name] = s.current
	if s.onPrepare != nil {
		s.onPrepare(s.current)
	}
	s.current = nil
	return []byte(name), nil
}

func (s *partSink) Commit(_ context.Context, prepared []byte) error {
	s.d.mu.Lock()
	defer s.d.mu.Unlock()
	if err := s.d.commitErr; err != nil {
		s.d.commitErr = nil
		return err
	}
	name := string(prepared)
	if rows, ok := s.d.prepared[name]; ok {
		s.d.visible = append(s.d.visible, rows)
		delete(s.d.prepared, name)
	}
	return nil
}

func (d *disk) rows() []int64 {
	d.mu.Lock()
	defer d.mu.Unlock()
	var all []int64
	for _, p := range d.visible {
		all = append(all, p...)
	}
	return all
}

// failAfter is a sink that fails the run (a permanent error) once it has
// been given n batches: a run that dies in the middle.
type failAfter struct {
	partSink
	n int
}

func (s *failAfter) Write(ctx context.Context, rec arrow.RecordBatch) error {
	if s.n == 0 {
		return engine.Permanent(errors.New("the machine died"))
	}
	s.n--
	return s.partSink.Write(ctx, rec)
}

func TestCheckpointsResumeExactlyOnceThroughParts(t *testing.T) {
	const batches, rows = 40, 10
	dir := t.TempDir()
	d := &disk{}
	run := func(sink engine.Sink) (*engine.Metrics, *resumableSource, error) {
		mem := checkedMem(t)
		src := &resumableSource{seqSource: seqSource{mem: mem, batches: batches, rows: rows}, resumedAt: -1}
		p := &engine.Pipeline{
			Name:            "parts",
			Source:          engine.SourceStep{Name: "src", Source: src},
			Stages:          []engine.StageStep{{Name: "pass", Stage: keep(mem, func(int64) bool { return true }), Workers: 3}},
			Sinks:           []engine.SinkStep{{Name: "out", Sink: sink, Retry: engine.Retry{Attempts: 1}}},
			Positions:       position.OpenDir(dir), // a fresh store object every run
			CheckpointEvery: time.Nanosecond,       // a barrier after every batch
		}
		m, err := p.Run(context.Background())
		return m, src, err
	}
	if _, _, err := run(&failAfter{partSink: partSink{d: d}, n: 17}); err == nil {
		t.Fatal("the first run should fail")
	}
	first := len(d.rows())
	if first == 0 || first >= batches*rows {
		t.Fatalf("the first run published %d rows; want some, not all", first)
	}
	m, src, err := run(&partSink{d: d})
	if err != nil {
		t.Fatal(err)
	}
	if src.resumedAt != first/rows-1 {
		t.Errorf("second run resumed after batch %d, want %d (the last one published)", src.resumedAt, first/rows-1)
	}
	if !m.Resumed || m.EndPosition() == "" {
		t.Errorf("metrics: resumed %v, end %q", m.Resumed, m.EndPosition())
	}
	wantSeq(t, d.rows(), batches*rows, nil)
}

func TestCheckpointsPublishWhatACrashPrepared(t *testing.T) {
	const batches, rows = 12, 5
	dir := t.TempDir()
	d := &disk{}
	run := func() error {
		mem := checkedMem(t)
		src := &resumableSource{seqSource: seqSource{mem: mem, batches: batches, rows: rows}, resumedAt: -1}
		p := &engine.Pipeline{
			Name:            "crash",
			Source:          engine.SourceStep{Name: "src", Source: src},
			Sinks:           []engine.SinkStep{{Name: "out", Sink: &partSink{d: d}}},
			Positions:       position.OpenDir(dir),
			CheckpointEvery: time.Nanosecond,
		}
		_, err := p.Run(context.Background())
		return err
	}
	// The position of the first checkpoint is saved, then publishing it
	// fails: the process dies with a prepared part not yet visible.
	d.commitErr = errors.New("killed before the rename")
	if err := run(); err == nil {
		t.Fatal("the first run should fail")
	}
	if len(d.prepared) != 1 || len(d.visible) != 0 {
		t.Fatalf("after the crash: %d prepared, %d visible parts; want 1 and 0", len(d.prepared), len(d.visible))
	}
	if err := run(); err != nil {
		t.Fatal(err)
	}
	wantSeq(t, d.rows(), batches*rows, nil)
}

// An unordered stage lets batches overtake each other but never a
// barrier: every part prepared holds exactly the rows before the position
// saved with it.
func TestCheckpointsUnorderedStageKeepsBarriers(t *testing.T) {
	noLeakedGoroutines(t)
	mem := checkedMem(t)
	const batches, rows = 200, 4
	src := &resumableSource{seqSource: seqSource{mem: mem, batches: batches, rows: rows}, resumedAt: -1}
	var mu sync.Mutex
	var published []int64
	var bad []string
	store := &watchStore{Store: position.OpenDir(t.TempDir()), onSave: func(rec position.Record) {
		var upto int
		json.Unmarshal(rec.Source, &upto)
		mu.Lock()
		defer mu.Unlock()
		got := slices.Clone(published)
		slices.Sort(got)
		if len(got) != (upto+1)*rows || (len(got) > 0 && got[len(got)-1] != int64((upto+1)*rows-1)) {
			bad = append(bad, fmt.Sprintf("position after batch %d saved with %d rows written", upto, len(got)))
		}
	}}
	sink := &partSink{d: &disk{}, onPrepare: func(r []int64) {
		mu.Lock()
		published = append(published, r...)
		mu.Unlock()
	}}
	jitter := funcStage{f: func(rec arrow.RecordBatch) (arrow.RecordBatch, []engine.RowError, error) {
		time.Sleep(time.Duration(rand.IntN(300)) * time.Microsecond)
		rec.Retain()
		return rec, nil, nil
	}}
	p := &engine.Pipeline{
		Name:            "unordered",
		Source:          engine.SourceStep{Name: "src", Source: src},
		Stages:          []engine.StageStep{{Name: "jitter", Stage: jitter, Workers: 6, Unordered: true}},
		Sinks:           []engine.SinkStep{{Name: "out", Sink: sink}},
		Positions:       store,
		CheckpointEvery: time.Nanosecond,
	}
	if _, err := p.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	for _, b := range bad {
		t.Error(b)
	}
	if store.saves < 10 {
		t.Errorf("only %d checkpoints taken; the test needs many", store.saves)
	}
}

type watchStore struct {
	position.Store
	onSave func(position.Record)
	saves  int
}

func (w *watchStore) Save(ctx context.Context, key position.Key, rec position.Record) (uint64, error) {
	w.onSave(rec)
	w.saves++
	return w.Store.Save(ctx, key, rec)
}

// replaceSink writes one output that each run replaces, like a single file
// renamed into place at Close.
type replaceSink struct {
	collectSink
	aborted bool
}

func (s *replaceSink) ReplacesOutput() bool { return true }
func (s *replaceSink) Abort()               { s.aborted = true }

func TestCheckpointsOffWhenASinkReplacesItsOutput(t *testing.T) {
	mem := checkedMem(t)
	dir := t.TempDir()
	src := &resumableSource{seqSource: seqSource{mem: mem, batches: 5, rows: 3}, resumedAt: -1}
	p := &engine.Pipeline{
		Name:      "replace",
		Source:    engine.SourceStep{Name: "src", Source: src},
		Sinks:     []engine.SinkStep{{Name: "file", Sink: &replaceSink{}}},
		Positions: position.OpenDir(dir),
	}
	m, err := p.Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if m.EndPosition() != "" || m.Positions == "" {
		t.Errorf("positions: end %q, note %q; want none saved, and why", m.EndPosition(), m.Positions)
	}
	list, err := position.OpenDir(dir).List(context.Background(), "replace")
	if err != nil || len(list) != 0 {
		t.Errorf("saved %v, %v; want nothing", list, err)
	}
}

func TestDrainAbandonsReplacedOutput(t *testing.T) {
	mem := checkedMem(t)
	drain := make(chan struct{})
	src := &seqSource{mem: mem, batches: -1, rows: 10}
	sink := &replaceSink{}
	var once sync.Once
	src.onAck = func(cp engine.Checkpoint) {
		if cp.(int) >= 3 {
			once.Do(func() { close(drain) })
		}
	}
	p := &engine.Pipeline{
		Source: engine.SourceStep{Name: "src", Source: src},
		Sinks:  []engine.SinkStep{{Name: "file", Sink: sink}},
		Drain:  drain,
	}
	m, err := p.Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if !m.Interrupted.Load() || !sink.aborted || !slices.Equal(m.Abandoned, []string{"file"}) {
		t.Errorf("interrupted %v, aborted %v, abandoned %v; want the truncated output thrown away", m.Interrupted.Load(), sink.aborted, m.Abandoned)
	}
}

// With a dead-letter sink that publishes at checkpoints, no batch is
// acknowledged to its source before the rejects it produced are published:
// a broker must not forget a message whose dead letter is still a
// temporary part.
func TestCheckpointsAckAfterDeadLettersPublished(t *testing.T) {
	mem := checkedMem(t)
	const batches, rows = 30, 10
	dlq := &partSink{d: &disk{}}
	rejects := map[int][]engine.RowError{}
	for b := 0; b < batches; b += 3 {
		rejects[b] = []engine.RowError{{Row: 0, Err: errors.New("bad"), Raw: []byte(fmt.Sprintf("raw %d", b))}}
	}
	src := &seqSource{mem: mem, batches: batches, rows: rows, rejects: rejects}
	var bad []string
	src.onAck = func(cp engine.Checkpoint) {
		// Every reject of batches 0..cp must be in a published part.
		dlq.d.mu.Lock()
		published := 0
		for _, p := range dlq.d.visible {
			published += len(p)
		}
		dlq.d.mu.Unlock()
		want := 0
		for b := range rejects {
			if b <= cp.(int) {
				want++
			}
		}
		if published < want {
			bad = append(bad, fmt.Sprintf("batch %d acknowledged with %d of its %d dead letters published", cp.(int), published, want))
		}
	}
	p := &engine.Pipeline{
		Source:          engine.SourceStep{Name: "src", Source: src, OnError: engine.DeadLetter},
		Sinks:           []engine.SinkStep{{Name: "out", Sink: &collectSink{}}},
		DeadLetter:      &deadLetterParts{partSink: dlq},
		CheckpointEvery: time.Millisecond,
		Mem:             mem,
	}
	if _, err := p.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	for _, b := range bad {
		t.Error(b)
	}
	if src.lastAck() != batches-1 {
		t.Errorf("last ack %v, want %d", src.lastAck(), batches-1)
	}
}

// deadLetterParts is a partSink for dead-letter records (step, error, …):
// it keeps one entry per row.
type deadLetterParts struct{ *partSink }

func (s *deadLetterParts) Write(_ context.Context, rec arrow.RecordBatch) error {
	for i := 0; i < int(rec.NumRows()); i++ {
		s.current = append(s.current, int64(i))
	}
	return nil
}

// quietSource yields its batches, then waits in Read for new data that
// never comes, as a polling source does when its table is idle.
type quietSource struct {
	seqSource
}

func (s *quietSource) Read(ctx context.Context) (*engine.Batch, error) {
	if s.next < s.batches {
		return s.seqSource.Read(ctx)
	}
	<-ctx.Done()
	return nil, ctx.Err()
}

// A source gone quiet still gets its checkpoint: the rows it sent are
// published and its position saved while Read waits, not only once the
// next batch arrives.
func TestCheckpointsWhileTheSourceIsQuiet(t *testing.T) {
	noLeakedGoroutines(t)
	mem := checkedMem(t)
	const batches, rows = 3, 5
	d := &disk{}
	drain := make(chan struct{})
	src := &quietSource{seqSource{mem: mem, batches: batches, rows: rows}}
	p := &engine.Pipeline{
		Source:          engine.SourceStep{Name: "src", Source: src},
		Sinks:           []engine.SinkStep{{Name: "out", Sink: &partSink{d: d}}},
		CheckpointEvery: 5 * time.Millisecond,
		Drain:           drain,
	}
	done := make(chan error, 1)
	go func() { _, err := p.Run(context.Background()); done <- err }()
	// A guard against a hang, not a timing claim: the checkpoint is due
	// 5 ms after the last batch.
	guard := time.After(time.Minute)
	for len(d.rows()) < batches*rows {
		select {
		case <-guard:
			n := len(d.rows())
			close(drain)
			<-done
			t.Fatalf("the quiet source's %d rows were never published while it waited (%d were)", batches*rows, n)
		case <-time.After(time.Millisecond):
		}
	}
	close(drain)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	wantSeq(t, d.rows(), batches*rows, nil)
}
