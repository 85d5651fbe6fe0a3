package engine

import (
	"context"
	"errors"
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"
)

// StepSample is what one step emitted for a few rows run by Sample.
type StepSample struct {
	Name   string
	Kind   string // source or stage
	Schema *arrow.Schema
	// Records are the step's output batches, in order; Release frees them.
	Records []arrow.RecordBatch
	Rows    int64
	// Rejects are the rows the step could not handle; in a real run its
	// on_error policy decides what becomes of them.
	Rejects []RowError
}

// Release frees the sample's records.
func (s *StepSample) Release() {
	for _, r := range s.Records {
		r.Release()
	}
	s.Records = nil
}

func (s *StepSample) add(rec arrow.RecordBatch, rejects []RowError, step string) {
	if rec != nil && rec.NumRows() > 0 {
		rec.Retain()
		s.Records = append(s.Records, rec)
		s.Rows += rec.NumRows()
	}
	for _, r := range rejects {
		if r.Step == "" {
			r.Step = step
		}
		s.Rejects = append(s.Rejects, r)
	}
}

// Sample runs the first n rows of the source through every stage, one
// batch at a time on one goroutine, and returns what each step emitted,
// source first. Sinks are bound (their schema checked) but never opened:
// nothing is written and no position is saved, so a user can look at the
// data before the real run. Every step is closed when Sample returns; the
// caller releases the samples, which it gets (with what was sampled so
// far) even with an error.
func (p *Pipeline) Sample(ctx context.Context, n int64) (samples []StepSample, err error) {
	if n <= 0 {
		return nil, fmt.Errorf("%w: sample of %d rows: want at least 1", ErrInvalidConfig, n)
	}
	if err := p.check(); err != nil {
		return nil, err
	}
	defer func() { err = errors.Join(err, p.Close()) }()
	src := p.Source.Source
	schema, err := src.Open(ctx)
	if err != nil {
		return nil, fmt.Errorf("%s%s: %w", at(p.Source.Origin), p.Source.Name, err)
	}
	schemas, err := p.bind(ctx, schema)
	if err != nil {
		return nil, err
	}
	for i, s := range schemas {
		kind := KindStage
		if i == 0 {
			kind = KindSource
		}
		samples = append(samples, StepSample{Name: s.Name, Kind: kind, Schema: s.Schema})
	}
	lim := newLimit(n)
	for !lim.reached() {
		lim.cap(src)
		b, err := src.Read(ctx)
		if errors.Is(err, ErrEndOfInput) {
			break
		}
		if err != nil {
			return samples, fmt.Errorf("%s: %w", p.Source.Name, err)
		}
		lim.take(b)
		samples[0].add(b.Record, b.Rejects, p.Source.Name)
		if err := p.sampleStages(ctx, b.Record, samples[1:]); err != nil {
			return samples, err
		}
	}
	return samples, nil
}

// sampleStages passes rec (which it releases) through the stages.
func (p *Pipeline) sampleStages(ctx context.Context, rec arrow.RecordBatch, samples []StepSample) error {
	for i, st := range p.Stages {
		if rec == nil || rec.NumRows() == 0 {
			break
		}
		out, rejects, err := st.Stage.Process(ctx, rec)
		rec.Release()
		rec = out
		if err != nil {
			if rec != nil {
				rec.Release()
			}
			return fmt.Errorf("%sstage %s: %w", at(st.Origin), st.Name, err)
		}
		samples[i].add(rec, rejects, st.Name)
	}
	if rec != nil {
		rec.Release()
	}
	return nil
}
