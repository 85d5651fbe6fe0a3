package file

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/dataweaver/dataweaver/connectors/conformance"
	memsink "github.com/dataweaver/dataweaver/connectors/inmemory"
	"github.com/dataweaver/dataweaver/engine"
	"github.com/dataweaver/dataweaver/engine/position"
)

// drainAfter is the file source closing the pipeline's Drain once it has
// handed out n batches: a graceful stop (SIGINT) in the middle of the input.
type drainAfter struct {
	*Source
	n     int
	drain chan struct{}
}

func (d *drainAfter) Read(ctx context.Context) (*engine.Batch, error) {
	if d.n == 0 {
		// The engine cancels reading when it sees Drain; wait for that
		// rather than race it, so the run stops exactly here.
		<-ctx.Done()
		return nil, ctx.Err()
	}
	b, err := d.Source.Read(ctx)
	if d.n--; d.n == 0 {
		close(d.drain)
	}
	return b, err
}

// TestResumeThroughPipeline runs file → memory through engine.Pipeline with
// a position store, stops the first run with Drain after a few batches,
// and runs again with a new source, sink and store object on the same
// state directory: together the two runs deliver every row once, in
// order. A third run then reads nothing.
func TestResumeThroughPipeline(t *testing.T) {
	for _, tc := range []struct {
		name   string
		stopAt []int // batches the first run reads before draining
		write  func(t *testing.T, dir string, mem memory.Allocator, want arrow.RecordBatch) string
	}{
		{"csv glob", []int{1, 3, 6, 7, 17}, func(t *testing.T, dir string, mem memory.Allocator, want arrow.RecordBatch) string {
			for i, name := range []string{"a.csv", "b.csv", "c.csv"} { // 6 batches each: 7, 7, 7, 7, 7, 5
				part := want.NewSlice(int64(40*i), int64(40*i+40))
				writeWith(t, filepath.Join(dir, name), "csv", compNone, mem, want.Schema(), part)
				part.Release()
			}
			return "{path: " + q(filepath.Join(dir, "*.csv")) + ", schema: " + conformance.SchemaYAML(want.Schema()) + "}"
		}},
		{"parquet", []int{1, 3, 4, 17}, func(t *testing.T, dir string, mem memory.Allocator, want arrow.RecordBatch) string {
			path := filepath.Join(dir, "in.parquet")
			parts := []arrow.RecordBatch{want.NewSlice(0, 25), want.NewSlice(25, 26), want.NewSlice(26, 120)}
			writeUnits(t, path, "parquet", mem, parts...)
			conformance.Release(parts)
			return "{path: " + q(path) + "}"
		}},
	} {
		for _, stop := range tc.stopAt {
			t.Run(fmt.Sprintf("%s/stop after %d", tc.name, stop), func(t *testing.T) {
				mem := conformance.Checked(t)
				want := conformance.Sample(mem, conformance.SampleSchema, 0, 120)
				defer want.Release()
				dir := t.TempDir()
				conf := tc.write(t, dir, mem, want)
				state := t.TempDir()

				run := func(stopAfter int) (*memsink.Sink, *engine.Metrics) {
					t.Helper()
					src := mustSource(t, conf, conformance.Build(mem, 7, "source"))
					var step engine.Source = src
					var drain chan struct{}
					if stopAfter > 0 {
						drain = make(chan struct{})
						step = &drainAfter{Source: src, n: stopAfter, drain: drain}
					}
					sink := memsink.NewSink()
					p := &engine.Pipeline{
						Name:      "resume",
						Source:    engine.SourceStep{Name: "in", Source: step},
						Sinks:     []engine.SinkStep{{Name: "out", Sink: sink}},
						Mem:       mem,
						Drain:     drain,
						Positions: position.OpenDir(state), // a new store object per run, as a new process opens it
					}
					m, err := p.Run(context.Background())
					if err != nil {
						sink.Release()
						t.Fatalf("run: %v", err)
					}
					return sink, m
				}
				first, m1 := run(stop)
				defer first.Release()
				if !m1.Interrupted.Load() || first.Rows() == 0 || first.Rows() >= want.NumRows() {
					t.Fatalf("the first run was to stop part way: interrupted %v, %d rows", m1.Interrupted.Load(), first.Rows())
				}
				second, m2 := run(0)
				defer second.Release()
				if !m2.Resumed {
					t.Error("the second run did not resume")
				}
				got := append(first.Records(), second.Records()...)
				conformance.EqualRows(t, want, got)
				if end := m2.EndPosition(); !strings.Contains(end, "read to its end") {
					t.Errorf("the second run ended at %q, want the last file read to its end", end)
				}
				third, _ := run(0)
				defer third.Release()
				if third.Rows() != 0 {
					t.Errorf("a third run read %d rows, want none: everything was read", third.Rows())
				}
			})
		}
	}
}
