package engine_test

import (
	"context"
	"fmt"
	"slices"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/dataweaver/dataweaver/engine"
)

// TestDeadLettersKeepOrderAcrossWorkers: a stage of two ordered workers
// whose second batch finishes first (the first waits for it) still has its
// dead letters written in the input's order, as its batches are handed on:
// the collector, not the worker, applies the policy.
func TestDeadLettersKeepOrderAcrossWorkers(t *testing.T) {
	noLeakedGoroutines(t)
	mem := checkedMem(t)
	const batches, rows = 6, 10
	secondDone := make(chan struct{})
	stage := funcStage{f: func(rec arrow.RecordBatch) (arrow.RecordBatch, []engine.RowError, error) {
		col := rec.Column(0).(*array.Int64)
		switch col.Value(0) / rows {
		case 0:
			<-secondDone // batch 0 finishes after batch 1
		case 1:
			defer close(secondDone)
		}
		var rej []engine.RowError
		for i := 0; i < col.Len(); i++ {
			if col.Value(i)%3 == 0 {
				rej = append(rej, engine.RowError{Row: i, Err: fmt.Errorf("%d refused", col.Value(i))})
			}
		}
		rec.Retain()
		return rec, rej, nil
	}}
	dlq := &collectSink{}
	p := &engine.Pipeline{
		Name:       "order",
		Mem:        mem,
		Source:     engine.SourceStep{Name: "src", Source: &seqSource{mem: mem, batches: batches, rows: rows}},
		Stages:     []engine.StageStep{{Name: "two", Stage: stage, Workers: 2, OnError: engine.DeadLetter}},
		Sinks:      []engine.SinkStep{{Name: "out", Sink: &collectSink{}}},
		DeadLetter: dlq,
	}
	if _, err := p.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	var got, want []string
	for _, r := range dlq.strings {
		got = append(got, r[6])
	}
	for v := 0; v < batches*rows; v += 3 {
		want = append(want, fmt.Sprintf(`{"n":%d}`, v))
	}
	if !slices.Equal(got, want) {
		t.Errorf("dead letters in this order:\n%q\nwant the input's:\n%q", got, want)
	}
}
