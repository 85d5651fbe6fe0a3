// Package paired measures benchmark variants against each other on a
// machine whose load changes under them: each op runs a block of calls of
// every variant in turn (the first one rotating per op), so a burst of
// other work falls on all variants alike and their ratios stay usable when
// absolute times do not. BENCHMARKS.md quotes these ratios.
package paired

import (
	"syscall"
	"testing"
	"time"
)

// Variant is one of the things compared; Run does one call (one batch).
type Variant struct {
	Name string
	Run  func()
}

// Run times block calls of each variant per op, alternating them, and
// reports per variant "<name>-ns/batch" (wall) and "<name>-cpu-ns/batch"
// (the process's user+system CPU, all threads: a guest's watcher goroutine
// or the GC counts, another process does not), and for every variant after
// the first its ratios to the first, "<name>/<first>" and
// "<name>/<first>-cpu".
func Run(b *testing.B, block int, vs ...Variant) {
	b.Helper()
	wall := make([]time.Duration, len(vs))
	cpu := make([]time.Duration, len(vs))
	// One untimed call each first: a stage's first call instantiates its
	// module, which is start-up, not the per-batch cost compared here.
	for _, v := range vs {
		v.Run()
	}
	b.ResetTimer()
	for i := range b.N {
		for k := range vs {
			j := (i + k) % len(vs)
			w, c := time.Now(), CPU()
			for range block {
				vs[j].Run()
			}
			cpu[j] += CPU() - c
			wall[j] += time.Since(w)
		}
	}
	b.StopTimer()
	calls := float64(b.N * block)
	for j, v := range vs {
		b.ReportMetric(float64(wall[j].Nanoseconds())/calls, v.Name+"-ns/batch")
		b.ReportMetric(float64(cpu[j].Nanoseconds())/calls, v.Name+"-cpu-ns/batch")
		if j > 0 {
			b.ReportMetric(float64(wall[j])/float64(wall[0]), v.Name+"/"+vs[0].Name)
			b.ReportMetric(float64(cpu[j])/float64(cpu[0]), v.Name+"/"+vs[0].Name+"-cpu")
		}
	}
}

// CPU is the process's user+system CPU time so far.
func CPU() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
