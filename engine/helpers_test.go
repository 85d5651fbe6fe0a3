package engine_test

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/dataweaver/dataweaver/engine"
)

var numSchema = arrow.NewSchema([]arrow.Field{{Name: "n", Type: arrow.PrimitiveTypes.Int64}}, nil)

// seqSource yields batches of consecutive int64s: batch i holds
// i*rows .. i*rows+rows-1. batches < 0 means never end.
type seqSource struct {
	mem     memory.Allocator
	batches int
	rows    int
	next    int
	rejects map[int][]engine.RowError // batch index → rejects to report

	mu    sync.Mutex
	reads int
	acks  []engine.Checkpoint
	onAck func(cp engine.Checkpoint)
}

func (s *seqSource) Open(context.Context) (*arrow.Schema, error) { return numSchema, nil }

func (s *seqSource) Read(ctx context.Context) (*engine.Batch, error) {
	if s.batches >= 0 && s.next >= s.batches {
		return nil, engine.ErrEndOfInput
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	b := array.NewInt64Builder(s.mem)
	defer b.Release()
	for r := 0; r < s.rows; r++ {
		b.Append(int64(s.next*s.rows + r))
	}
	arr := b.NewArray()
	defer arr.Release()
	rec := array.NewRecordBatch(numSchema, []arrow.Array{arr}, int64(s.rows))
	i := s.next
	s.next++
	s.mu.Lock()
	s.reads++
	s.mu.Unlock()
	return &engine.Batch{Record: rec, Checkpoint: i, Rejects: s.rejects[i]}, nil
}

func (s *seqSource) Ack(_ context.Context, cp engine.Checkpoint) error {
	s.mu.Lock()
	s.acks = append(s.acks, cp)
	f := s.onAck
	s.mu.Unlock()
	if f != nil {
		f(cp)
	}
	return nil
}

func (s *seqSource) Close() error { return nil }

func (s *seqSource) readCount() int { s.mu.Lock(); defer s.mu.Unlock(); return s.reads }

func (s *seqSource) lastAck() engine.Checkpoint {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.acks) == 0 {
		return nil
	}
	return s.acks[len(s.acks)-1]
}

// collectSink keeps every value it was given.
type collectSink struct {
	mu       sync.Mutex
	schema   *arrow.Schema
	values   []int64
	strings  [][]string // for non-int schemas: ValueStr of each column per row
	written  int        // batches written
	flushed  int        // batches written before the last Flush
	failures int        // Write fails this many times first
	failErr  error
	gate     chan struct{} // when set, Write waits on it
	closed   bool
}

func (s *collectSink) Open(_ context.Context, schema *arrow.Schema) error {
	s.schema = schema
	return nil
}

func (s *collectSink) Write(ctx context.Context, rec arrow.RecordBatch) error {
	if s.gate != nil {
		select {
		case <-s.gate:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.failures > 0 {
		s.failures--
		if s.failErr != nil {
			return s.failErr
		}
		return errors.New("transient failure")
	}
	s.written++
	for r := 0; r < int(rec.NumRows()); r++ {
		if c, ok := rec.Column(0).(*array.Int64); ok && rec.NumCols() == 1 {
			s.values = append(s.values, c.Value(r))
			continue
		}
		row := make([]string, rec.NumCols())
		for c := range row {
			row[c] = rec.Column(c).ValueStr(r)
		}
		s.strings = append(s.strings, row)
	}
	return nil
}

func (s *collectSink) Flush(context.Context) error {
	s.mu.Lock()
	s.flushed = s.written
	s.mu.Unlock()
	return nil
}

func (s *collectSink) Close() error { s.closed = true; return nil }

func (s *collectSink) flushedBatches() int { s.mu.Lock(); defer s.mu.Unlock(); return s.flushed }

// funcStage runs f on every batch; it emits schema, or the input schema
// when schema is nil.
type funcStage struct {
	f      func(rec arrow.RecordBatch) (arrow.RecordBatch, []engine.RowError, error)
	schema *arrow.Schema
}

func (s funcStage) Bind(_ context.Context, in *arrow.Schema) (*arrow.Schema, error) {
	if s.schema != nil {
		return s.schema, nil
	}
	return in, nil
}
func (s funcStage) Process(_ context.Context, rec arrow.RecordBatch) (arrow.RecordBatch, []engine.RowError, error) {
	return s.f(rec)
}
func (s funcStage) Close() error { return nil }

// keep returns a stage that keeps the rows for which pred holds and
// reports the others as rejects.
func keep(mem memory.Allocator, pred func(int64) bool) funcStage {
	return funcStage{f: func(rec arrow.RecordBatch) (arrow.RecordBatch, []engine.RowError, error) {
		col := rec.Column(0).(*array.Int64)
		b := array.NewInt64Builder(mem)
		defer b.Release()
		var rej []engine.RowError
		for i := 0; i < col.Len(); i++ {
			if pred(col.Value(i)) {
				b.Append(col.Value(i))
			} else {
				rej = append(rej, engine.RowError{Row: i, Err: fmt.Errorf("value %d not allowed", col.Value(i))})
			}
		}
		arr := b.NewArray()
		defer arr.Release()
		return array.NewRecordBatch(rec.Schema(), []arrow.Array{arr}, int64(arr.Len())), rej, nil
	}}
}

func checkedMem(t *testing.T) *memory.CheckedAllocator {
	t.Helper()
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	t.Cleanup(func() { mem.AssertSize(t, 0) })
	return mem
}

// noLeakedGoroutines fails the test if goroutines started during it are
// still running shortly after it ends.
func noLeakedGoroutines(t *testing.T) {
	t.Helper()
	before := runtime.NumGoroutine()
	t.Cleanup(func() {
		deadline := time.Now().Add(2 * time.Second)
		for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
		}
		if n := runtime.NumGoroutine(); n > before {
			buf := make([]byte, 1<<16)
			buf = buf[:runtime.Stack(buf, true)]
			t.Errorf("%d goroutines leaked:\n%s", n-before, buf)
		}
	})
}

func wantSeq(t *testing.T, got []int64, n int, pred func(int64) bool) {
	t.Helper()
	var want []int64
	for i := int64(0); i < int64(n); i++ {
		if pred == nil || pred(i) {
			want = append(want, i)
		}
	}
	if len(got) != len(want) {
		t.Fatalf("got %d values, want %d", len(got), len(want))
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("value %d = %d, want %d (order or content broken)", i, got[i], want[i])
		}
	}
}
