package cli

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	ucli "github.com/urfave/cli/v2"

	"github.com/dataweaver/dataweaver/internal/scaffold"
)

func (w *weave) newCommand() *ucli.Command {
	return &ucli.Command{
		Name:  "new",
		Usage: "create something from a template",
		Subcommands: []*ucli.Command{{
			Name:      "transform",
			Usage:     "scaffold a working, tested Wasm transform in a language of your choice",
			ArgsUsage: "NAME",
			Description: "Writes NAME/ (or --dir): the transform's source, a pipeline that runs it on sample input, " +
				"the output that run must give, and tests of it for weave test. Outside a DataWeaver checkout it also writes the language's guest SDK, " +
				"carried by weave, into NAME/guest-sdk/, so the transform builds with only the language's toolchain; " +
				"inside a checkout it builds against the checkout's guest-sdk/. " +
				"Then: cd NAME && weave build && weave test (runs pipeline.test.yaml), and weave run pipeline.yaml && diff out/output.jsonl testdata/want.jsonl.",
			Flags: []ucli.Flag{
				&ucli.StringFlag{Name: "lang", Aliases: []string{"l"}, Value: "go", Usage: strings.Join(scaffold.Languages, ", ")},
				&ucli.StringFlag{Name: "dir", Usage: "directory to create (default ./NAME)"},
			},
			Action: func(c *ucli.Context) error {
				if c.NArg() != 1 {
					return usagef("new transform takes one NAME, got %d arguments", c.NArg())
				}
				dir, files, err := scaffold.New(scaffold.Options{
					Name: c.Args().First(), Lang: c.String("lang"), Dir: c.String("dir"),
				})
				if err != nil {
					if errors.Is(err, scaffold.ErrInvalid) {
						return usageError{err}
					}
					return err
				}
				fmt.Fprintf(w.opts.Stdout, "created %s (%s):\n", dir, c.String("lang"))
				for _, f := range files {
					p := filepath.Join(dir, f)
					if strings.HasSuffix(f, "/") { // a whole directory: the SDK's copy
						p += string(filepath.Separator)
					}
					fmt.Fprintf(w.opts.Stdout, "  %s\n", p)
				}
				fmt.Fprintf(w.opts.Stdout, "next: cd %s && weave build && weave test && weave run pipeline.yaml\n", dir)
				return nil
			},
		}},
	}
}
