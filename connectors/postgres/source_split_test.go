package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/dataweaver/dataweaver/connectors/conformance"
	"github.com/dataweaver/dataweaver/connectors/coordinator/split"
	"github.com/dataweaver/dataweaver/internal/pgtest"
)

// TestCursorSplits: a table's cursor ranges, planned from exact or
// sampled quantiles, for an integer and a timestamp cursor, tile the
// rows: each starts where the one before ended, and reading every range
// as a worker does (a source built anew, ReadSplit, Open, Read to the
// end) returns every row exactly once.
func TestCursorSplits(t *testing.T) {
	dsn := pgtest.DB(t)
	// Rows of 1.2 KB, six to a page: a sample of pages (TABLESAMPLE
	// SYSTEM) spreads over enough of them to cut even ranges, as it does
	// in a table of millions of rows.
	pgtest.Exec(t, dsn, "CREATE TABLE ints (id bigint PRIMARY KEY, n int, pad text)",
		"INSERT INTO ints SELECT i * 3, i, repeat('x', 1200) FROM generate_series(0, 2999) AS i",
		"CREATE TABLE times (at timestamptz PRIMARY KEY, n int, pad text)",
		"INSERT INTO times SELECT timestamptz '2024-01-01 00:00:00+00' + i * interval '1.5 second', i, repeat('x', 1200) FROM generate_series(0, 2999) AS i")
	for _, tt := range []struct {
		name, table, cursor string
		sample              bool
	}{
		{"bigint, exact quantiles", "ints", "id", false},
		{"bigint, sampled quantiles", "ints", "id", true},
		{"timestamptz, sampled quantiles", "times", "at", true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if tt.sample {
				above, rows := sampleAbove, sampleRows
				sampleAbove, sampleRows = 1000, 600
				t.Cleanup(func() { sampleAbove, sampleRows = above, rows })
			}
			mem := conformance.Checked(t)
			conf := fmt.Sprintf("{dsn: %s, table: %s, cursor: %s, split_rows: 250}", q(dsn), tt.table, tt.cursor)
			splits, err := mustSource(t, conf, conformance.Build(mem, 128, "source")).Splits(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if len(splits) < 8 || len(splits) > 16 {
				t.Errorf("%d splits of 3000 rows at split_rows 250, want about 12", len(splits))
			}
			var prev *string
			seen := make([]int, 3000)
			var sizes []int
			t.Cleanup(func() { t.Logf("rows per split: %v", sizes) })
			for i, sp := range splits {
				var r cursorRange
				if err := json.Unmarshal(sp.Data, &r); err != nil {
					t.Fatal(err)
				}
				if (prev == nil) != (r.Lo == nil) || prev != nil && *prev != *r.Lo {
					t.Fatalf("split %d (%s) does not start where split %d ended (%v)", i, sp.ID, i-1, prev)
				}
				prev = &r.Hi
				got := readSplit(t, conf, sp)
				for _, n := range got {
					seen[n]++
				}
				sizes = append(sizes, len(got))
				if len(got) > 3*250 {
					t.Errorf("split %s holds %d rows, want about 250", sp.ID, len(got))
				}
			}
			for n, c := range seen {
				if c != 1 {
					t.Fatalf("row %d read %d times, want once", n, c)
				}
			}
		})
	}
}

// readSplit reads one split as a worker does and returns its column n.
func readSplit(t *testing.T, conf string, sp split.Split) []int32 {
	t.Helper()
	mem := conformance.Checked(t)
	src := mustSource(t, conf, conformance.Build(mem, 128, "source"))
	if err := src.ReadSplit(sp); err != nil {
		t.Fatal(err)
	}
	var out []int32
	for _, rec := range conformance.ReadAll(t, src, 128, false) {
		col := rec.Column(rec.Schema().FieldIndices("n")[0]).(*array.Int32)
		out = append(out, col.Int32Values()...)
		rec.Release()
	}
	return out
}
