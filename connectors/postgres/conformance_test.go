package postgres

import (
	"fmt"
	"testing"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/memory"

	"github.com/dataweaver/dataweaver/connectors/conformance"
	"github.com/dataweaver/dataweaver/connectors/internal/pgtest"
	"github.com/dataweaver/dataweaver/engine"
)

// TestSourceConformance: the source is at-least-once but does not resume.
// It keeps the cursor of the last acknowledged batch only in a field of
// the Source, so a reopened object resumes while a restarted process
// (a new object) reads the table again from start. Durable positions are
// planned (a checkpoint store); until then Resumes would fail here.
func TestSourceConformance(t *testing.T) {
	conformance.RunSource(t, conformance.SourceHarness{
		AtLeastOnce: true,
		New: conformance.FromSample(nil, func(t *testing.T, in arrow.Record, b engine.Build) conformance.SourceBuilder {
			dsn := pgtest.DB(t)
			if in.NumRows() > 0 {
				write(t, dsn, "rows", "", memory.NewGoAllocator(), in)
			} else {
				exec(t, dsn, "CREATE TABLE rows (id bigint, name text, score double precision, ok boolean, note text, ts timestamptz)")
			}
			return conformance.SourceFromConfig(t, "postgres", fmt.Sprintf("{dsn: %s, table: rows, cursor: id, stop_at_end: true}", q(dsn)))
		}),
	})
}

func TestSinkConformance(t *testing.T) {
	for _, mode := range []string{"mode: append", "mode: upsert, key: [id]"} {
		t.Run(mode, func(t *testing.T) {
			conformance.RunSink(t, conformance.SinkHarness{
				New: func(t *testing.T, b engine.Build) (engine.Sink, conformance.ReadBack) {
					dsn := pgtest.DB(t)
					sink := mustSink(t, fmt.Sprintf("{dsn: %s, table: public.out, create_table: true, %s}", q(dsn), mode), b)
					return sink, func(t *testing.T, mem memory.Allocator) []arrow.Record {
						// An empty table may not exist: the sink creates it at Open.
						exec(t, dsn, "CREATE TABLE IF NOT EXISTS out (id bigint)")
						return readTable(t, dsn, "query: 'SELECT * FROM out'", "id", mem)
					}
				},
			})
		})
	}
}
