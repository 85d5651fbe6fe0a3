package engine_test

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/dataweaver/dataweaver/engine"
	"github.com/dataweaver/dataweaver/engine/position"
)

// windowSum is a stateful stage (engine.Stateful, engine.Finisher): it
// sums the values of each window of `width` consecutive values and emits
// a window's sum when a value of a later window arrives, or at end of
// input; most batches emit nothing. Its state is the open window and
// its sum.
type windowSum struct {
	mem   memory.Allocator
	width int64
	open  windowState
	// restored records the states Restore was given.
	restored []windowState
}

type windowState struct {
	Window, Sum int64
	Seen        bool
}

func (s *windowSum) Bind(context.Context, *arrow.Schema) (*arrow.Schema, error) {
	return numSchema, nil
}

func (s *windowSum) emit(sums []int64) arrow.RecordBatch {
	b := array.NewInt64Builder(s.mem)
	defer b.Release()
	b.AppendValues(sums, nil)
	a := b.NewArray()
	defer a.Release()
	return array.NewRecordBatch(numSchema, []arrow.Array{a}, int64(len(sums)))
}

func (s *windowSum) Process(_ context.Context, rec arrow.RecordBatch) (arrow.RecordBatch, []engine.RowError, error) {
	var closed []int64
	for _, v := range rec.Column(0).(*array.Int64).Int64Values() {
		w := v / s.width
		if s.open.Seen && w != s.open.Window {
			closed = append(closed, s.open.Sum)
			s.open = windowState{}
		}
		s.open = windowState{Window: w, Sum: s.open.Sum + v, Seen: true}
	}
	return s.emit(closed), nil, nil
}

func (s *windowSum) Finish(context.Context) ([]arrow.RecordBatch, error) {
	if !s.open.Seen {
		return nil, nil
	}
	sum := s.open.Sum
	s.open = windowState{}
	return []arrow.RecordBatch{s.emit([]int64{sum})}, nil
}

func (s *windowSum) KeepsState() bool                         { return true }
func (s *windowSum) Snapshot(context.Context) ([]byte, error) { return json.Marshal(s.open) }
func (s *windowSum) Restore(_ context.Context, b []byte) error {
	if err := json.Unmarshal(b, &s.open); err != nil {
		return err
	}
	s.restored = append(s.restored, s.open)
	return nil
}
func (s *windowSum) Close() error { return nil }

// TestStatefulStageResumesWithItsState: a stage that emits nothing for
// most batches and a window's sum when it closes; the run dies after the
// first window is published, and the rerun resumes the source and the
// stage's open window from the same checkpoint, so the sums published
// over both runs equal a clean run's, the last window emitted at end of
// input.
func TestStatefulStageResumesWithItsState(t *testing.T) {
	const batches, rows, width = 40, 10, 100
	var want []int64
	for w := int64(0); w < batches*rows/width; w++ {
		want = append(want, width*w*width+width*(width-1)/2)
	}
	dir := t.TempDir()
	d := &disk{}
	run := func(sink engine.Sink, stage *windowSum, workers int) (*resumableSource, error) {
		mem := checkedMem(t)
		stage.mem = mem
		src := &resumableSource{seqSource: seqSource{mem: mem, batches: batches, rows: rows}, resumedAt: -1}
		p := &engine.Pipeline{
			Name:            "windows",
			Source:          engine.SourceStep{Name: "src", Source: src},
			Stages:          []engine.StageStep{{Name: "sum", Stage: stage, Workers: workers}},
			Sinks:           []engine.SinkStep{{Name: "out", Sink: sink, Retry: engine.Retry{Attempts: 1}}},
			Positions:       position.OpenDir(dir),
			CheckpointEvery: time.Nanosecond, // a barrier after every batch
		}
		_, err := p.Run(context.Background())
		return src, err
	}
	if _, err := run(&partSink{d: &disk{}}, &windowSum{width: width}, 2); !errors.Is(err, engine.ErrInvalidConfig) || !strings.Contains(err.Error(), "runs on one worker") {
		t.Fatalf("two workers: %v; want the stage refused", err)
	}
	dir = t.TempDir()
	// The sink takes the first window's sum and dies on the second's.
	if _, err := run(&failAfter{partSink: partSink{d: d}, n: 1}, &windowSum{width: width}, 1); err == nil {
		t.Fatal("the first run should fail")
	}
	if got := d.rows(); !slices.Equal(got, want[:1]) {
		t.Fatalf("the first run published %v, want %v", got, want[:1])
	}
	stage := &windowSum{width: width}
	src, err := run(&partSink{d: d}, stage, 1)
	if err != nil {
		t.Fatal(err)
	}
	if src.resumedAt < 0 || len(stage.restored) != 1 || stage.restored[0].Window != 1 {
		t.Fatalf("resumed after batch %d with states %+v; want a resume inside window 1 with its state", src.resumedAt, stage.restored)
	}
	if got := d.rows(); !slices.Equal(got, want) {
		t.Fatalf("sums over both runs %v, want a clean run's %v", got, want)
	}
}

// tally is a Finisher without state: it passes batches on and, at end of
// input, emits one row holding the number of rows it saw. With several
// workers, each batch is counted once whichever worker takes it.
type tally struct {
	mem  memory.Allocator
	rows atomic.Int64
}

func (s *tally) Bind(context.Context, *arrow.Schema) (*arrow.Schema, error) { return numSchema, nil }
func (s *tally) Process(_ context.Context, rec arrow.RecordBatch) (arrow.RecordBatch, []engine.RowError, error) {
	s.rows.Add(rec.NumRows())
	rec.Retain()
	return rec, nil, nil
}
func (s *tally) Finish(context.Context) ([]arrow.RecordBatch, error) {
	w := &windowSum{mem: s.mem}
	return []arrow.RecordBatch{w.emit([]int64{-s.rows.Load()})}, nil
}
func (s *tally) Close() error { return nil }

// TestFinishReachesTheSinks: whatever the stage's workers and ordering,
// what Finish emits at end of input reaches the sink (as the last rows),
// and a run without checkpoints finishes too.
func TestFinishReachesTheSinks(t *testing.T) {
	for _, tc := range []struct {
		name      string
		workers   int
		unordered bool
		positions bool
	}{
		{"one worker", 1, false, true},
		{"ordered workers", 3, false, true},
		{"unordered workers", 3, true, true},
		{"no positions", 1, false, false},
		{"no checkpoints", 1, false, false},
		{"no checkpoints, workers", 3, false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			mem := checkedMem(t)
			d := &disk{}
			src := &resumableSource{seqSource: seqSource{mem: mem, batches: 12, rows: 5}, resumedAt: -1}
			p := &engine.Pipeline{
				Name:            "tally",
				Source:          engine.SourceStep{Name: "src", Source: src},
				Stages:          []engine.StageStep{{Name: "tally", Stage: &tally{mem: mem}, Workers: tc.workers, Unordered: tc.unordered}},
				Sinks:           []engine.SinkStep{{Name: "out", Sink: &partSink{d: d}}},
				CheckpointEvery: time.Nanosecond,
			}
			var plain *collectSink
			if strings.HasPrefix(tc.name, "no checkpoints") {
				// No Committer sink and no positions: no barriers at all.
				plain = &collectSink{}
				p.Sinks = []engine.SinkStep{{Name: "out", Sink: plain}}
			}
			if tc.positions {
				p.Positions = position.OpenDir(t.TempDir())
			}
			if _, err := p.Run(context.Background()); err != nil {
				t.Fatal(err)
			}
			got := d.rows()
			if plain != nil {
				got = plain.values
			}
			if len(got) != 61 || got[60] != -60 {
				t.Fatalf("the sink got %d rows ending %v; want the 60 rows then the tally -60", len(got), got[max(0, len(got)-2):])
			}
		})
	}
}
