package main

import (
	"strings"
	"testing"

	"github.com/dataweaver/dataweaver/internal/pipelinebench"
)

// TestLimits: a run over -max-rss or a growth over -flat fails the
// command with the figures; the highest peak at each size counts.
func TestLimits(t *testing.T) {
	w1 := []pipelinebench.Pipeline{pipelinebench.W1}
	counts := []int{1_000_000, 10_000_000}
	for _, tc := range []struct {
		name            string
		maxMiB, flatPct float64
		peaks           [][2]float64 // rows index, MiB
		want            string       // "" passes
	}{
		{name: "no limits", peaks: [][2]float64{{0, 900}, {1, 2000}}},
		{name: "within both", maxMiB: 256, flatPct: 5, peaks: [][2]float64{{0, 240}, {0, 230}, {1, 250}}},
		{name: "over the size", maxMiB: 256, peaks: [][2]float64{{0, 240}, {1, 250}, {1, 260}},
			want: "w1 at 10000000 rows peaked at 260 MiB (limit 256 MiB)"},
		{name: "grows", flatPct: 5, peaks: [][2]float64{{0, 200}, {0, 190}, {1, 215}},
			want: "w1 from 1000000 to 10000000 rows: 200 → 215 MiB, +7.5% (limit +5%)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l := limits{maxMiB: tc.maxMiB, flatPct: tc.flatPct}
			for _, p := range tc.peaks {
				l.add("w1", counts[int(p[0])], p[1])
			}
			err := l.check(w1, counts)
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("failed: %v", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Fatalf("error %v, want one saying %q", err, tc.want)
			}
		})
	}
}
