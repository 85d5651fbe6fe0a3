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

// summaryHeader starts the table; "wall time" ends it. A bytes column
// may follow the batches (blank, "512 B" or "3.1 MiB").
var summaryHeader = []string{"step", "kind", "rows", "in", "rows", "out", "skipped", "dead-lettered", "batches"}

// parseSummary reads the summary table out of a run's output, which may
// hold log lines before it.
func parseSummary(out string) ([]Step, error) {
	lines := strings.Split(out, "\n")
	start := -1
	for i, l := range lines {
		f := strings.Fields(l)
		if len(f) >= len(summaryHeader) && slices.Equal(f[:len(summaryHeader)], summaryHeader) {
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
		// A step's name may hold spaces and the bytes cell one: the kind is
		// the last source/stage/sink followed by five counts.
		f := strings.Fields(l)
		k := -1
		for i := len(f) - 6; i >= 1; i-- {
			if kinds[f[i]] && counts(f[i+1:i+6]) {
				k = i
				break
			}
		}
		if k < 0 {
			return nil, fmt.Errorf("summary line %q: no kind followed by five counts", l)
		}
		s := Step{Name: strings.Join(f[:k], " "), Kind: f[k]}
		for i, dst := range []*int64{&s.RowsIn, &s.RowsOut, &s.Skipped, &s.DeadLettered, &s.Batches} {
			v, err := strconv.ParseInt(strings.ReplaceAll(f[k+1+i], ",", ""), 10, 64)
			if err != nil {
				return nil, fmt.Errorf("summary line %q: %w", l, err)
			}
			*dst = v
		}
		steps = append(steps, s)
	}
	return nil, errors.New("summary table without its wall time line")
}

var kinds = map[string]bool{"source": true, "stage": true, "sink": true}

// counts reports whether every cell is a count (thousands separated).
func counts(cells []string) bool {
	for _, c := range cells {
		if _, err := strconv.ParseInt(strings.ReplaceAll(c, ",", ""), 10, 64); err != nil {
			return false
		}
	}
	return true
}
