package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/dataweaver/dataweaver/internal/crashtest"
)

var gcGoal = regexp.MustCompile(`(?m)^gc \d+ .* (\d+) MB goal`)

// heapGoals runs the weave binary on a 3M-row generate → discard job
// (~400 MB of short-lived garbage) with gctrace on, env added to its
// environment, and returns every collection's heap goal in MB.
func heapGoals(t *testing.T, env ...string) []int {
	t.Helper()
	dir := t.TempDir()
	pipe := filepath.Join(dir, "gen.yaml")
	if err := os.WriteFile(pipe, []byte("name: gen\nsource:\n  generate: {preset: orders, rows: 3000000, seed: 1}\n"+
		"sinks:\n  - discard: {}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(crashtest.Weave(t), "run", "--state", filepath.Join(dir, "state"), pipe)
	var keep []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "GOGC=") && !strings.HasPrefix(kv, "GODEBUG=") {
			keep = append(keep, kv)
		}
	}
	cmd.Env = append(append(keep, "GODEBUG=gctrace=1"), env...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("weave run: %v\n%s", err, out)
	}
	var goals []int
	for _, m := range gcGoal.FindAllSubmatch(out, -1) {
		g, _ := strconv.Atoi(string(m[1]))
		goals = append(goals, g)
	}
	return goals
}

// TestHeapFloor checks main's wiring of internal/gcpace in the real
// binary: without GOGC, no collection after the first (which runs during
// package initialisation, before main) aims below the 128 MiB floor (134
// MB; the runtime's pacing lands a few MB either side), so a short run
// and a long one peak alike; with GOGC set, the user's setting paces the
// collector as before, with small goals and many more collections.
func TestHeapFloor(t *testing.T) {
	floored := heapGoals(t)
	if len(floored) < 2 {
		t.Fatalf("heap goals without GOGC: %v MB; want a collection after main started: nothing checked", floored)
	}
	for _, g := range floored[1:] {
		if g < 115 {
			t.Errorf("heap goals without GOGC: %v MB; want every one after the first near the floor (134 MB)", floored)
			break
		}
	}
	paced := heapGoals(t, "GOGC=100")
	if len(paced) < 5*len(floored) {
		t.Errorf("GOGC=100: %d collections (goals %v MB), without GOGC %d; want GOGC to replace the floor (5× as many or more)", len(paced), paced, len(floored))
	}
}

// TestFloorFor: the heap floor is 128 MiB unless an eighth of the memory
// limit is less; an unknown limit (0) keeps the floor.
func TestFloorFor(t *testing.T) {
	for _, c := range []struct {
		limit int64
		want  uint64
	}{
		{0, 128 << 20},
		{24 << 30, 128 << 20},
		{1 << 30, 128 << 20},
		{1<<30 - 8, 128<<20 - 1},
		{256 << 20, 32 << 20},
		{64 << 20, 8 << 20},
	} {
		if got := floorFor(c.limit); got != c.want {
			t.Errorf("floorFor(%d) = %d, want %d", c.limit, got, c.want)
		}
	}
}
