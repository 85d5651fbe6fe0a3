package wasm_test

import (
	"context"
	"errors"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/memory"

	memsink "github.com/dataweaver/dataweaver/connectors/inmemory"
	"github.com/dataweaver/dataweaver/engine"
	"github.com/dataweaver/dataweaver/internal/wasmtest"
	"github.com/dataweaver/dataweaver/wasmabi"
)

// TestV2PipelineFile: an ABI v2 stage (the committed C window_agg) in a
// pipeline file: its windows come out as they close and the last at end
// of input; max_emit_rows reaches the runtime; and a stage that keeps
// state refuses workers: 2.
func TestV2PipelineFile(t *testing.T) {
	root, err := wasmtest.Root()
	if err != nil {
		t.Fatal(err)
	}
	yaml := func(extra, workers, sink string) string {
		return strings.NewReplacer("WASM", filepath.Join(root, "transforms", "c", "window_agg", "window_agg.wasm"),
			"TIMEOUT", noTimeout, "EXTRA", extra, "WORKERS", workers, "SINK", sink).Replace(`
source:
  memory:
    schema: {country: utf8, amount: float64, ts: "timestamp[s]"}
    rows:
      - {country: FR, amount: 1, ts: 0}
      - {country: DE, amount: 2, ts: 10}
      - {country: FR, amount: 3, ts: 59}
      - {country: FR, amount: 4, ts: 60}
      - {country: DE, amount: null, ts: 130}
stages:
  - wasm: {path: WASM, timeout: TIMEOUT, config: {seconds: 60}EXTRA}
    workers: WORKERS
sinks:
  - memory: {name: SINK}
`)
	}
	t.Run("windows", func(t *testing.T) {
		mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
		defer mem.AssertSize(t, 0)
		p := buildPipeline(t, yaml("", "1", "windows-out"), "windows.yaml", mem)
		if _, err := p.Run(context.Background()); err != nil {
			t.Fatal(err)
		}
		got := sinkRows("windows-out")
		want := []string{
			"1970-01-01T00:00:00 FR 2 4 2", "1970-01-01T00:00:00 DE 1 2 2",
			"1970-01-01T00:01:00 FR 1 4 4",
			"1970-01-01T00:02:00 DE 1 0 (null)",
		}
		if !slices.Equal(got, want) {
			t.Errorf("rows:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
	})
	t.Run("max_emit_rows", func(t *testing.T) {
		p := buildPipeline(t, yaml(", max_emit_rows: 1", "1", "limited-out"), "limited.yaml", memory.NewGoAllocator())
		_, err := p.Run(context.Background())
		defer func() { memsink.Lookup("limited-out").Release() }()
		if !errors.Is(err, wasmabi.ErrGuestOutput) || !strings.Contains(err.Error(), "over the stage's limit of 1 per call (max_emit_rows)") {
			t.Fatalf("run: %v; want the two rows of the first window refused by max_emit_rows: 1", err)
		}
	})
	t.Run("event_time", func(t *testing.T) {
		mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
		defer mem.AssertSize(t, 0)
		// The window of minute 0 is closed by the watermark (its last
		// second, 59, is behind 130 - 60) before end of input, though
		// the row at 59 came after the one at 60.
		y := strings.Replace(yaml(", event_time: ts, lateness: 60s", "1", "watermark-out"),
			"{country: FR, amount: 3, ts: 59}\n      - {country: FR, amount: 4, ts: 60}",
			"{country: FR, amount: 4, ts: 60}\n      - {country: FR, amount: 3, ts: 59}", 1)
		p := buildPipeline(t, y, "watermark.yaml", mem)
		if _, err := p.Run(context.Background()); err != nil {
			t.Fatal(err)
		}
		got := sinkRows("watermark-out")
		want := []string{
			"1970-01-01T00:00:00 FR 2 4 2", "1970-01-01T00:00:00 DE 1 2 2",
			"1970-01-01T00:01:00 FR 1 4 4",
			"1970-01-01T00:02:00 DE 1 0 (null)",
		}
		if !slices.Equal(got, want) {
			t.Errorf("rows %q, want %q", got, want)
		}
	})
	t.Run("workers", func(t *testing.T) {
		p := buildPipeline(t, yaml("", "2", "workers-out"), "workers.yaml", memory.NewGoAllocator())
		_, err := p.Run(context.Background())
		defer func() { memsink.Lookup("workers-out").Release() }()
		if !errors.Is(err, engine.ErrInvalidConfig) || !strings.Contains(err.Error(), "keeps state, so it runs on one worker") {
			t.Fatalf("run: %v; want workers: 2 refused", err)
		}
	})
	t.Run("key", func(t *testing.T) {
		// With a key, the stage keeps state on 4 workers: each country's
		// rows go to one instance, which aggregates them as one would;
		// the rows come out grouped by instance instead of by window.
		mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
		defer mem.AssertSize(t, 0)
		p := buildPipeline(t, yaml(", key: [country]", "4", "keyed-out"), "keyed.yaml", mem)
		if _, err := p.Run(context.Background()); err != nil {
			t.Fatal(err)
		}
		got := sinkRows("keyed-out")
		slices.Sort(got)
		want := []string{
			"1970-01-01T00:00:00 DE 1 2 2", "1970-01-01T00:00:00 FR 2 4 2",
			"1970-01-01T00:01:00 FR 1 4 4",
			"1970-01-01T00:02:00 DE 1 0 (null)",
		}
		if !slices.Equal(got, want) {
			t.Errorf("rows:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
		_, err := buildPipeline(t, yaml(", key: [nope]", "4", "nokey-out"), "nokey.yaml", memory.NewGoAllocator()).Run(context.Background())
		defer func() { memsink.Lookup("nokey-out").Release() }()
		if !errors.Is(err, engine.ErrSchema) || !strings.Contains(err.Error(), `key: no single column "nope"`) {
			t.Fatalf("run with key: [nope]: %v; want the column refused", err)
		}
	})
}

// sinkRows renders the rows the memory sink name holds, a line per row,
// and releases them.
func sinkRows(name string) []string {
	sink := memsink.Lookup(name)
	defer sink.Release()
	var rows []string
	for _, rec := range sink.Records() {
		for i := range int(rec.NumRows()) {
			row := make([]string, rec.NumCols())
			for c := range row {
				row[c] = rec.Column(c).ValueStr(i)
			}
			rows = append(rows, strings.Join(row, " "))
		}
	}
	return rows
}
