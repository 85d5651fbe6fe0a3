package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/dataweaver/dataweaver/connectors/conformance"
	"github.com/dataweaver/dataweaver/engine"
	"github.com/dataweaver/dataweaver/internal/pgtest"
)

// TestSourceConformance: the source Resumes. Its position lives in the
// pipeline's position store, not in the database it reads, so the harness
// does what the engine does (see savedPositions): it saves each
// acknowledged checkpoint, JSON-encoded, and hands the last one to a new
// source's Resume before Open.
func TestSourceConformance(t *testing.T) {
	conformance.RunSource(t, conformance.SourceHarness{
		AtLeastOnce: true,
		Resumes:     true,
		New: conformance.FromSample(nil, func(t *testing.T, in arrow.RecordBatch, b engine.Build) conformance.SourceBuilder {
			dsn := pgtest.DB(t)
			if in.NumRows() > 0 {
				write(t, dsn, "rows", "", memory.NewGoAllocator(), in)
			} else {
				pgtest.Exec(t, dsn, "CREATE TABLE rows (id bigint, name text, score double precision, ok boolean, note text, ts timestamptz)")
			}
			return savedPositions(t, conformance.SourceFromConfig(t, "postgres", fmt.Sprintf("{dsn: %s, table: rows, cursor: id, stop_at_end: true}", q(dsn))))
		}),
	})
}

// savedPositions builds sources as a restarted engine does: each one is
// resumed from the position saved last, and its Ack saves the
// acknowledged checkpoint first, JSON-encoded, as the engine saves a
// checkpoint in its position store before acknowledging it. What the
// sources share is only those bytes, as a new process shares only the
// store with the one before.
func savedPositions(t *testing.T, build conformance.SourceBuilder) conformance.SourceBuilder {
	saved := new([]byte)
	return func(b engine.Build) engine.Source {
		src := build(b)
		if *saved != nil {
			if err := src.(engine.Resumer).Resume(*saved); err != nil {
				t.Fatalf("Resume(%s): %v", *saved, err)
			}
		}
		return &savingSource{Source: src, saved: saved}
	}
}

type savingSource struct {
	engine.Source
	saved *[]byte
}

func (s *savingSource) Ack(ctx context.Context, cp engine.Checkpoint) error {
	pos, err := json.Marshal(cp)
	if err != nil {
		return err
	}
	*s.saved = pos
	return s.Source.Ack(ctx, cp)
}
