package postgres

import (
	"context"
	"fmt"
	"os"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/dataweaver/dataweaver/connectors/conformance"
	"github.com/dataweaver/dataweaver/engine"
	"github.com/dataweaver/dataweaver/internal/pgtest"
)

func TestMain(m *testing.M) {
	code := m.Run()
	pgtest.Stop()
	os.Exit(code)
}

func mustSource(t testing.TB, text string, b engine.Build) *Source {
	t.Helper()
	return conformance.MustBuild[*Source](t, engine.KindSource, "postgres", text, b)
}

func mustSink(t testing.TB, text string, b engine.Build) *Sink {
	t.Helper()
	return conformance.MustBuild[*Sink](t, engine.KindSink, "postgres", text, b)
}

func q(s string) string { return fmt.Sprintf("%q", s) }

// write stores rec in table through the sink (created from rec's schema).
func write(t testing.TB, dsn, table, extra string, mem memory.Allocator, recs ...arrow.RecordBatch) {
	t.Helper()
	ctx := context.Background()
	sink := mustSink(t, fmt.Sprintf("{dsn: %s, table: %s, create_table: true, %s}", q(dsn), table, extra), conformance.Build(mem, 100, "sink"))
	if err := sink.Open(ctx, recs[0].Schema()); err != nil {
		t.Fatal(err)
	}
	defer sink.Close()
	for _, r := range recs {
		if err := sink.Write(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	if err := sink.Flush(ctx); err != nil {
		t.Fatal(err)
	}
}

// readTable reads a table back through the source, ordered by cursor.
func readTable(t testing.TB, dsn, from, cursor string, mem memory.Allocator) []arrow.RecordBatch {
	t.Helper()
	src := mustSource(t, fmt.Sprintf("{dsn: %s, %s, cursor: %s, stop_at_end: true}", q(dsn), from, cursor), conformance.Build(mem, 1000, "source"))
	return conformance.ReadAll(t, src, 1000, true)
}
