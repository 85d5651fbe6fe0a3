// Command rss measures the peak resident memory of `weave run` on the
// benchmark pipelines at several input sizes, to show that memory stays
// flat as the input grows.
//
// For each row count it has weave write the orders table as CSV, JSON
// Lines and Parquet into a temporary directory (pipelinebench.InputsYAML),
// runs the weave binary as a child process on each pipeline file of
// internal/pipelinebench, reads the child's peak RSS (getrusage's ru_maxrss,
// from os.ProcessState), and deletes the inputs before the next size.
// Outputs are deleted after each run. It prints one Markdown table row per
// run.
//
// # This process stays small on purpose
//
// Go starts a child with clone(CLONE_VM|CLONE_VFORK), so the child begins
// life in the parent's address space, and Linux folds that address space's
// peak RSS into the child's ru_maxrss at exec. A parent that had generated
// 10M rows in memory would lift every child's figure to its own peak. So
// the inputs are written by a weave child too, and the command prints its
// own peak RSS: child figures at or below it would mean nothing.
//
// Usage (from the repository root):
//
//	go build -o bin/weave ./cmd/weave
//	go run ./internal/pipelinebench/cmd/rss -weave bin/weave -rows 1000000,10000000
//
// Without -weave it builds ./cmd/weave into the temporary directory first.
// GOGC, GOMEMLIMIT and the BENCH_* tuning variables of the pipeline files
// (see internal/pipelinebench) are passed on to the child.
//
// # Checking a memory target
//
// -pipelines w1 -wasm DIR runs issue 16's W1 (pipelinebench.W1: JSON
// Lines through four Wasm stages, the Go guests of `make wasm-go` in DIR)
// at the default batch size. -max-rss N fails the command when a run
// peaks above N MiB, and -flat P when a pipeline's highest peak at the
// largest row count is more than P% above its highest at the smallest:
// `make rss-w1` checks W1's target, ≤ 256 MiB and flat within 5% from 1M
// to 10M rows. It takes minutes and gigabytes of disk, so it is a bench
// target, not part of make test.
package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/dataweaver/dataweaver/internal/pipelinebench"
)

// bytesPerRow bounds the disk one row needs: its CSV, JSONL and Parquet
// inputs (about 85, 154 and 19 bytes) plus the largest output (JSONL).
const bytesPerRow = 450

func main() {
	weave := flag.String("weave", "", "weave binary to run (default: go build ./cmd/weave into the temporary directory)")
	rowsList := flag.String("rows", "1000000,10000000", "comma-separated row counts")
	names := flag.String("pipelines", "", "comma-separated pipeline names (default: the three target pipelines); also accepts the baselines' names")
	repeat := flag.Int("repeat", 1, "runs of each pipeline at each size")
	dir := flag.String("dir", "", "where to write the inputs (default: the system temporary directory)")
	wasm := flag.String("wasm", "", "directory of the Go guests (filter.wasm, mask.wasm, derive.wasm) for the w1 pipeline, as make wasm-go builds them")
	var lim limits
	flag.Float64Var(&lim.maxMiB, "max-rss", 0, "fail when a run's peak RSS is above this many MiB (0: no check)")
	flag.Float64Var(&lim.flatPct, "flat", 0, "fail when a pipeline's highest peak at the largest row count is more than this percentage above its highest at the smallest (0: no check)")
	flag.Parse()
	if err := run(*weave, *rowsList, *names, *repeat, *dir, *wasm, lim); err != nil {
		fmt.Fprintln(os.Stderr, "rss:", err)
		os.Exit(1)
	}
}

func run(weave, rowsList, names string, repeat int, parent, wasm string, lim limits) error {
	var counts []int
	for _, s := range strings.Split(rowsList, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n <= 0 {
			return fmt.Errorf("-rows: %q is not a positive row count", s)
		}
		counts = append(counts, n)
	}
	pipes, err := choose(names)
	if err != nil {
		return err
	}
	for _, p := range pipes {
		if p.Name == pipelinebench.W1.Name && wasm == "" {
			return errors.New("-pipelines w1 needs -wasm DIR, the Go guests (make wasm-go builds them into build/wasm)")
		}
	}
	if wasm != "" {
		if wasm, err = filepath.Abs(wasm); err != nil {
			return err
		}
	}
	tmp, err := os.MkdirTemp(parent, "weave-rss-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	// The inputs run to gigabytes: remove them on Ctrl-C too. The child
	// shares the terminal's process group, so it gets the signal itself.
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	go func() {
		<-sigs
		os.RemoveAll(tmp)
		os.Exit(130)
	}()
	if weave == "" {
		weave = filepath.Join(tmp, "weave")
		build := exec.Command("go", "build", "-o", weave, "./cmd/weave")
		build.Stdout, build.Stderr = os.Stderr, os.Stderr
		if err := build.Run(); err != nil {
			return fmt.Errorf("go build ./cmd/weave (run from the repository root): %w", err)
		}
	} else if weave, err = filepath.Abs(weave); err != nil {
		return err
	}
	for _, p := range pipes {
		if err := os.WriteFile(filepath.Join(tmp, p.Name+".yaml"), []byte(p.YAML), 0o644); err != nil {
			return err
		}
	}

	floor, err := child(weave, []string{"version"}, nil)
	if err != nil {
		return fmt.Errorf("weave version: %w", err)
	}
	fmt.Printf("%s, GOMAXPROCS %d, GOGC %q; `weave version` alone: peak RSS %.1f MB\n\n",
		runtime.Version(), runtime.GOMAXPROCS(0), os.Getenv("GOGC"), floor.rssMB)
	fmt.Println("| pipeline | rows | input MB | peak RSS MB | GCs | max live heap MB | max heap goal MB | wall s | rows/s | CPU s | cpu-ns/row |")
	fmt.Println("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")

	for _, rows := range counts {
		in, out := filepath.Join(tmp, "in"), filepath.Join(tmp, "out")
		if err := checkSpace(tmp, rows); err != nil {
			return err
		}
		files := needed(pipes)
		gen := filepath.Join(tmp, "inputs.yaml")
		if err := os.WriteFile(gen, []byte(pipelinebench.InputsYAML(in, rows, files...)), 0o644); err != nil {
			return err
		}
		if _, err := child(weave, []string{"run", gen}, nil); err != nil {
			return fmt.Errorf("writing %d rows of inputs: %w", rows, err)
		}
		if err := pipelinebench.Settle(in, files...); err != nil {
			return err
		}
		sizes, err := pipelinebench.Sizes(in, files...)
		if err != nil {
			return err
		}
		env := []string{"BENCH_IN=" + in, "BENCH_OUT=" + out, "BENCH_ROWS=" + strconv.Itoa(rows), "BENCH_WASM=" + wasm}
		for _, p := range pipes {
			for range repeat {
				r, err := child(weave, []string{"run", filepath.Join(tmp, p.Name+".yaml")}, env)
				if err != nil {
					return fmt.Errorf("%s at %d rows: %w", p.Name, rows, err)
				}
				if err := os.RemoveAll(out); err != nil {
					return err
				}
				fmt.Printf("| %s | %d | %.1f | %.1f | %d | %d | %d | %.2f | %.0f | %.2f | %.0f |\n",
					p.Name, rows, float64(sizes[p.Input])/1e6, r.rssMB, r.gc.cycles, r.gc.liveMB, r.gc.goal, r.wall.Seconds(),
					float64(rows)/r.wall.Seconds(), r.cpu.Seconds(), float64(r.cpu.Nanoseconds())/float64(rows))
				lim.add(p.Name, rows, r.rssMB*1e6/(1<<20))
			}
		}
		if err := os.RemoveAll(in); err != nil {
			return err
		}
	}
	var self syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &self); err == nil {
		fmt.Printf("\nThis command's own peak RSS (a floor under every child's figure): %.1f MB\n", float64(self.Maxrss)*1024/1e6)
	}
	return lim.check(pipes, counts)
}

// choose returns the pipelines named in list, or the target pipelines.
func choose(list string) ([]pipelinebench.Pipeline, error) {
	if list == "" {
		return pipelinebench.Pipelines, nil
	}
	all := append(append([]pipelinebench.Pipeline(nil), pipelinebench.Pipelines...), pipelinebench.Baselines...)
	all = append(all, pipelinebench.W1)
	var out []pipelinebench.Pipeline
next:
	for _, name := range strings.Split(list, ",") {
		name = strings.TrimSpace(name)
		var known []string
		for _, p := range all {
			if p.Name == name {
				out = append(out, p)
				continue next
			}
			known = append(known, p.Name)
		}
		return nil, fmt.Errorf("-pipelines: no pipeline %q (have %s)", name, strings.Join(known, ", "))
	}
	return out, nil
}

// needed lists the input files the pipelines read, so no other is written.
func needed(pipes []pipelinebench.Pipeline) []string {
	var names []string
	for _, in := range pipelinebench.Inputs {
		for _, p := range pipes {
			if p.Input == in {
				names = append(names, in)
				break
			}
		}
	}
	if len(names) == 0 {
		// Only generate-discard: the inputs pipeline needs at least one sink.
		names = []string{pipelinebench.Parquet}
	}
	return names
}

func checkSpace(dir string, rows int) error {
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		return err
	}
	free := int64(st.Bavail) * int64(st.Bsize)
	if need := int64(rows) * bytesPerRow; free < need+need/5 {
		return fmt.Errorf("%d rows need about %.1f GB in %s, and %.1f GB are free", rows, float64(need)/1e9, dir, float64(free)/1e9)
	}
	return nil
}

type result struct {
	rssMB float64
	wall  time.Duration
	cpu   time.Duration
	gc    gcTrace
}

// gcTrace sums up the child's GODEBUG=gctrace=1 lines: how many cycles
// ran, the largest heap left live after a cycle, and the largest heap goal
// (the size the heap may reach before the next cycle, which sets peak RSS
// far more than anything else).
type gcTrace struct {
	cycles       int
	liveMB, goal int
}

// gcLine matches the heap figures of a gctrace line: "A->B->C MB, D MB goal".
var gcLine = regexp.MustCompile(`(\d+)->(\d+)->(\d+) MB, (\d+) MB goal`)

func parseGCTrace(out []byte) gcTrace {
	var t gcTrace
	for _, m := range gcLine.FindAllSubmatch(out, -1) {
		live, _ := strconv.Atoi(string(m[3]))
		goal, _ := strconv.Atoi(string(m[4]))
		t.cycles++
		t.liveMB, t.goal = max(t.liveMB, live), max(t.goal, goal)
	}
	return t
}

// child runs weave with args and extra environment, and returns its peak
// RSS, wall time, CPU time and GC figures (it turns on gctrace unless
// GODEBUG is already set).
func child(weave string, args, env []string) (result, error) {
	cmd := exec.Command(weave, args...)
	cmd.Env = append(os.Environ(), env...)
	if _, set := os.LookupEnv("GODEBUG"); !set {
		cmd.Env = append(cmd.Env, "GODEBUG=gctrace=1")
	}
	var stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stderr, &stderr
	start := time.Now()
	err := cmd.Run()
	wall := time.Since(start)
	if err != nil {
		return result{}, fmt.Errorf("%w\n%s", err, stderr.Bytes())
	}
	ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	if !ok {
		return result{}, errors.New("no rusage for the child process")
	}
	return result{
		rssMB: float64(ru.Maxrss) * 1024 / 1e6, // ru_maxrss is in KiB on Linux
		wall:  wall,
		cpu:   time.Duration(ru.Utime.Nano() + ru.Stime.Nano()),
		gc:    parseGCTrace(stderr.Bytes()),
	}, nil
}
