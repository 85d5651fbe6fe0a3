package main

import (
	"os"

	_ "github.com/dataweaver/dataweaver/connectors/all"
	"github.com/dataweaver/dataweaver/internal/cli"
	"github.com/dataweaver/dataweaver/internal/gcpace"
	"github.com/dataweaver/dataweaver/internal/progress"
	"github.com/dataweaver/dataweaver/internal/sysmem"
)

// version is set at release build time:
//
//	go build -ldflags "-X main.version=v1.2.3" ./cmd/weave
var version string

// heapFloor is the heap size below which the collector does not run
// (internal/gcpace): above twice the live heap of a pipeline at the
// default batch size, so that its peak is the same at 1M rows and at 10M.
// GOGC in the environment replaces it, and a small memory limit lowers it
// (floorFor).
const heapFloor = 128 << 20

// floorFor is the heap floor under a memory limit of limit bytes (0:
// unknown): at most an eighth of it, so that a weave in a small container
// or systemd unit (a 256 MiB cgroup: a 32 MiB floor) collects as often as
// it did before the floor existed instead of growing towards the limit
// with garbage.
func floorFor(limit int64) uint64 {
	if limit > 0 && uint64(limit)/8 < heapFloor {
		return uint64(limit) / 8
	}
	return heapFloor
}

func main() {
	if os.Getenv("GOGC") == "" {
		limit, _ := sysmem.Limit()
		gcpace.Start(floorFor(limit))
	}
	os.Exit(cli.Main(os.Args, cli.Options{
		Version: version,
		Terminal: func() (bool, func() int) {
			fd := os.Stderr.Fd()
			return progress.IsTerminal(fd), func() int { return progress.Width(fd) }
		},
	}))
}
