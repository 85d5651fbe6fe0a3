package wasmbuild

import (
	"context"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
)

const watInstall = "wabt's wat2wasm: apt-get install wabt"

// buildWAT assembles the directory's one .wat file with wabt's wat2wasm.
// Hand-written modules are for reading the ABI at its lowest level, so
// there is nothing to optimise or strip: the output is what was written.
func buildWAT(ctx context.Context, o Options) error {
	files, _ := filepath.Glob(filepath.Join(o.Dir, "*.wat"))
	if len(files) != 1 {
		return fmt.Errorf("%w: %s holds %d .wat files; a WebAssembly text transform is one module in one .wat file", ErrCompile, o.Dir, len(files))
	}
	bin, err := exec.LookPath("wat2wasm")
	if err != nil {
		return fmt.Errorf("%w: building a WebAssembly text transform needs %s: %w", ErrToolchain, watInstall, err)
	}
	args := append([]string{filepath.Base(files[0]), "-o", o.Out}, o.Args...)
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Dir = o.Dir
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("%w: in %s: wat2wasm %s: %w\n%s", ErrCompile, o.Dir, strings.Join(args, " "), err, strings.TrimRight(string(b), "\n"))
	}
	return nil
}
