package inmemory

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/dataweaver/dataweaver/engine"
	"github.com/dataweaver/dataweaver/engine/spec"
)

// Sink keeps every record written to it. Its methods are safe for
// concurrent use, so a test may look at it while a pipeline writes.
type Sink struct {
	mu     sync.Mutex
	schema *arrow.Schema
	recs   []arrow.RecordBatch
	rows   int64
}

// NewSink returns an empty sink.
func NewSink() *Sink { return &Sink{} }

var (
	namedMu sync.Mutex
	named   = map[string]*Sink{}
)

// Lookup returns the sink a pipeline file declared with this name, or nil.
func Lookup(name string) *Sink {
	namedMu.Lock()
	defer namedMu.Unlock()
	return named[name]
}

func newSinkFromConfig(conf *spec.Parsed, _ engine.Build) (engine.Sink, error) {
	s := NewSink()
	if name := conf.String("name"); name != "" {
		namedMu.Lock()
		named[name] = s
		namedMu.Unlock()
	}
	return s, nil
}

// Open records the schema; every record written must have it.
func (s *Sink) Open(_ context.Context, schema *arrow.Schema) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.schema = schema
	return nil
}

// Write retains rec.
func (s *Sink) Write(_ context.Context, rec arrow.RecordBatch) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.schema == nil {
		return engine.Permanent(errors.New("memory sink: Write before Open"))
	}
	if !rec.Schema().Equal(s.schema) {
		return engine.Permanent(fmt.Errorf("%w: memory sink: record schema %s, want %s", engine.ErrSchema, rec.Schema(), s.schema))
	}
	rec.Retain()
	s.recs = append(s.recs, rec)
	s.rows += rec.NumRows()
	return nil
}

// Flush has nothing to do: a record is as durable as it gets once kept.
func (s *Sink) Flush(context.Context) error { return nil }

// Close keeps the records, so the caller can read them after the run; call
// Release when done with them.
func (s *Sink) Close() error { return nil }

// Schema is the schema the sink was opened with (nil before Open).
func (s *Sink) Schema() *arrow.Schema {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.schema
}

// Rows is the number of rows written so far.
func (s *Sink) Rows() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.rows
}

// Records returns the records written so far, in order. They still belong
// to the sink: retain any you keep past Release.
func (s *Sink) Records() []arrow.RecordBatch {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]arrow.RecordBatch(nil), s.recs...)
}

// Table returns the rows written so far as one table; the caller releases it.
// It is nil before Open.
func (s *Sink) Table() arrow.Table {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.schema == nil {
		return nil
	}
	return array.NewTableFromRecords(s.schema, s.recs)
}

// Release frees the records and empties the sink.
func (s *Sink) Release() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, r := range s.recs {
		r.Release()
	}
	s.recs, s.rows = nil, 0
}
