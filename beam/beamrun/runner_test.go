package beamrun_test

import (
	"context"
	"flag"
	"os"
	"testing"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/runners/prism"

	"github.com/dataweaver/dataweaver/beam/beamrun"
	"github.com/dataweaver/dataweaver/beam/internal/beamtest"
	_ "github.com/dataweaver/dataweaver/connectors/all"
	"github.com/dataweaver/dataweaver/engine"
	"github.com/dataweaver/dataweaver/internal/pgtest"
)

func TestMain(m *testing.M) {
	flag.Parse()
	beam.Init()
	code := m.Run()
	pgtest.Stop()
	os.Exit(code)
}

// TestSameAsWeaveRun runs the demo and the W1 jobs on Prism (in this
// process, loopback workers) and with the local engine, as weave run does,
// and compares every output's rows (the Parquet read back with arrow-go's
// own reader, not weave's) and the steps' figures.
func TestSameAsWeaveRun(t *testing.T) {
	wasm := beamtest.CGuests(t)
	t.Chdir(beamtest.Root(t))
	for _, j := range beamtest.Jobs {
		t.Run(j.Name, func(t *testing.T) {
			local, onBeam := t.TempDir(), t.TempDir()
			lm, err := engine.Local{}.Run(context.Background(), j.Load(t, wasm, local))
			if err != nil {
				t.Fatal(err)
			}
			bm, err := beamrun.Runner{Execute: prism.Execute}.Run(context.Background(), j.Load(t, wasm, onBeam))
			if err != nil {
				t.Fatal(err)
			}
			j.SameRows(t, local, onBeam)
			for i, st := range lm.Steps {
				b := bm.Steps[i]
				if b.RowsIn.Load() != st.RowsIn.Load() || b.RowsOut.Load() != st.RowsOut.Load() || b.DeadLettered.Load() != st.DeadLettered.Load() {
					t.Errorf("%s: Beam counted in %d out %d dead %d, weave run in %d out %d dead %d", st.Name,
						b.RowsIn.Load(), b.RowsOut.Load(), b.DeadLettered.Load(), st.RowsIn.Load(), st.RowsOut.Load(), st.DeadLettered.Load())
				}
			}
		})
	}
}
