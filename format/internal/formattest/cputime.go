package formattest

import (
	"syscall"
	"testing"
	"time"
)

// CPUTime is the CPU time (user+system, all threads) the process has used.
// Benchmarks report it per row because the machine is shared: wall-clock
// rows/s moves with other people's load, CPU per row much less.
func CPUTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// ReportRows reports rows/s (wall clock) and CPU ns/row since cpu0.
func ReportRows(b *testing.B, rows int, cpu0 time.Duration) {
	b.ReportMetric(float64(rows)/b.Elapsed().Seconds(), "rows/s")
	b.ReportMetric(float64(CPUTime()-cpu0)/float64(rows), "cpu-ns/row")
}
