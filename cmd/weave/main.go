package main

import (
	"os"

	_ "github.com/dataweaver/dataweaver/connectors/all"
	"github.com/dataweaver/dataweaver/internal/cli"
	"github.com/dataweaver/dataweaver/internal/progress"
)

// version is set at release build time:
//
//	go build -ldflags "-X main.version=v1.2.3" ./cmd/weave
var version string

func main() {
	os.Exit(cli.Main(os.Args, cli.Options{
		Version: version,
		Terminal: func() (bool, func() int) {
			fd := os.Stderr.Fd()
			return progress.IsTerminal(fd), func() int { return progress.Width(fd) }
		},
	}))
}
