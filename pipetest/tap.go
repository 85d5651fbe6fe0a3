package pipetest

import (
	"context"
	"sync"

	"github.com/apache/arrow/go/v15/arrow"

	"github.com/dataweaver/dataweaver/engine"
)

// sourceTap is the run's source: the Input's source, keeping a reference
// to every batch it hands the engine. It is only as fast as a test needs:
// it hides the optional interfaces (Resumer, Sized) a test run does not use.
type sourceTap struct {
	src engine.Source
	mu  sync.Mutex
	out *Output
}

func (s *sourceTap) Open(ctx context.Context) (*arrow.Schema, error) {
	schema, err := s.src.Open(ctx)
	s.mu.Lock()
	defer s.mu.Unlock()
	// The engine may open a source more than once (Validate, then Run);
	// what counts is the last reading.
	releaseAll(s.out.Records)
	s.out.Records, s.out.Schema = nil, schema
	return schema, err
}

func (s *sourceTap) Read(ctx context.Context) (*engine.Batch, error) {
	b, err := s.src.Read(ctx)
	if b != nil && b.Record != nil && b.Record.NumRows() > 0 {
		b.Record.Retain()
		s.mu.Lock()
		s.out.Records = append(s.out.Records, b.Record)
		s.mu.Unlock()
	}
	return b, err
}

func (s *sourceTap) Ack(ctx context.Context, cp engine.Checkpoint) error { return s.src.Ack(ctx, cp) }
func (s *sourceTap) Close() error                                        { return s.src.Close() }

func (s *sourceTap) output() *Output {
	s.mu.Lock()
	defer s.mu.Unlock()
	o := *s.out
	o.Records = append([]arrow.Record(nil), o.Records...)
	return &o
}

// release frees the captured batches and, for a source that holds records
// until told (connectors/memory.Source), those too.
func (s *sourceTap) release() {
	s.mu.Lock()
	releaseAll(s.out.Records)
	s.out.Records = nil
	s.mu.Unlock()
	if r, ok := s.src.(interface{ Release() }); ok {
		r.Release()
	}
}

// stageTap wraps a stage and keeps a reference to every batch it emits.
type stageTap struct {
	engine.Stage
	mu  sync.Mutex
	out *Output
}

func (t *stageTap) Bind(ctx context.Context, in *arrow.Schema) (*arrow.Schema, error) {
	schema, err := t.Stage.Bind(ctx, in)
	t.mu.Lock()
	t.out.Schema = schema
	t.mu.Unlock()
	return schema, err
}

func (t *stageTap) Process(ctx context.Context, rec arrow.Record) (arrow.Record, []engine.RowError, error) {
	out, rejects, err := t.Stage.Process(ctx, rec)
	if err == nil && out != nil && out.NumRows() > 0 {
		out.Retain()
		t.mu.Lock()
		t.out.Records = append(t.out.Records, out)
		t.mu.Unlock()
	}
	return out, rejects, err
}

func (t *stageTap) output() *Output {
	t.mu.Lock()
	defer t.mu.Unlock()
	o := *t.out
	o.Records = append([]arrow.Record(nil), o.Records...)
	return &o
}

func (t *stageTap) release() {
	t.mu.Lock()
	defer t.mu.Unlock()
	releaseAll(t.out.Records)
	t.out.Records = nil
}

func releaseAll(recs []arrow.Record) {
	for _, r := range recs {
		r.Release()
	}
}
