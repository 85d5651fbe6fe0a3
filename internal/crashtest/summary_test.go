package crashtest

import (
	"bytes"
	"slices"
	"testing"
	"time"

	"github.com/dataweaver/dataweaver/engine"
)

// TestParseSummary reads back tables written by the engine's own
// WriteSummary, so a change of its format fails here rather than as a
// puzzling e2e failure.
func TestParseSummary(t *testing.T) {
	for _, tc := range []struct {
		name  string
		logs  string // written before the table
		bytes int64  // the source's input bytes
		want  []Step
	}{
		{name: "one source one sink", want: []Step{
			{Name: "source.kafka", Kind: "source", RowsIn: 10008, RowsOut: 10007, DeadLettered: 1, Batches: 101},
			{Name: "sinks[0].postgres", Kind: "sink", RowsIn: 10007, RowsOut: 10007, Batches: 101},
		}},
		{name: "log lines first, a name with a space", logs: "time=x level=WARN msg=draining step kind\n", want: []Step{
			{Name: "source.postgres", Kind: "source", RowsOut: 3, Batches: 1},
			{Name: "mask pii", Kind: "stage", RowsIn: 3, RowsOut: 2, Skipped: 1, Batches: 1},
		}},
		{name: "thousands and bytes", bytes: 5 << 20, want: []Step{
			{Name: "source.file", Kind: "source", RowsIn: 1_234_567, RowsOut: 1_234_560, Skipped: 7, Batches: 1_206},
			{Name: "sinks[0].file", Kind: "sink", RowsIn: 1_234_560, RowsOut: 1_234_560, Batches: 1_206},
		}},
		{name: "nothing read", want: []Step{{Name: "source.nats_jetstream", Kind: "source"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := &engine.Metrics{Start: time.Now()}
			m.End.Store(m.Start.Add(time.Second).UnixNano())
			for _, s := range tc.want {
				sm := &engine.StepMetrics{Name: s.Name, Kind: s.Kind}
				sm.RowsIn.Store(s.RowsIn)
				sm.RowsOut.Store(s.RowsOut)
				sm.Skipped.Store(s.Skipped)
				sm.DeadLettered.Store(s.DeadLettered)
				sm.Batches.Store(s.Batches)
				if s.Kind == "source" {
					sm.Bytes.Store(tc.bytes)
				}
				m.Steps = append(m.Steps, sm)
			}
			var out bytes.Buffer
			out.WriteString(tc.logs)
			m.WriteSummary(&out)
			got, err := parseSummary(out.String())
			if err != nil {
				t.Fatalf("%v:\n%s", err, out.String())
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("got %+v\nwant %+v\nfrom:\n%s", got, tc.want, out.String())
			}
		})
	}
}

func TestParseSummaryMissing(t *testing.T) {
	for _, out := range []string{"", "weave: pipeline.yaml:3:1: unknown field\n", "step  kind  rows in  rows out  skipped  dead-lettered  batches\nsource.x source 1 1 0 0 1\n"} {
		if steps, err := parseSummary(out); err == nil {
			t.Errorf("parseSummary(%q) = %+v, want an error", out, steps)
		}
	}
}
