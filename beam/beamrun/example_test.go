package beamrun_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/apache/beam/sdks/v2/go/pkg/beam/runners/prism"

	"github.com/dataweaver/dataweaver/beam/beamrun"
	"github.com/dataweaver/dataweaver/engine/config"
)

// A pipeline file run on Beam: Prism in this process here; beamx's
// RunWithMetrics (the default Execute) picks the runner from --runner.
// beam.Init must have run first (this package's TestMain calls it).
func ExampleRunner() {
	dir, err := os.MkdirTemp("", "beamrun-example")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)
	for i, rows := range []string{"1,5\n2,-3\n", "3,7\n"} {
		in := fmt.Sprintf("id,amount\n%s", rows)
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("in-%d.csv", i)), []byte(in), 0o644); err != nil {
			panic(err)
		}
	}
	file := fmt.Sprintf(`name: example
source:
  file: {path: %q}
stages:
  - select: {columns: [id]}
sinks:
  - file: {path: %q, format: jsonl}
`, filepath.Join(dir, "in-*.csv"), filepath.Join(dir, "out")+"/")
	f, err := config.Parse([]byte(file), "example.yaml", config.Options{NoPositions: true})
	if err != nil {
		panic(err)
	}
	p, err := config.Build(f, config.Options{NoPositions: true})
	if err != nil {
		panic(err)
	}
	m, err := beamrun.Runner{Execute: prism.Execute}.Run(context.Background(), p)
	if err != nil {
		panic(err)
	}
	parts, _ := os.ReadDir(filepath.Join(dir, "out"))
	fmt.Printf("%d rows written, in %d parts (one per input file)\n", m.Steps[len(m.Steps)-1].RowsIn.Load(), len(parts))
	// Output: 3 rows written, in 2 parts (one per input file)
}
