// Command weave-beam runs a DataWeaver pipeline file on Apache Beam:
//
//	weave-beam [beam flags] [--set path=value]... run pipeline.yaml
//
// With no --runner the job runs on Prism inside this process. Flink's and
// Spark's job servers take --runner=flink or --runner=spark (or universal)
// with --endpoint=HOST:PORT; Dataflow takes --runner=dataflow with its
// project, region and staging flags. Workers that the runner starts as
// processes (--environment_type=PROCESS) run this same binary: give its
// path as the environment's command, it boots the Beam worker harness.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"

	"github.com/dataweaver/dataweaver/beam/beamrun"
	_ "github.com/dataweaver/dataweaver/connectors/all"
	"github.com/dataweaver/dataweaver/engine"
	"github.com/dataweaver/dataweaver/engine/config"
)

// sets collects repeated --set flags.
type sets []string

func (s *sets) String() string     { return strings.Join(*s, ",") }
func (s *sets) Set(v string) error { *s = append(*s, v); return nil }

func main() {
	var set sets
	flag.Var(&set, "set", "override a setting of the pipeline file, path=value (repeatable), as weave run --set")
	flag.Usage = func() {
		fmt.Fprintf(flag.CommandLine.Output(), "usage: weave-beam [flags] run pipeline.yaml\n\nflags (Beam's and weave's):\n")
		flag.PrintDefaults()
	}
	flag.Parse()
	if *provisionEndpoint != "" {
		// Started by a runner as a PROCESS-environment worker.
		os.Exit(boot())
	}
	// In worker mode (--worker, as the boot starts it) Init runs the Beam
	// harness and never returns.
	beam.Init()
	args := flag.Args()
	if len(args) != 2 || args[0] != "run" {
		flag.Usage()
		os.Exit(2)
	}
	os.Exit(run(args[1], set))
}

// run runs one pipeline file on Beam and prints what the steps did.
func run(path string, set []string) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	p, err := config.Load(path, config.Options{Set: set, NoPositions: true})
	if err != nil {
		fmt.Fprintln(os.Stderr, "weave-beam:", err)
		return 2
	}
	m, err := beamrun.Runner{}.Run(ctx, p)
	for _, st := range m.Steps {
		fmt.Fprintf(os.Stderr, "%-20s rows in %d, out %d, skipped %d, dead letters %d\n",
			st.Name, st.RowsIn.Load(), st.RowsOut.Load(), st.Skipped.Load(), st.DeadLettered.Load())
	}
	if err != nil {
		slog.Error("weave-beam: the job failed", "error", err)
		if errors.Is(err, engine.ErrInvalidConfig) {
			return 2
		}
		return 1
	}
	return 0
}
