package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/dataweaver/dataweaver/connectors/internal/s3test"
	"github.com/dataweaver/dataweaver/internal/crashtest"
	"github.com/dataweaver/dataweaver/internal/pgtest"
	"github.com/dataweaver/dataweaver/internal/wasmtest"
)

// wasmDir holds mask.wasm, built once for the whole test binary; it is
// the pipelines' ${WASM}.
var wasmDir string

func TestMain(m *testing.M) {
	os.Exit(func() int {
		dir, err := os.MkdirTemp("", "weave-e2e-wasm-")
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		defer os.RemoveAll(dir)
		if err := wasmtest.Build("transforms/mask", filepath.Join(dir, "mask.wasm")); err != nil {
			fmt.Fprintf(os.Stderr, "build transforms/mask: %v\n", err)
			return 1
		}
		wasmDir = dir
		defer pgtest.Stop()
		defer s3test.Stop()
		defer crashtest.Cleanup()
		return m.Run()
	}())
}
