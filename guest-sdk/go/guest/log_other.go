//go:build !wasip1

package guest

import (
	"fmt"
	"os"
)

// hostLog outside Wasm (unit tests of transform logic) prints to stderr.
func hostLog(level int, msg string) { fmt.Fprintf(os.Stderr, "level=%d %s\n", level, msg) }
