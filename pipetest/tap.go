package pipetest

import (
	"context"
	"sync"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/dataweaver/dataweaver/engine"
)

// capture keeps what one step emitted; the engine may call a step from
// another goroutine than the one reading the Result.
type capture struct {
	mu  sync.Mutex
	out Output
}

// open starts a new reading: the engine may open a source more than once
// (Validate, then Run), and what counts is the last one.
func (c *capture) open(schema *arrow.Schema, reset bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if reset {
		releaseAll(c.out.Records)
		c.out.Records = nil
	}
	c.out.Schema = schema
}

// add keeps a reference to rec; empty batches are not kept.
func (c *capture) add(rec arrow.RecordBatch) {
	if rec == nil || rec.NumRows() == 0 {
		return
	}
	rec.Retain()
	c.mu.Lock()
	c.out.Records = append(c.out.Records, rec)
	c.mu.Unlock()
}

func (c *capture) output() *Output {
	c.mu.Lock()
	defer c.mu.Unlock()
	o := c.out
	o.Records = append([]arrow.RecordBatch(nil), o.Records...)
	return &o
}

func (c *capture) release() {
	c.mu.Lock()
	defer c.mu.Unlock()
	releaseAll(c.out.Records)
	c.out.Records = nil
}

// sourceTap is the run's source: the Input's source, keeping a reference
// to every batch it hands the engine. It hides the optional interfaces
// (Resumer, Sized) a test run does not use.
type sourceTap struct {
	capture
	src engine.Source
}

func (s *sourceTap) Open(ctx context.Context) (*arrow.Schema, error) {
	schema, err := s.src.Open(ctx)
	s.open(schema, true)
	return schema, err
}

func (s *sourceTap) Read(ctx context.Context) (*engine.Batch, error) {
	b, err := s.src.Read(ctx)
	if b != nil {
		s.add(b.Record)
	}
	return b, err
}

func (s *sourceTap) Ack(ctx context.Context, cp engine.Checkpoint) error { return s.src.Ack(ctx, cp) }
func (s *sourceTap) Close() error                                        { return s.src.Close() }

// release frees the captured batches and, for a source that holds records
// until told (connectors/inmemory.Source), those too.
func (s *sourceTap) release() {
	s.capture.release()
	if r, ok := s.src.(interface{ Release() }); ok {
		r.Release()
	}
}

// stageTap wraps a stage and keeps a reference to every batch it emits.
type stageTap struct {
	engine.Stage
	capture
}

func (t *stageTap) Bind(ctx context.Context, in *arrow.Schema) (*arrow.Schema, error) {
	schema, err := t.Stage.Bind(ctx, in)
	t.open(schema, false)
	return schema, err
}

func (t *stageTap) Process(ctx context.Context, rec arrow.RecordBatch) (arrow.RecordBatch, []engine.RowError, error) {
	out, rejects, err := t.Stage.Process(ctx, rec)
	if err == nil {
		t.add(out)
	}
	return out, rejects, err
}

func releaseAll(recs []arrow.RecordBatch) {
	for _, r := range recs {
		r.Release()
	}
}
