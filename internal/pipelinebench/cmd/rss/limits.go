package main

import (
	"errors"
	"fmt"

	"github.com/dataweaver/dataweaver/internal/pipelinebench"
)

// limits is a memory target the runs are checked against (-max-rss,
// -flat), and the highest peak RSS seen per pipeline and row count.
type limits struct {
	maxMiB, flatPct float64
	peak            map[string]map[int]float64 // MiB
}

func (l *limits) add(name string, rows int, mib float64) {
	if l.peak == nil {
		l.peak = map[string]map[int]float64{}
	}
	if l.peak[name] == nil {
		l.peak[name] = map[int]float64{}
	}
	l.peak[name][rows] = max(l.peak[name][rows], mib)
}

// check prints each check's outcome and returns an error naming every
// one that failed. Flatness compares the highest peaks at the smallest
// and the largest row count, the worst case at each: a run's peak moves
// by a few percent with the moments the collector happens to run.
func (l *limits) check(pipes []pipelinebench.Pipeline, counts []int) error {
	if l.maxMiB <= 0 && l.flatPct <= 0 {
		return nil
	}
	lo, hi := counts[0], counts[0]
	for _, n := range counts {
		lo, hi = min(lo, n), max(hi, n)
	}
	var errs []error
	report := func(ok bool, format string, args ...any) {
		msg := fmt.Sprintf(format, args...)
		if ok {
			fmt.Printf("check: %s: ok\n", msg)
			return
		}
		fmt.Printf("check: %s: FAILED\n", msg)
		errs = append(errs, errors.New(msg))
	}
	fmt.Println()
	for _, p := range pipes {
		peaks := l.peak[p.Name]
		if l.maxMiB > 0 {
			for _, n := range counts {
				report(peaks[n] <= l.maxMiB, "%s at %d rows peaked at %.0f MiB (limit %.0f MiB)", p.Name, n, peaks[n], l.maxMiB)
			}
		}
		if l.flatPct > 0 && hi > lo {
			growth := 100 * (peaks[hi]/peaks[lo] - 1)
			report(growth <= l.flatPct, "%s from %d to %d rows: %.0f → %.0f MiB, %+.1f%% (limit +%.0f%%)", p.Name, lo, hi, peaks[lo], peaks[hi], growth, l.flatPct)
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("memory target missed: %w", errors.Join(errs...))
	}
	return nil
}
