// Command apilist prints the module's public API (see package apilist):
// `make docs` writes it to docs/api.txt and `make check` compares.
package main

import (
	"bufio"
	"fmt"
	"os"

	"github.com/dataweaver/dataweaver/internal/apilist"
)

func main() {
	w := bufio.NewWriter(os.Stdout)
	if err := apilist.Write(w, ".", "github.com/dataweaver/dataweaver", nil); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	if err := w.Flush(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
