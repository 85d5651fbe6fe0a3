// Command specgen writes connectors/<pkg>/config_gen.go, the typed Go
// configuration of every built-in connector and stage, from their specs
// (see package specgen). Run from the module root: `make docs` writes the
// files, `make check-docs` runs it with -check, which writes nothing and
// fails naming each file that is missing or stale.
package main

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"

	_ "github.com/dataweaver/dataweaver/connectors/all"
	"github.com/dataweaver/dataweaver/engine"
	"github.com/dataweaver/dataweaver/internal/specgen"
)

func main() {
	check := flag.Bool("check", false, "write nothing; fail if a generated file is missing or stale")
	root := flag.String("root", ".", "the module root")
	flag.Parse()
	files, err := specgen.Generate(engine.DefaultEnvironment(), specgen.Targets)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	names := make([]string, 0, len(files))
	for name := range files {
		names = append(names, name)
	}
	sort.Strings(names)
	stale := 0
	for _, name := range names {
		path := filepath.Join(*root, filepath.FromSlash(name))
		if *check {
			old, err := os.ReadFile(path)
			if err != nil || !bytes.Equal(old, files[name]) {
				fmt.Fprintf(os.Stderr, "%s is stale: run 'make docs' and commit it\n", name)
				stale++
			}
			continue
		}
		if err := os.WriteFile(path, files[name], 0o644); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
	}
	if stale > 0 {
		os.Exit(1)
	}
}
