package engine_test

import (
	"context"
	"errors"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/dataweaver/dataweaver/engine"
)

func TestRunFanOutInOrder(t *testing.T) {
	noLeakedGoroutines(t)
	mem := checkedMem(t)
	for _, tc := range []struct {
		name      string
		workers   int
		unordered bool
	}{
		{name: "one worker", workers: 1},
		{name: "four ordered workers", workers: 4},
		{name: "four unordered workers", workers: 4, unordered: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src := &seqSource{mem: mem, batches: 40, rows: 25}
			a, b := &collectSink{}, &collectSink{}
			jitter := funcStage{f: func(rec arrow.RecordBatch) (arrow.RecordBatch, []engine.RowError, error) {
				// Uneven work makes later batches overtake earlier ones
				// unless the engine restores order.
				time.Sleep(time.Duration(rand.IntN(300)) * time.Microsecond)
				rec.Retain()
				return rec, nil, nil
			}}
			p := &engine.Pipeline{
				Name:   "t",
				Source: engine.SourceStep{Name: "src", Source: src},
				Stages: []engine.StageStep{
					{Name: "jitter", Stage: jitter, Workers: tc.workers, Unordered: tc.unordered},
					{Name: "even", Stage: keep(mem, func(v int64) bool { return v%2 == 0 }), OnError: engine.Skip},
				},
				Sinks: []engine.SinkStep{{Name: "a", Sink: a}, {Name: "b", Sink: b}},
			}
			m, err := p.Run(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			even := func(v int64) bool { return v%2 == 0 }
			if tc.unordered {
				sortInts(a.values)
				sortInts(b.values)
			}
			wantSeq(t, a.values, 1000, even)
			wantSeq(t, b.values, 1000, even)
			if got := src.lastAck(); got != 39 {
				t.Errorf("last ack = %v, want checkpoint 39", got)
			}
			if !tc.unordered {
				for i, cp := range src.acks[1:] {
					if cp.(int) <= src.acks[i].(int) {
						t.Fatalf("acks out of order: %v", src.acks)
					}
				}
			}
			if s := m.Step("even"); s.Skipped.Load() != 500 || s.RowsOut.Load() != 500 {
				t.Errorf("even: skipped %d out %d, want 500/500", s.Skipped.Load(), s.RowsOut.Load())
			}
			if !a.closed || !b.closed {
				t.Error("sinks not closed")
			}
		})
	}
}

func sortInts(v []int64) {
	for i := 1; i < len(v); i++ {
		for j := i; j > 0 && v[j] < v[j-1]; j-- {
			v[j], v[j-1] = v[j-1], v[j]
		}
	}
}

// A blocked sink must stop the source after a bounded number of batches:
// without back-pressure the source would read on without limit.
func TestRunBackPressure(t *testing.T) {
	noLeakedGoroutines(t)
	mem := checkedMem(t)
	src := &seqSource{mem: mem, batches: -1, rows: 10}
	sink := &collectSink{gate: make(chan struct{})}
	const buffer, workers = 2, 3
	p := &engine.Pipeline{
		Source: engine.SourceStep{Name: "src", Source: src},
		Stages: []engine.StageStep{{Name: "pass", Stage: keep(mem, func(int64) bool { return true }), Workers: workers}},
		Sinks:  []engine.SinkStep{{Name: "slow", Sink: sink}},
		Buffer: buffer,
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { _, err := p.Run(ctx); done <- err }()
	time.Sleep(300 * time.Millisecond)
	// Queues: source→stage, stage→fanout, fanout→sink, each of `buffer`;
	// the ordered stage holds its 2*workers result slots plus one batch in
	// the dispatcher and one in the collector; fan-out, sink and source
	// hold one each.
	bound := 3*buffer + 2*workers + 2 + 3
	if n := src.readCount(); n > bound {
		t.Errorf("source read %d batches while the sink was blocked; want at most %d", n, bound)
	}
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Errorf("Run after cancel = %v, want context.Canceled", err)
	}
}

// Acks must only cover batches every sink has flushed.
func TestRunAckAfterFlush(t *testing.T) {
	noLeakedGoroutines(t)
	mem := checkedMem(t)
	a, b := &collectSink{}, &collectSink{}
	src := &seqSource{mem: mem, batches: 30, rows: 5}
	src.onAck = func(cp engine.Checkpoint) {
		need := cp.(int) + 1
		if fa, fb := a.flushedBatches(), b.flushedBatches(); fa < need || fb < need {
			t.Errorf("ack of batch %d before both sinks flushed it (flushed %d and %d)", cp, fa, fb)
		}
	}
	p := &engine.Pipeline{
		Source: engine.SourceStep{Name: "src", Source: src},
		Sinks:  []engine.SinkStep{{Name: "a", Sink: a}, {Name: "b", Sink: b}},
	}
	if _, err := p.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	if src.lastAck() != 29 {
		t.Errorf("last ack %v, want 29", src.lastAck())
	}
}

func TestRunStageRejectPolicies(t *testing.T) {
	noLeakedGoroutines(t)
	odd := func(v int64) bool { return v%7 != 3 } // rejects 3, 10, 17, ...
	for _, tc := range []struct {
		name        string
		policy      engine.Policy
		wantErr     string
		wantDLQRows int
	}{
		{name: "fail", policy: engine.Fail, wantErr: `check: row 3: value 3 not allowed`},
		{name: "skip", policy: engine.Skip},
		{name: "dead_letter", policy: engine.DeadLetter, wantDLQRows: 14},
	} {
		t.Run(tc.name, func(t *testing.T) {
			mem := checkedMem(t)
			sink, dlq := &collectSink{}, &collectSink{}
			p := &engine.Pipeline{
				Source:     engine.SourceStep{Name: "src", Source: &seqSource{mem: mem, batches: 10, rows: 10}},
				Stages:     []engine.StageStep{{Name: "check", Stage: keep(mem, odd), OnError: tc.policy}},
				Sinks:      []engine.SinkStep{{Name: "out", Sink: sink}},
				DeadLetter: dlq,
				Mem:        mem,
			}
			m, err := p.Run(context.Background())
			if tc.wantErr != "" {
				if !errors.Is(err, engine.ErrRejected) || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want ErrRejected mentioning %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			wantSeq(t, sink.values, 100, odd)
			if len(dlq.strings) != tc.wantDLQRows {
				t.Fatalf("dead letters: %d rows, want %d", len(dlq.strings), tc.wantDLQRows)
			}
			if tc.policy == engine.DeadLetter {
				// step, error, file, line, row, column, record
				first := dlq.strings[0]
				if first[0] != "check" || first[1] != "value 3 not allowed" || first[4] != "3" || first[6] != `{"n":3}` {
					t.Errorf("first dead letter = %q", first)
				}
				if got := m.Step("check").DeadLettered.Load(); got != 14 {
					t.Errorf("dead-lettered count %d, want 14", got)
				}
			}
		})
	}
}

func TestRunSourceRejectsToDeadLetter(t *testing.T) {
	noLeakedGoroutines(t)
	mem := checkedMem(t)
	src := &seqSource{mem: mem, batches: 3, rows: 4, rejects: map[int][]engine.RowError{
		1: {{File: "orders.csv", Line: 9, Column: "amount", Raw: []byte("7,abc\n"), Err: errors.New(`"abc" is not a number`)}},
	}}
	sink, dlq := &collectSink{}, &collectSink{}
	p := &engine.Pipeline{
		Source:     engine.SourceStep{Name: "source.file", Source: src, OnError: engine.DeadLetter},
		Sinks:      []engine.SinkStep{{Name: "out", Sink: sink}},
		DeadLetter: dlq,
		Mem:        mem,
	}
	if _, err := p.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	wantSeq(t, sink.values, 12, nil)
	want := []string{"source.file", `"abc" is not a number`, "orders.csv", "9", "(null)", "amount", "7,abc"}
	if len(dlq.strings) != 1 || strings.Join(dlq.strings[0], "|") != strings.Join(want, "|") {
		t.Fatalf("dead letters = %q, want [%q]", dlq.strings, want)
	}

	// Under fail, the same reject stops the run naming file, line and column.
	src2 := &seqSource{mem: mem, batches: 3, rows: 4, rejects: src.rejects}
	p2 := &engine.Pipeline{
		Source: engine.SourceStep{Name: "source.file", Source: src2},
		Sinks:  []engine.SinkStep{{Name: "out", Sink: &collectSink{}}},
	}
	_, err := p2.Run(context.Background())
	if err == nil || !strings.Contains(err.Error(), `source.file: orders.csv:9: column "amount": "abc" is not a number`) {
		t.Fatalf("err = %v", err)
	}
}

func TestRunStageBatchError(t *testing.T) {
	noLeakedGoroutines(t)
	boom := errors.New("guest trapped")
	failOn := func(mem interface{}) funcStage {
		return funcStage{f: func(rec arrow.RecordBatch) (arrow.RecordBatch, []engine.RowError, error) {
			if rec.Column(0).ValueStr(0) == "20" {
				return nil, nil, boom
			}
			rec.Retain()
			return rec, nil, nil
		}}
	}
	t.Run("fail names stage and rows", func(t *testing.T) {
		mem := checkedMem(t)
		p := &engine.Pipeline{
			Source: engine.SourceStep{Name: "src", Source: &seqSource{mem: mem, batches: 5, rows: 10}},
			Stages: []engine.StageStep{{Name: "wasm", Stage: failOn(mem), Workers: 2}},
			Sinks:  []engine.SinkStep{{Name: "out", Sink: &collectSink{}}},
		}
		_, err := p.Run(context.Background())
		if !errors.Is(err, boom) || !strings.Contains(err.Error(), "stage wasm: batch 2 (source rows 20-29)") {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("dead_letter takes the whole batch", func(t *testing.T) {
		mem := checkedMem(t)
		sink, dlq := &collectSink{}, &collectSink{}
		p := &engine.Pipeline{
			Source:     engine.SourceStep{Name: "src", Source: &seqSource{mem: mem, batches: 5, rows: 10}},
			Stages:     []engine.StageStep{{Name: "wasm", Stage: failOn(mem), OnError: engine.DeadLetter}},
			Sinks:      []engine.SinkStep{{Name: "out", Sink: sink}},
			DeadLetter: dlq,
			Mem:        mem,
		}
		if _, err := p.Run(context.Background()); err != nil {
			t.Fatal(err)
		}
		wantSeq(t, sink.values, 50, func(v int64) bool { return v < 20 || v >= 30 })
		if len(dlq.strings) != 10 || dlq.strings[0][6] != `{"n":20}` {
			t.Fatalf("dead letters = %q", dlq.strings)
		}
	})
}

func TestRunSinkRetry(t *testing.T) {
	noLeakedGoroutines(t)
	fast := engine.Retry{Attempts: 4, Initial: time.Microsecond, Max: time.Millisecond}
	for _, tc := range []struct {
		name     string
		failures int
		failErr  error
		policy   engine.Policy
		wantErr  string
		wantRows int
	}{
		{name: "transient failures are retried", failures: 3, wantRows: 30},
		{name: "too many failures fail the run", failures: 4, wantErr: "sink out: batch 0 (source rows from 0): after 4 attempts: transient failure"},
		{name: "permanent errors are not retried", failures: 1, failErr: engine.Permanent(errors.New("bad auth")), wantErr: "bad auth"},
		{name: "skip drops the failed batch", failures: 4, policy: engine.Skip, wantRows: 20},
	} {
		t.Run(tc.name, func(t *testing.T) {
			mem := checkedMem(t)
			sink := &collectSink{failures: tc.failures, failErr: tc.failErr}
			p := &engine.Pipeline{
				Source: engine.SourceStep{Name: "src", Source: &seqSource{mem: mem, batches: 3, rows: 10}},
				Sinks:  []engine.SinkStep{{Name: "out", Sink: sink, Retry: fast, OnError: tc.policy}},
			}
			_, err := p.Run(context.Background())
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want %q", err, tc.wantErr)
				}
				if tc.failErr != nil && sink.failures != 0 {
					t.Errorf("permanent error retried")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(sink.values) != tc.wantRows {
				t.Fatalf("sink got %d rows, want %d", len(sink.values), tc.wantRows)
			}
		})
	}
}

// Closing Drain stops reading; everything read is still written and acked.
func TestRunDrain(t *testing.T) {
	noLeakedGoroutines(t)
	mem := checkedMem(t)
	drain := make(chan struct{})
	src := &seqSource{mem: mem, batches: -1, rows: 10}
	sink := &collectSink{}
	p := &engine.Pipeline{
		Source: engine.SourceStep{Name: "src", Source: src},
		Stages: []engine.StageStep{{Name: "pass", Stage: keep(mem, func(int64) bool { return true }), Workers: 2}},
		Sinks:  []engine.SinkStep{{Name: "out", Sink: sink}},
		Drain:  drain,
	}
	src.onAck = func(cp engine.Checkpoint) {
		if cp.(int) >= 20 {
			select {
			case <-drain:
			default:
				close(drain)
			}
		}
	}
	if _, err := p.Run(context.Background()); err != nil {
		t.Fatalf("drain should end the run without error: %v", err)
	}
	reads := src.readCount()
	wantSeq(t, sink.values, reads*10, nil)
	if got := src.lastAck(); got != reads-1 {
		t.Errorf("last ack %v, want %d (every read batch)", got, reads-1)
	}
}

func TestValidateNamesStage(t *testing.T) {
	mem := checkedMem(t)
	bad := badBind{}
	p := &engine.Pipeline{
		Source: engine.SourceStep{Name: "src", Source: &seqSource{mem: mem, batches: 1, rows: 1}},
		Stages: []engine.StageStep{{Name: "ok", Stage: keep(mem, nil)}, {Name: "picky", Stage: bad}},
		Sinks:  []engine.SinkStep{{Name: "out", Sink: &collectSink{}}},
	}
	schemas, err := p.Validate(context.Background())
	if !errors.Is(err, engine.ErrSchema) || !strings.Contains(err.Error(), `stage picky: `) {
		t.Fatalf("err = %v", err)
	}
	if len(schemas) != 2 {
		t.Errorf("schemas up to the failing stage: %d, want 2", len(schemas))
	}
	p.DeadLetter = nil
	p.Stages[0].OnError = engine.DeadLetter
	if _, err := p.Validate(context.Background()); !errors.Is(err, engine.ErrInvalidConfig) {
		t.Fatalf("dead_letter policy without sink: err = %v", err)
	}
}

type badBind struct{ funcStage }

func (badBind) Bind(context.Context, *arrow.Schema) (*arrow.Schema, error) {
	return nil, errors.Join(engine.ErrSchema, errors.New(`needs column "email"`))
}

// abortSink records whether the engine told it the run failed.
type abortSink struct {
	collectSink
	aborted bool
}

func (s *abortSink) Abort() { s.aborted = true }

func TestRunAbortsSinksOnFailure(t *testing.T) {
	noLeakedGoroutines(t)
	mem := checkedMem(t)
	for _, tc := range []struct {
		name      string
		failing   bool
		wantAbort bool
	}{
		{name: "failed run aborts", failing: true, wantAbort: true},
		{name: "good run commits", failing: false, wantAbort: false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sink := &abortSink{}
			pred := func(int64) bool { return true }
			if tc.failing {
				pred = func(v int64) bool { return v != 15 }
			}
			p := &engine.Pipeline{
				Source: engine.SourceStep{Name: "src", Source: &seqSource{mem: mem, batches: 3, rows: 10}},
				Stages: []engine.StageStep{{Name: "check", Stage: keep(mem, pred)}},
				Sinks:  []engine.SinkStep{{Name: "out", Sink: sink}},
			}
			_, err := p.Run(context.Background())
			if (err != nil) != tc.failing {
				t.Fatalf("err = %v", err)
			}
			if sink.aborted != tc.wantAbort || !sink.closed {
				t.Errorf("aborted=%v closed=%v, want aborted=%v and closed", sink.aborted, sink.closed, tc.wantAbort)
			}
		})
	}
}

// footerSink is durable only once Close succeeds, like a Parquet file.
type footerSink struct {
	collectSink
	closeErr    error
	closedAt    chan struct{}
	ackedBefore bool
}

func (s *footerSink) CommitsOnClose() bool { return true }
func (s *footerSink) Close() error {
	s.closed = true
	close(s.closedAt)
	return s.closeErr
}

func TestRunCommitOnCloseSinkHoldsAcks(t *testing.T) {
	noLeakedGoroutines(t)
	for _, tc := range []struct {
		name     string
		closeErr error
		wantAck  engine.Checkpoint
	}{
		{name: "acked after a good close", wantAck: 19},
		{name: "never acked when close fails", closeErr: errors.New("footer write failed"), wantAck: nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			mem := checkedMem(t)
			sink := &footerSink{closeErr: tc.closeErr, closedAt: make(chan struct{})}
			plain := &collectSink{}
			src := &seqSource{mem: mem, batches: 20, rows: 5}
			src.onAck = func(engine.Checkpoint) {
				select {
				case <-sink.closedAt:
				default:
					sink.ackedBefore = true
				}
			}
			p := &engine.Pipeline{
				Source: engine.SourceStep{Name: "src", Source: src},
				Sinks:  []engine.SinkStep{{Name: "plain", Sink: plain}, {Name: "parquet", Sink: sink}},
			}
			_, err := p.Run(context.Background())
			if (err != nil) != (tc.closeErr != nil) {
				t.Fatalf("err = %v", err)
			}
			if sink.ackedBefore {
				t.Error("a batch was acknowledged before the commit-on-close sink closed")
			}
			if got := src.lastAck(); got != tc.wantAck {
				t.Errorf("last ack = %v, want %v", got, tc.wantAck)
			}
			wantSeq(t, plain.values, 100, nil)
		})
	}
}
