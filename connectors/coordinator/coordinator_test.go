package coordinator_test

import (
	"context"
	"errors"
	"log/slog"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/dataweaver/dataweaver/connectors/coordinator"
	"github.com/dataweaver/dataweaver/engine"
	"github.com/dataweaver/dataweaver/engine/config"
	"github.com/dataweaver/dataweaver/engine/position"
)

const splitsPipeline = `
name: splits
source:
  file: {path: "${IN}/*.csv"}
sinks:
  - file: {path: "${OUT}/", format: csv}
coordinator:
  urls: ["${NATS}"]
  ack_wait: ${ACK}
`

func parse(t *testing.T, text string, vars map[string]string) (*config.File, config.Options) {
	t.Helper()
	opts := config.Options{Lookup: func(k string) (string, bool) { v, ok := vars[k]; return v, ok },
		Logger: slog.New(slog.DiscardHandler)}
	f, err := config.Parse([]byte(text), filepath.Join(t.TempDir(), "p.yaml"), opts)
	if err != nil {
		t.Fatal(err)
	}
	return f, opts
}

// TestWorkersShareSplits runs three workers at once on six files: every
// split is read by one of them, planned by one, and the output holds
// every row once; a second run of the same file finds every split
// finished and reads nothing.
func TestWorkersShareSplits(t *testing.T) {
	url := startNATS(t)
	before := clientGoroutines()
	t.Cleanup(func() { noClientLeak(t, before) })
	in, out := t.TempDir(), t.TempDir()
	n := writeCSVs(t, in, 6, 500)
	f, opts := parse(t, splitsPipeline, map[string]string{"IN": in, "OUT": out, "NATS": url, "ACK": "2s"})

	results := make([]coordinator.Result, 3)
	errs := make([]error, 3)
	var wg sync.WaitGroup
	for i := range results {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i], errs[i] = coordinator.RunFile(context.Background(), f, opts, nil, nil)
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	var planned, splits int
	for _, r := range results {
		planned += r.Planned
		splits += r.Splits
	}
	if planned != 6 || splits != 6 {
		t.Errorf("planned %d and read %d splits, want 6 and 6 (%+v)", planned, splits, results)
	}
	ids, parts := readIDs(t, out)
	if parts != 6 {
		t.Errorf("%d parts, want one per split (6)", parts)
	}
	checkExactlyOnce(t, ids, n)

	again, err := coordinator.RunFile(context.Background(), f, opts, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if again.Planned != 0 || again.Splits != 0 {
		t.Errorf("second run: %+v, want nothing planned or read", again)
	}
	ids, _ = readIDs(t, out)
	checkExactlyOnce(t, ids, n)

	// Positions reset: the next run plans again and redoes every split,
	// replacing each part rather than adding a second copy.
	st, err := coordinator.OpenStore(context.Background(), coordinator.Config{URLs: []string{url}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	entries, err := st.List(context.Background(), "splits")
	if err != nil || len(entries) != 6 {
		t.Fatalf("List = %d entries, %v; want one finished position per split", len(entries), err)
	}
	for _, e := range entries {
		if err := st.Delete(context.Background(), e.Key); err != nil {
			t.Fatal(err)
		}
	}
	redo, err := coordinator.RunFile(context.Background(), f, opts, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if redo.Splits != 6 {
		t.Errorf("after a reset: %+v, want every split read again", redo)
	}
	ids, parts = readIDs(t, out)
	if parts != 6 {
		t.Errorf("%d parts after the redo, want the same 6", parts)
	}
	checkExactlyOnce(t, ids, n)
}

// TestStoreFencing: a save naming a revision another writer replaced
// fails with ErrStale rather than overwrite it.
func TestStoreFencing(t *testing.T) {
	url := startNATS(t)
	ctx := context.Background()
	st, err := coordinator.OpenStore(ctx, coordinator.Config{URLs: []string{url}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	key := position.Key{Pipeline: "p.x", Step: "source", Split: "data/a b.csv#1"}
	r1, err := st.Save(ctx, key, position.Record{Rows: 1})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.Save(ctx, key, position.Record{Rows: 2}); !errors.Is(err, position.ErrStale) {
		t.Fatalf("second create: %v, want ErrStale", err)
	}
	r2, err := st.Save(ctx, key, position.Record{Revision: r1, Rows: 3})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.Save(ctx, key, position.Record{Revision: r1, Rows: 4}); !errors.Is(err, position.ErrStale) {
		t.Fatalf("save at an old revision: %v, want ErrStale", err)
	}
	got, err := st.Load(ctx, key)
	if err != nil || got.Rows != 3 || got.Revision != r2 {
		t.Fatalf("Load = %+v, %v; want rows 3 at revision %d", got, err, r2)
	}
	list, err := st.List(ctx, "p.x")
	if err != nil || len(list) != 1 || list[0].Key != key {
		t.Fatalf("List = %+v, %v; want the one key %v", list, err, key)
	}
	if err := st.Delete(ctx, key); err != nil {
		t.Fatal(err)
	}
	if got, err := st.Load(ctx, key); err != nil || got.Revision != 0 {
		t.Fatalf("after Delete: %+v, %v", got, err)
	}
}

// TestLeaseExtended: splits that take longer than ack_wait stay with the
// worker reading them (it extends the lease with InProgress) instead of
// being handed to a second worker as well.
func TestLeaseExtended(t *testing.T) {
	url := startNATS(t)
	in, out := t.TempDir(), t.TempDir()
	n := writeCSVs(t, in, 2, 50)
	f, opts := parse(t, splitsPipeline, map[string]string{"IN": in, "OUT": out, "NATS": url, "ACK": "1s"})
	slow := func(ctx context.Context, p *engine.Pipeline) (*engine.Metrics, error) {
		time.Sleep(2500 * time.Millisecond) // 2.5 leases
		return p.Run(ctx)
	}
	results := make([]coordinator.Result, 2)
	errs := make([]error, 2)
	var wg sync.WaitGroup
	for i := range results {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i], errs[i] = coordinator.RunFile(context.Background(), f, opts, slow, nil)
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	if got := results[0].Splits + results[1].Splits; got != 2 {
		t.Errorf("splits read %d times in all, want 2 (each once): %+v", got, results)
	}
	ids, _ := readIDs(t, out)
	checkExactlyOnce(t, ids, n)
}
