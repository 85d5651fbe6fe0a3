package beamrun_test

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/apache/beam/sdks/v2/go/pkg/beam/runners/prism"

	"github.com/dataweaver/dataweaver/beam/beamrun"
	"github.com/dataweaver/dataweaver/beam/internal/beamtest"
	"github.com/dataweaver/dataweaver/engine"
)

// orderFiles writes the lines of testdata/<name> into n files of dir (a
// CSV file's header into each), so the file source plans n splits, and
// returns their glob.
func orderFiles(t *testing.T, root, name string, n int) string {
	t.Helper()
	in, err := os.Open(filepath.Join(root, "testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	dir := t.TempDir()
	ext := filepath.Ext(name)
	outs := make([]*os.File, n)
	for i := range outs {
		if outs[i], err = os.Create(filepath.Join(dir, fmt.Sprintf("orders-%d%s", i, ext))); err != nil {
			t.Fatal(err)
		}
	}
	sc := bufio.NewScanner(in)
	if ext == ".csv" && sc.Scan() {
		for _, f := range outs {
			if _, err := fmt.Fprintf(f, "%s\n", sc.Bytes()); err != nil {
				t.Fatal(err)
			}
		}
	}
	for i := 0; sc.Scan(); i++ {
		if _, err := fmt.Fprintf(outs[i%n], "%s\n", sc.Bytes()); err != nil {
			t.Fatal(err)
		}
	}
	for _, f := range outs {
		if err := f.Close(); err != nil {
			t.Fatal(err)
		}
	}
	return filepath.Join(dir, "*"+ext)
}

// TestSplitsAcrossWorkers runs W1 on four input files: Beam gets four
// splits, each written as a part of its own, and the rows equal weave
// run's over the same files.
func TestSplitsAcrossWorkers(t *testing.T) {
	root := beamtest.Root(t)
	wasm := beamtest.CGuests(t)
	t.Chdir(root)
	j := beamtest.Jobs[1]
	j.Source = orderFiles(t, root, "orders.jsonl", 4)
	local, onBeam := t.TempDir(), t.TempDir()
	if _, err := (engine.Local{}).Run(context.Background(), j.Load(t, wasm, local)); err != nil {
		t.Fatal(err)
	}
	m, err := beamrun.Runner{Execute: prism.Execute}.Run(context.Background(), j.Load(t, wasm, onBeam))
	if err != nil {
		t.Fatal(err)
	}
	j.SameRows(t, local, onBeam)
	parts, err := os.ReadDir(filepath.Join(onBeam, "sinks[0]"))
	if err != nil {
		t.Fatal(err)
	}
	if len(parts) != 4 {
		t.Errorf("Beam wrote %d parts, want one per split (4)", len(parts))
	}
	if in := m.Steps[0].RowsOut.Load(); in == 0 {
		t.Errorf("the source's counters did not come back from the workers")
	}
}

// TestSplitDoneTwice: a split Beam runs again (its bundle failed, its
// worker was lost) writes its part again in the place of the first
// attempt's, so no row is doubled. The DoFn is driven directly, as a
// runner would retry it, because Prism fails a job on a bundle's failure
// instead of retrying it.
func TestSplitDoneTwice(t *testing.T) {
	root := beamtest.Root(t)
	wasm := beamtest.CGuests(t)
	t.Chdir(root)
	// The demo job: its dead letters (orders.csv's two malformed rows,
	// one in each file) are parts of the split's own too.
	j := beamtest.Jobs[0]
	j.Source = orderFiles(t, root, "orders.csv", 2)
	out := t.TempDir()
	p := j.Load(t, wasm, out)
	fn, splits, err := beamrun.SplitFn(context.Background(), p)
	if err != nil {
		t.Fatal(err)
	}
	if len(splits) != 2 {
		t.Fatalf("%d splits, want 2", len(splits))
	}
	for _, s := range []string{splits[0], splits[1], splits[0], splits[1]} {
		if err := fn(context.Background(), s); err != nil {
			t.Fatal(err)
		}
	}
	local := t.TempDir()
	if _, err := (engine.Local{}).Run(context.Background(), j.Load(t, wasm, local)); err != nil {
		t.Fatal(err)
	}
	// After a split ran twice, one copy of its rows.
	j.SameRows(t, local, out)
}
