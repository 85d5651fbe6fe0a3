// Command metricsdoc prints docs/metrics.md, the reference of every metric
// `weave run --http` serves (make docs writes it, make check-docs compares).
package main

import (
	"fmt"
	"os"

	"github.com/dataweaver/dataweaver/internal/telemetry"
)

func main() {
	if err := telemetry.WriteDocs(os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "metricsdoc:", err)
		os.Exit(1)
	}
}
