package coordinator_test

import (
	"context"
	"encoding/json"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/dataweaver/dataweaver/connectors/coordinator"
	"github.com/dataweaver/dataweaver/connectors/coordinator/split"
	"github.com/dataweaver/dataweaver/engine/config"
)

// TestPlannerTakeover: a planner died after publishing two of six splits
// (its plan record says epoch 7, not done; its lock expired). The next
// workers plan in its place under the same epoch, so the two splits
// already in the stream are not published a second time: every split is
// read once, none is handed out twice.
func TestPlannerTakeover(t *testing.T) {
	url := startNATS(t)
	ctx := context.Background()
	in, out := t.TempDir(), t.TempDir()
	n := writeCSVs(t, in, 6, 100)
	f, opts := parse(t, splitsPipeline, map[string]string{"IN": in, "OUT": out, "NATS": url, "ACK": "2s"})

	bopts := opts
	bopts.NoPositions = true
	p, err := config.Build(f, bopts)
	if err != nil {
		t.Fatal(err)
	}
	splits, err := p.Source.Source.(split.Source).Splits(ctx)
	p.Close()
	if err != nil || len(splits) != 6 {
		t.Fatalf("Splits = %d, %v", len(splits), err)
	}
	nc, err := nats.Connect(url)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, _ := jetstream.New(nc)
	if _, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: coordinator.DefaultStream, Subjects: []string{"weave.splits.>"},
		Retention: jetstream.WorkQueuePolicy, Storage: jetstream.FileStorage, Duplicates: 10 * time.Minute}); err != nil {
		t.Fatal(err)
	}
	kv, err := js.CreateKeyValue(ctx, jetstream.KeyValueConfig{Bucket: coordinator.DefaultBucket, Storage: jetstream.FileStorage})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := kv.Put(ctx, "plan.splits", []byte(`{"epoch":7,"done":false,"worker":"dead"}`)); err != nil {
		t.Fatal(err)
	}
	for _, s := range splits[:2] {
		data, _ := json.Marshal(map[string]any{"pipeline": "splits", "step": p.Source.Name, "split": s})
		if _, err := js.Publish(ctx, "weave.splits.splits", data, jetstream.WithMsgID("splits/"+s.ID+"@7")); err != nil {
			t.Fatal(err)
		}
	}

	results := make([]coordinator.Result, 2)
	errs := make([]error, 2)
	var wg sync.WaitGroup
	for i := range results {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i], errs[i] = coordinator.RunFile(ctx, f, opts, nil, nil)
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	read, skipped := 0, 0
	for _, r := range results {
		read += r.Splits
		skipped += r.Skipped
	}
	if read != 6 || skipped != 0 {
		t.Errorf("read %d splits and skipped %d, want 6 and 0 (none handed out twice): %+v", read, skipped, results)
	}
	ids, _ := readIDs(t, out)
	checkExactlyOnce(t, ids, n)
}
