package main

import (
	"os"

	_ "github.com/dataweaver/dataweaver/connectors/all"
	"github.com/dataweaver/dataweaver/internal/cli"
	"github.com/dataweaver/dataweaver/internal/gcpace"
	"github.com/dataweaver/dataweaver/internal/progress"
)

// version is set at release build time:
//
//	go build -ldflags "-X main.version=v1.2.3" ./cmd/weave
var version string

// heapFloor is the heap size below which the collector does not run
// (internal/gcpace): above twice the live heap of a pipeline at the
// default batch size, so that its peak is the same at 1M rows and at 10M.
// GOGC in the environment replaces it.
const heapFloor = 128 << 20

func main() {
	if os.Getenv("GOGC") == "" {
		gcpace.Start(heapFloor)
	}
	os.Exit(cli.Main(os.Args, cli.Options{
		Version: version,
		Terminal: func() (bool, func() int) {
			fd := os.Stderr.Fd()
			return progress.IsTerminal(fd), func() int { return progress.Width(fd) }
		},
	}))
}
