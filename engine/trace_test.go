package engine_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/dataweaver/dataweaver/engine"
)

// recTracer records what the engine tells its Tracer (internal/tracing
// turns the same calls into OpenTelemetry spans; its tests export them to
// a real OTLP endpoint).
type recTracer struct {
	mu      sync.Mutex
	batches []*recBatch
}

type recBatch struct {
	info engine.TraceBatch

	mu     sync.Mutex
	steps  []string // "kind step in=N out=N rejects=N err=…", as each ends
	open   int      // steps started and not ended
	ends   int
	endErr error
	late   []string // steps started or ended after the batch ended
}

func (t *recTracer) StartBatch(b engine.TraceBatch) engine.BatchSpan {
	rb := &recBatch{info: b}
	t.mu.Lock()
	t.batches = append(t.batches, rb)
	t.mu.Unlock()
	return rb
}

func (b *recBatch) StartStep(step, kind string, rowsIn int64) (string, func(engine.StepEnd)) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.ends > 0 {
		b.late = append(b.late, "start "+step)
	}
	b.open++
	return "", func(e engine.StepEnd) {
		b.mu.Lock()
		defer b.mu.Unlock()
		if b.ends > 0 {
			b.late = append(b.late, "end "+step)
		}
		b.open--
		s := fmt.Sprintf("%s %s in=%d out=%d rejects=%d", kind, step, rowsIn, e.RowsOut, e.Rejects)
		if e.Err != nil {
			s += " err"
		}
		b.steps = append(b.steps, s)
	}
}

func (b *recBatch) End(err error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.ends++
	b.endErr = err
}

// bySeq returns the recorded batches in source order.
func (t *recTracer) bySeq() []*recBatch {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := slices.Clone(t.batches)
	sort.Slice(out, func(i, j int) bool { return out[i].info.Seq < out[j].info.Seq })
	return out
}

// TestTracerSeesEveryStep: each batch is started once with its rows and
// rejects, each stage and sink it reaches reports once with its rows in,
// out and rejects (a batch a stage failed under on_error: skip reaches the
// sinks empty and opens no sink span), and the batch ends exactly once,
// after its last step, on stages with several workers in and out of order.
func TestTracerSeesEveryStep(t *testing.T) {
	noLeakedGoroutines(t)
	mem := checkedMem(t)
	boom := errors.New("boom")
	tr := &recTracer{}
	p := &engine.Pipeline{
		Name: "traced",
		Source: engine.SourceStep{Name: "src", Source: &seqSource{mem: mem, batches: 6, rows: 4,
			rejects: map[int][]engine.RowError{1: {{Row: 9, Err: errors.New("bad line")}}}}, OnError: engine.Skip},
		Stages: []engine.StageStep{
			{Name: "odd", Stage: keep(mem, func(v int64) bool { return v%2 == 1 }), OnError: engine.Skip, Workers: 3},
			{Name: "fail4", Stage: funcStage{f: func(rec arrow.RecordBatch) (arrow.RecordBatch, []engine.RowError, error) {
				if rec.Column(0).ValueStr(0) == "17" { // batch 4 (16..19, odd: 17, 19)
					return nil, nil, boom
				}
				rec.Retain()
				return rec, nil, nil
			}}, OnError: engine.Skip, Workers: 2, Unordered: true},
		},
		Sinks:  []engine.SinkStep{{Name: "a", Sink: &collectSink{}}, {Name: "b", Sink: &collectSink{}}},
		Tracer: tr,
	}
	if _, err := p.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	got := tr.bySeq()
	if len(got) != 6 {
		t.Fatalf("%d batches traced, want 6", len(got))
	}
	for i, b := range got {
		wantRejects := int64(0)
		if i == 1 {
			wantRejects = 1
		}
		if b.info.Seq != int64(i) || b.info.Pipeline != "traced" || b.info.Source != "src" || b.info.Rows != 4 || b.info.Rejects != wantRejects || b.info.Start.IsZero() {
			t.Errorf("batch %d started as %+v", i, b.info)
		}
		want := []string{"stage odd in=4 out=2 rejects=2", "stage fail4 in=2 out=2 rejects=0", "sink a in=2 out=2 rejects=0", "sink b in=2 out=2 rejects=0"}
		if i == 4 {
			want = []string{"stage odd in=4 out=2 rejects=2", "stage fail4 in=2 out=0 rejects=2 err"}
		}
		steps := slices.Clone(b.steps)
		slices.Sort(steps[2:]) // the sinks end in either order
		if strings.Join(steps, "; ") != strings.Join(want, "; ") {
			t.Errorf("batch %d steps:\n  %s\nwant\n  %s", i, strings.Join(steps, "; "), strings.Join(want, "; "))
		}
		if b.ends != 1 || b.endErr != nil || b.open != 0 || len(b.late) != 0 {
			t.Errorf("batch %d: ended %d times (err %v), %d steps open, after the end: %v; want one end after every step", i, b.ends, b.endErr, b.open, b.late)
		}
	}
}

// TestTracerFailedRun: a stage failing a batch under on_error: fail ends
// the batch's span with the error that ends the run, and so does every
// batch dropped in flight.
func TestTracerFailedRun(t *testing.T) {
	noLeakedGoroutines(t)
	mem := checkedMem(t)
	boom := errors.New("boom")
	tr := &recTracer{}
	p := &engine.Pipeline{
		Name:   "fails",
		Source: engine.SourceStep{Name: "src", Source: &seqSource{mem: mem, batches: 20, rows: 3}},
		Stages: []engine.StageStep{{Name: "bad", Stage: funcStage{f: func(rec arrow.RecordBatch) (arrow.RecordBatch, []engine.RowError, error) {
			if rec.Column(0).ValueStr(0) == "0" {
				return nil, nil, boom
			}
			rec.Retain()
			return rec, nil, nil
		}}}},
		Sinks:  []engine.SinkStep{{Name: "out", Sink: &collectSink{}}},
		Tracer: tr,
	}
	if _, err := p.Run(context.Background()); !errors.Is(err, boom) {
		t.Fatalf("Run = %v, want boom", err)
	}
	got := tr.bySeq()
	if len(got) == 0 {
		t.Fatal("no batch traced")
	}
	if b, want := got[0], "stage bad in=3 out=0 rejects=0 err"; len(b.steps) != 1 || b.steps[0] != want {
		t.Errorf("steps %v, want [%s]", b.steps, want)
	}
	for _, b := range got {
		if b.ends != 1 || !errors.Is(b.endErr, boom) {
			t.Errorf("batch %d ended %d times with %v, want once with boom", b.info.Seq, b.ends, b.endErr)
		}
	}
}
