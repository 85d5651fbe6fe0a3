package crashtest

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// Step is one line of the summary table `weave run` writes to stderr when
// it ends (engine.Metrics.WriteSummary).
type Step struct {
	Name, Kind                                      string
	RowsIn, RowsOut, Skipped, DeadLettered, Batches int64
}

// summaryHeader starts the table; "wall time" ends it.
var summaryHeader = []string{"step", "kind", "rows", "in", "rows", "out", "skipped", "dead-lettered", "batches"}

// parseSummary reads the summary table out of a run's output, which may
// hold log lines before it.
func parseSummary(out string) ([]Step, error) {
	lines := strings.Split(out, "\n")
	start := -1
	for i, l := range lines {
		if slices.Equal(strings.Fields(l), summaryHeader) {
			start = i + 1
		}
	}
	if start < 0 {
		return nil, errors.New("no summary table in the output")
	}
	var steps []Step
	for _, l := range lines[start:] {
		if strings.HasPrefix(l, "wall time ") {
			return steps, nil
		}
		// Read from the right: a step's name may hold spaces.
		f := strings.Fields(l)
		n := len(f)
		if n < 7 {
			return nil, fmt.Errorf("summary line %q: %d fields, want at least 7", l, n)
		}
		s := Step{Name: strings.Join(f[:n-6], " "), Kind: f[n-6]}
		for i, dst := range []*int64{&s.RowsIn, &s.RowsOut, &s.Skipped, &s.DeadLettered, &s.Batches} {
			v, err := strconv.ParseInt(f[n-5+i], 10, 64)
			if err != nil {
				return nil, fmt.Errorf("summary line %q: %w", l, err)
			}
			*dst = v
		}
		steps = append(steps, s)
	}
	return nil, errors.New("summary table without its wall time line")
}
