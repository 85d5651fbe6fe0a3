package engine_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/dataweaver/dataweaver/engine"
	"github.com/dataweaver/dataweaver/engine/position"
)

// TestLimitUncappedSource limits a source that cannot cut its batches
// (10 rows each) to 25 rows: the sink gets exactly rows 0-24, the cut
// batch's checkpoint is neither acknowledged nor saved, and the next run
// resumes after the last whole batch, so rows 20-24 come again and none
// is lost.
func TestLimitUncappedSource(t *testing.T) {
	dir := t.TempDir()
	run := func(limit int64) (*engine.Metrics, *resumableSource, *collectSink) {
		t.Helper()
		mem := checkedMem(t)
		src := &resumableSource{seqSource: seqSource{mem: mem, batches: 10, rows: 10}, resumedAt: -1}
		sink := &collectSink{}
		p := &engine.Pipeline{
			Name:            "lim",
			Source:          engine.SourceStep{Name: "src", Source: src},
			Sinks:           []engine.SinkStep{{Name: "out", Sink: sink}},
			Positions:       position.OpenDir(dir),
			CheckpointEvery: time.Nanosecond, // a barrier after every batch
			Limit:           limit,
		}
		m, err := p.Run(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		return m, src, sink
	}
	m, src, sink := run(25)
	wantSeq(t, sink.values, 25, nil)
	if !m.LimitReached.Load() || m.Interrupted.Load() || m.Limit != 25 {
		t.Errorf("limit reached %v, interrupted %v, limit %d; want true, false, 25", m.LimitReached.Load(), m.Interrupted.Load(), m.Limit)
	}
	if got := src.lastAck(); got != 1 {
		t.Errorf("last ack %v, want batch 1 (batch 2 was cut)", got)
	}
	if got := m.Summary().Exit; got != "limit" {
		t.Errorf("summary exit %q, want limit", got)
	}
	_, src, sink2 := run(0)
	if src.resumedAt != 1 {
		t.Errorf("the next run resumed after batch %d, want 1", src.resumedAt)
	}
	all := append(slices.Clone(sink.values), sink2.values...)
	slices.Sort(all)
	all = slices.Compact(all)
	if len(all) != 100 || all[0] != 0 || all[99] != 99 {
		t.Errorf("the two runs wrote %d distinct rows, want 0-99", len(all))
	}
	if sink2.values[0] != 20 {
		t.Errorf("the next run started at row %d, want 20 (the cut batch again)", sink2.values[0])
	}
}
