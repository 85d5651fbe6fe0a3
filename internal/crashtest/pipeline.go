package crashtest

import (
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"testing"
	"time"
)

// Pipeline is a pipeline file run as `weave run`, and how to see from
// outside the process what its sink has stored.
type Pipeline struct {
	// File is the pipeline file's path.
	File string
	// State is the state directory every run is given (--state), where
	// positions are kept between the killed run and the rerun. Required:
	// without it a committed pipeline file would keep its positions beside
	// itself in the repository, and one test run would resume from where
	// another stopped.
	State string
	// Env holds the file's ${VAR}s, set on top of the test's environment.
	Env map[string]string
	// Set holds --set values for every run (small batches, a short
	// ack_wait).
	Set []string
	// Flags are other `weave run` flags for every run (--progress-every
	// 100ms), given before the file.
	Flags []string
	// Finish holds --set values that make a run end once its input is
	// exhausted (a source's stop_at_end). The run that is killed goes
	// without them, so it cannot end before the kill.
	Finish []string
	// AfterKill, if set, runs between the kill and the rerun, for what a
	// system would do by itself given time (a Kafka group dropping a member
	// whose session timed out). It must not move any data.
	AfterKill func(t testing.TB)
	// Rows is what Stored reports once the whole input has arrived.
	Rows int
	// Stored counts, in the destination system itself, the input rows it
	// holds (messages in a stream, records in a topic, rows in a table). It
	// is called over and over while the first run goes on.
	Stored func(t testing.TB) int
}

// Result is a run that exited with status 0.
type Result struct {
	Output string // stdout and stderr
	Steps  []Step // the summary table `weave run` ends with
}

// Crash is what KillAndRerun did.
type Crash struct {
	Seed   uint64 // DW_CRASH_SEED that draws the same After
	After  int    // the first run was killed once Stored reported this many rows
	Killed int    // what Stored reported after the kill
	Rerun  Result // the second run, to the end of the input
}

// SeedEnv names the variable that replays a kill point.
const SeedEnv = "DW_CRASH_SEED"

// pollEvery is the pause between two Stored calls: short, so the kill
// lands soon after N rows, and long enough to leave the cores to weave.
const pollEvery = 2 * time.Millisecond

// Run runs the file with Set, Finish and then set to a clean exit and
// returns its output and summary.
func (p Pipeline) Run(t testing.TB, set ...string) Result {
	t.Helper()
	pr := p.start(t, append(append(append([]string(nil), p.Set...), p.Finish...), set...))
	pr.Wait(t)
	out := pr.Output()
	steps, err := parseSummary(out)
	if err != nil {
		t.Fatalf("crashtest: %s: %v (output below)", pr.name, err)
	}
	return Result{Output: out, Steps: steps}
}

// Start runs the file with Set and then set, without Finish, and returns
// the running child. KillAndRerun is Start, a wait, Kill and Run.
func (p Pipeline) Start(t testing.TB, set ...string) *Process {
	t.Helper()
	return p.start(t, append(append([]string(nil), p.Set...), set...))
}

// KillAndRerun starts the file, SIGKILLs it once Stored reports at least N
// rows (N drawn at random in [1, Rows/2], the seed logged), fails t if
// the destination already held the whole input — the kill would have
// tested nothing — and runs the file again to the end of its input.
func (p Pipeline) KillAndRerun(t testing.TB) Crash {
	t.Helper()
	if p.Rows < 2 {
		t.Fatalf("crashtest: Rows is %d; a kill part-way needs at least 2", p.Rows)
	}
	c := Crash{Seed: seed(t)}
	c.After = 1 + rand.New(rand.NewPCG(c.Seed, 0)).IntN(p.Rows/2)
	t.Logf("crashtest: killing %s once %d of %d rows are stored (%s=%d replays this)", p.File, c.After, p.Rows, SeedEnv, c.Seed)

	pr := p.Start(t)
	p.killOnceStored(t, pr, c.After)
	c.Killed = p.Stored(t)
	t.Logf("crashtest: killed; %d rows were stored", c.Killed)
	if c.Killed >= p.Rows {
		t.Fatalf("crashtest: the killed run had stored all %d rows (waiting for %d): the kill tested nothing; give it smaller batches in Set", c.Killed, c.After)
	}
	if p.AfterKill != nil {
		p.AfterKill(t)
	}
	c.Rerun = p.Run(t)
	return c
}

// Kill is one SIGKILL of a KillRepeatedly series.
type Kill struct {
	After  int // the run was killed once Stored reported this many rows
	Killed int // what Stored reported after the kill
}

// Crashes is what KillRepeatedly did.
type Crashes struct {
	Seed  uint64
	Kills []Kill
	Rerun Result // the last run, to the end of the input
}

// KillRepeatedly kills the pipeline n times at random points, each run
// started over the state the last one left, then runs it to the end of
// its input. The kill points are drawn (seed logged) in increasing order
// over the first 90% of Rows; a run is killed only after Stored has grown
// past both its point and what the previous run left, so every run does
// some work before it dies.
func (p Pipeline) KillRepeatedly(t testing.TB, n int) Crashes {
	t.Helper()
	if p.Rows < 2*n {
		t.Fatalf("crashtest: Rows is %d; %d kills need at least %d", p.Rows, n, 2*n)
	}
	c := Crashes{Seed: seed(t)}
	rng := rand.New(rand.NewPCG(c.Seed, 0))
	points := make([]int, n)
	for i := range points {
		points[i] = 1 + rng.IntN(p.Rows*9/10)
	}
	slices.Sort(points)
	t.Logf("crashtest: killing %s %d times, once %v of %d rows are stored (%s=%d replays this)", p.File, n, points, p.Rows, SeedEnv, c.Seed)
	stored := p.Stored(t)
	for _, after := range points {
		after = max(after, stored+1)
		pr := p.Start(t)
		p.killOnceStored(t, pr, after)
		stored = p.Stored(t)
		t.Logf("crashtest: killed at %d; %d rows were stored", after, stored)
		if stored >= p.Rows {
			t.Fatalf("crashtest: a killed run had stored all %d rows: the kill tested nothing; give it smaller batches in Set", p.Rows)
		}
		c.Kills = append(c.Kills, Kill{After: after, Killed: stored})
		if p.AfterKill != nil {
			p.AfterKill(t)
		}
	}
	c.Rerun = p.Run(t)
	return c
}

// killOnceStored SIGKILLs pr once Stored reports at least after rows,
// failing t if pr ends first or the test's deadline comes near.
func (p Pipeline) killOnceStored(t testing.TB, pr *Process, after int) {
	t.Helper()
	dl, hasDL := failBy(t)
	for got := p.Stored(t); got < after; got = p.Stored(t) {
		if pr.Exited() {
			t.Fatalf("crashtest: %s ended (%v) with %d of %d rows stored, before the kill (output below)", pr.name, pr.err, got, after)
		}
		if hasDL && time.Now().After(dl) {
			t.Fatalf("crashtest: %s had stored %d rows, waiting for %d, at the test's deadline (output below)", pr.name, got, after)
		}
		time.Sleep(pollEvery)
	}
	pr.Kill(t)
}

// seed is DW_CRASH_SEED or, without it, a fresh random one.
func seed(t testing.TB) uint64 {
	t.Helper()
	s := os.Getenv(SeedEnv)
	if s == "" {
		return rand.Uint64()
	}
	v, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		t.Fatalf("crashtest: %s=%q: %v", SeedEnv, s, err)
	}
	return v
}
