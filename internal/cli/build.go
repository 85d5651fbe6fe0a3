package cli

import (
	"errors"
	"fmt"

	ucli "github.com/urfave/cli/v2"

	"github.com/dataweaver/dataweaver/internal/wasmbuild"
)

func (w *weave) buildCommand() *ucli.Command {
	return &ucli.Command{
		Name:      "build",
		Usage:     "compile a transform's source directory to a .wasm module for the wasm stage",
		ArgsUsage: "[PATH]",
		Description: "PATH is the transform's source directory (default: the current directory). Its language is detected from its files " +
			"(go.mod or *.go: Go; Cargo.toml or lib.rs: Rust; asconfig.json: AssemblyScript; *.c: C; *.wat: WebAssembly text) " +
			"and built with that language's own toolchain as a reactor module, optimised and stripped. " +
			"A missing toolchain is an error naming what to install. `weave new transform` scaffolds a transform in any of them.",
		Flags: []ucli.Flag{
			&ucli.StringFlag{Name: "output", Aliases: []string{"o"}, Usage: "the module to write (default PATH/<dir name>.wasm)"},
		},
		Action: func(c *ucli.Context) error {
			if c.NArg() > 1 {
				return usagef("build takes one source directory, got %d arguments", c.NArg())
			}
			dir := "."
			if c.NArg() == 1 {
				dir = c.Args().First()
			}
			l, out, err := wasmbuild.Build(c.Context, wasmbuild.Options{Dir: dir, Out: c.String("output")})
			if err != nil {
				if errors.Is(err, wasmbuild.ErrUnknownLanguage) {
					return usageError{err}
				}
				return err
			}
			fmt.Fprintf(w.opts.Stdout, "built %s (%s) from %s\n", out, l.Name, dir)
			return nil
		},
	}
}
