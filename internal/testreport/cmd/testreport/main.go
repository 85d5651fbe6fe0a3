// Command testreport condenses `go test -json` on its standard input into
// go test's usual output followed by the skipped tests, the slowest
// packages and a closing count (package testreport). It exits 1 when a
// test or a build failed or when no test passed, so a pipeline with
// pipefail fails for either reason.
//
//	go test -json ./... | go run ./internal/testreport/cmd/testreport
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/dataweaver/dataweaver/internal/testreport"
)

func main() {
	slowest := flag.Int("slowest", 10, "list this many of the slowest packages")
	flag.Parse()
	s, err := testreport.Read(os.Stdin, os.Stdout)
	if err != nil {
		fmt.Fprintln(os.Stderr, "testreport:", err)
		os.Exit(1)
	}
	s.WriteEnd(os.Stdout, *slowest)
	if !s.OK() {
		os.Exit(1)
	}
}
