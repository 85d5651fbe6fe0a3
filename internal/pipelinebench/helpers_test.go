package pipelinebench

import (
	"context"
	"fmt"
	"os"
	"syscall"
	"time"

	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/dataweaver/dataweaver/engine"
	"github.com/dataweaver/dataweaver/engine/config"

	// The pipelines use the standard connectors and formats.
	_ "github.com/dataweaver/dataweaver/connectors/all"
)

// The helpers that run pipelines in this process live in test files, so
// that the package proper (what cmd/rss imports) depends on nothing but
// the standard library: see cmd/rss for why that process must stay small.

// lookup returns a variable lookup for pipeline files: vars first, then
// the process environment (so BENCH_BATCH=16384 go test ... tries another
// batch size).
func lookup(vars map[string]string) func(string) (string, bool) {
	return func(name string) (string, bool) {
		if v, ok := vars[name]; ok {
			return v, true
		}
		return os.LookupEnv(name)
	}
}

// build parses and builds p's pipeline file with vars (BENCH_IN,
// BENCH_OUT, BENCH_ROWS) and the environment; mem nil means the Go
// allocator.
func build(p Pipeline, vars map[string]string, mem memory.Allocator) (*engine.Pipeline, error) {
	opts := config.Options{Lookup: lookup(vars), Mem: mem}
	f, err := config.Parse([]byte(p.YAML), p.Name+".yaml", opts)
	if err != nil {
		return nil, err
	}
	return config.Build(f, opts)
}

// writeInputs runs InputsYAML in this process, flushes the files to disk
// and returns each file's size.
func writeInputs(ctx context.Context, dir string, rows int, names ...string) (map[string]int64, error) {
	if len(names) == 0 {
		names = Inputs
	}
	opts := config.Options{Lookup: func(string) (string, bool) { return "", false }}
	f, err := config.Parse([]byte(InputsYAML(dir, rows, names...)), "orders-inputs.yaml", opts)
	if err != nil {
		return nil, err
	}
	p, err := config.Build(f, opts)
	if err != nil {
		return nil, err
	}
	if _, err := p.Run(ctx); err != nil {
		return nil, fmt.Errorf("writing inputs: %w", err)
	}
	if err := Settle(dir, names...); err != nil {
		return nil, err
	}
	return Sizes(dir, names...)
}

// cpuTime is the CPU time (user + system, every thread) the process has
// used so far. Benchmarks report it per row: on the shared machine it
// moves far less with other people's load than wall time does.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// rowsOut is how many rows reached the pipeline's first sink.
func rowsOut(m *engine.Metrics, p *engine.Pipeline) int64 {
	if len(p.Sinks) == 0 {
		return 0
	}
	if s := m.Step(p.Sinks[0].Name); s != nil {
		return s.RowsOut.Load()
	}
	return 0
}
