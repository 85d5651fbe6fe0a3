package crashtest

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"

	"github.com/dataweaver/dataweaver/internal/wasmtest"
)

var (
	buildOnce sync.Once
	binDir    string
	binPath   string
	buildErr  error
)

// Weave returns the path of a weave binary built from this checkout,
// building it on the first call of the test binary. make test builds one
// for the whole run and names it in DW_TEST_WEAVE: five test binaries use
// it, and each link of weave costs about 5 s of CPU.
func Weave(t testing.TB) string {
	t.Helper()
	buildOnce.Do(func() { binPath, buildErr = build() })
	if buildErr != nil {
		t.Fatalf("crashtest: %v", buildErr)
	}
	return binPath
}

// Cleanup removes the binary Weave built, if it did. Call it from TestMain
// after m.Run.
func Cleanup() {
	if binDir != "" {
		os.RemoveAll(binDir)
	}
}

func build() (string, error) {
	if bin := os.Getenv("DW_TEST_WEAVE"); bin != "" {
		if _, err := os.Stat(bin); err != nil {
			return "", fmt.Errorf("DW_TEST_WEAVE: %w", err)
		}
		return bin, nil
	}
	root, err := wasmtest.Root()
	if err != nil {
		return "", err
	}
	if binDir, err = os.MkdirTemp("", "crashtest-weave-"); err != nil {
		return "", err
	}
	out := filepath.Join(binDir, "weave")
	cmd := exec.Command("go", "build", "-o", out, "./cmd/weave")
	cmd.Dir = root
	if b, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build ./cmd/weave in %s: %w\n%s", root, err, b)
	}
	return out, nil
}
