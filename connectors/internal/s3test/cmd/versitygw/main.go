// Command versitygw builds (when not built yet) the versitygw binary the
// s3 connector's tests run, and prints its path: .ci/run calls it before
// make test, so a cold build of the server (about 90 s of CPU) is not
// timed as part of the suite.
package main

import (
	"fmt"
	"os"

	"github.com/dataweaver/dataweaver/connectors/internal/s3test"
)

func main() {
	bin, err := s3test.Binary()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Println(bin)
}
