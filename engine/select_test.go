package engine_test

import (
	"context"
	"fmt"
	"slices"
	"sync/atomic"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/dataweaver/dataweaver/engine"
)

// selFilter is a Selecting stage that keeps the rows pred keeps, rejects
// those reject picks, and answers with its input record and the rows kept
// (nothing copied), as a Wasm filter does.
type selFilter struct {
	pred, reject func(int64) bool
	calls        *atomic.Int64 // how many batches came with a selection
}

func (s selFilter) Bind(_ context.Context, in *arrow.Schema) (*arrow.Schema, error) { return in, nil }
func (s selFilter) Close() error                                                    { return nil }
func (s selFilter) Process(ctx context.Context, rec arrow.RecordBatch) (arrow.RecordBatch, []engine.RowError, error) {
	panic("a Selecting stage is called through ProcessSelected")
}
func (s selFilter) ProcessSelected(_ context.Context, rec arrow.RecordBatch, sel []int) (arrow.RecordBatch, []int, []engine.RowError, error) {
	if sel != nil {
		s.calls.Add(1)
	} else {
		sel = make([]int, rec.NumRows())
		for i := range sel {
			sel[i] = i
		}
	}
	col := rec.Column(0).(*array.Int64)
	out := []int{}
	var rejects []engine.RowError
	for _, i := range sel {
		switch v := col.Value(i); {
		case s.reject(v):
			rejects = append(rejects, engine.RowError{Row: i, Err: fmt.Errorf("%d refused", v)})
		case s.pred(v):
			out = append(out, i)
		}
	}
	rec.Retain()
	return rec, out, rejects, nil
}

// TestSelectionTravels: two Selecting filters in a row pass the second a
// selection instead of copied rows; the plain stage after them gets the
// rows gathered; counts are of the selected rows; and a reject of the
// second filter is dead-lettered with the value of the row it named.
func TestSelectionTravels(t *testing.T) {
	noLeakedGoroutines(t)
	mem := checkedMem(t)
	const batches, rows = 20, 50
	var firstSel, secondSel atomic.Int64
	sink, dlq := &collectSink{}, &collectSink{}
	p := &engine.Pipeline{
		Name:   "select",
		Mem:    mem,
		Source: engine.SourceStep{Name: "src", Source: &seqSource{mem: mem, batches: batches, rows: rows}},
		Stages: []engine.StageStep{
			{Name: "even", Stage: selFilter{pred: func(v int64) bool { return v%2 == 0 }, reject: func(v int64) bool { return v%2 == 1 && v%5 == 0 }, calls: &firstSel}, OnError: engine.DeadLetter},
			{Name: "not3", Stage: selFilter{pred: func(v int64) bool { return v%3 != 0 }, reject: func(v int64) bool { return v%8 == 0 }, calls: &secondSel}, OnError: engine.DeadLetter, Workers: 2},
			{Name: "plain", Stage: keep(mem, func(int64) bool { return true })},
		},
		Sinks:      []engine.SinkStep{{Name: "out", Sink: sink}},
		DeadLetter: dlq,
	}
	m, err := p.Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	wantSeq(t, sink.values, batches*rows, func(v int64) bool { return v%2 == 0 && v%3 != 0 && v%8 != 0 })
	if firstSel.Load() != 0 || secondSel.Load() != batches {
		t.Errorf("batches given a selection: first filter %d, second %d; want 0 and %d", firstSel.Load(), secondSel.Load(), batches)
	}
	var even, kept int64
	for v := int64(0); v < batches*rows; v++ {
		if v%2 == 0 {
			even++
			if v%3 != 0 && v%8 != 0 {
				kept++
			}
		}
	}
	if in, out := m.Step("not3").RowsIn.Load(), m.Step("not3").RowsOut.Load(); in != even || out != kept {
		t.Errorf("not3 rows in/out = %d/%d, want %d/%d", in, out, even, kept)
	}
	if in := m.Step("plain").RowsIn.Load(); in != kept {
		t.Errorf("plain rows in = %d, want %d", in, kept)
	}
	var got, want []string
	for _, r := range dlq.strings {
		got = append(got, r[0]+" "+r[6])
	}
	for v := int64(0); v < batches*rows; v++ {
		switch {
		case v%2 == 1 && v%5 == 0:
			want = append(want, fmt.Sprintf(`even {"n":%d}`, v))
		case v%2 == 0 && v%8 == 0:
			want = append(want, fmt.Sprintf(`not3 {"n":%d}`, v))
		}
	}
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("dead letters (step, record):\n%q\nwant:\n%q", got, want)
	}
}
