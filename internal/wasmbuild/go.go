package wasmbuild

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"

	"github.com/dataweaver/dataweaver/internal/wasmdata"
)

const goInstall = "Go 1.24 or newer (https://go.dev/dl/), with `go` on PATH"

// GoArgs is the go build command line for a guest (without the package):
// the flags the wasm stage needs (reactor module with //go:wasmexport) plus
// reproducible, smaller output.
func GoArgs(out string, ldflags, extra []string) []string {
	ld := strings.Join(append([]string{"-s"}, ldflags...), " ")
	args := []string{"build", "-buildmode=c-shared", "-trimpath", "-ldflags=" + ld, "-o", out}
	return append(args, extra...)
}

// GoEnv is what GoArgs runs under.
var GoEnv = []string{"GOOS=wasip1", "GOARCH=wasm"}

func buildGo(ctx context.Context, o Options) error {
	gobin, err := exec.LookPath("go")
	if err != nil {
		return fmt.Errorf("%w: building a Go transform needs the Go toolchain: install Go 1.24 or newer (https://go.dev/dl/) and put `go` on PATH: %w", ErrToolchain, err)
	}
	args := append(GoArgs(o.Out, o.LDFlags, o.Args), ".")
	cmd := exec.CommandContext(ctx, gobin, args...)
	cmd.Dir = o.Dir
	cmd.Env = append(os.Environ(), GoEnv...)
	b, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("%w: in %s: GOOS=wasip1 GOARCH=wasm go %s: %w\n%s", ErrCompile, o.Dir, strings.Join(args, " "), err, strings.TrimRight(string(b), "\n"))
	}
	// Go's linker writes ~24,000 small data segments; fewer start faster.
	wasm, err := os.ReadFile(o.Out)
	if err != nil {
		return fmt.Errorf("reading the module go build wrote: %w", err)
	}
	if merged, ok := wasmdata.Merge(wasm, wasmdata.Gap); ok {
		if err := os.WriteFile(o.Out, merged, 0o644); err != nil {
			return fmt.Errorf("writing %s: %w", o.Out, err)
		}
	}
	return nil
}
