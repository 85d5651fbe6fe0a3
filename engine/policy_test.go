package engine_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/dataweaver/dataweaver/engine"
)

// A stage that rejects every seventh row (14 of 100) under skip or
// dead_letter, against limits that hold and limits that do not.
func TestRunRejectLimit(t *testing.T) {
	noLeakedGoroutines(t)
	odd := func(v int64) bool { return v%7 != 3 }
	for _, tc := range []struct {
		name    string
		policy  engine.Policy
		limit   engine.RejectLimit
		wantErr string
	}{
		{name: "count under", policy: engine.Skip, limit: engine.RejectLimit{Rows: 14}},
		{name: "count over", policy: engine.Skip, limit: engine.RejectLimit{Rows: 13}, wantErr: "step check rejected 14 rows, more than max_rejects 13"},
		{name: "count over dead_letter", policy: engine.DeadLetter, limit: engine.RejectLimit{Rows: 5}, wantErr: "more than max_rejects 5"},
		// 100 rows are under RatioMinRows: the ratio is checked at the end.
		{name: "ratio over at the end", policy: engine.Skip, limit: engine.RejectLimit{Ratio: 0.10}, wantErr: "rejected 14 of 100 rows (14.00%), more than max_rejects 10%"},
		{name: "ratio under", policy: engine.DeadLetter, limit: engine.RejectLimit{Ratio: 0.15}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			mem := checkedMem(t)
			sink := &replaceSink{}
			p := &engine.Pipeline{
				Source:     engine.SourceStep{Name: "src", Source: &seqSource{mem: mem, batches: 10, rows: 10}},
				Stages:     []engine.StageStep{{Name: "check", Stage: keep(mem, odd), OnError: tc.policy, MaxRejects: tc.limit}},
				Sinks:      []engine.SinkStep{{Name: "out", Sink: sink}},
				DeadLetter: &collectSink{},
				Mem:        mem,
			}
			_, err := p.Run(context.Background())
			if tc.wantErr == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if !errors.Is(err, engine.ErrTooManyRejects) || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("err = %v, want ErrTooManyRejects saying %q", err, tc.wantErr)
			}
			// A run that failed this way must not publish its output.
			if !sink.aborted {
				t.Error("the sink's output was not thrown away")
			}
		})
	}
}

// Past RatioMinRows rows the ratio stops the run early, before the
// input ends.
func TestRunRejectRatioStopsEarly(t *testing.T) {
	mem := checkedMem(t)
	src := &seqSource{mem: mem, batches: 1000, rows: 100}
	p := &engine.Pipeline{
		Source: engine.SourceStep{Name: "src", Source: src},
		Stages: []engine.StageStep{{Name: "check", Stage: keep(mem, func(v int64) bool { return v%2 == 0 }),
			OnError: engine.Skip, MaxRejects: engine.RejectLimit{Ratio: 0.25}}},
		Sinks: []engine.SinkStep{{Name: "out", Sink: &collectSink{}}},
	}
	_, err := p.Run(context.Background())
	if !errors.Is(err, engine.ErrTooManyRejects) {
		t.Fatalf("err = %v, want ErrTooManyRejects", err)
	}
	// Half the rows are rejected from the start: the run stops soon after
	// the first RatioMinRows rows, not at the end of the input.
	if n := src.readCount(); n > 100 {
		t.Errorf("read %d of 1000 batches before stopping", n)
	}
}

// A sink error marked Fatal fails the run under any policy: the batch is
// neither skipped nor dead-lettered.
func TestRunFatalSinkErrorIgnoresPolicy(t *testing.T) {
	for _, policy := range []engine.Policy{engine.Skip, engine.DeadLetter} {
		t.Run(policy.String(), func(t *testing.T) {
			mem := checkedMem(t)
			dlq := &collectSink{}
			sink := &collectSink{failures: 1, failErr: engine.Fatal(errors.New("the transaction was lost"))}
			p := &engine.Pipeline{
				Source:     engine.SourceStep{Name: "src", Source: &seqSource{mem: mem, batches: 3, rows: 2}},
				Sinks:      []engine.SinkStep{{Name: "out", Sink: sink, OnError: policy}},
				DeadLetter: dlq,
				Mem:        mem,
			}
			m, err := p.Run(context.Background())
			if !engine.IsFatal(err) || !strings.Contains(err.Error(), "the transaction was lost") {
				t.Fatalf("err = %v, want the fatal sink error", err)
			}
			if st := m.Step("out"); st.Skipped.Load() != 0 || st.DeadLettered.Load() != 0 || len(dlq.strings) != 0 {
				t.Errorf("the batch was absorbed: skipped %d, dead-lettered %d", st.Skipped.Load(), st.DeadLettered.Load())
			}
		})
	}
}
