// Command run is `make bench-peers`: weave against DuckDB and Benthos on
// issue 16's two jobs and issue 18's W3, side by side on this machine.
//
//   - W1: 1M orders as JSON Lines → drop amount < 0 or country XX → mask
//     the email → add amount_cents → JSON Lines.
//   - W2: the same, Parquet → Parquet.
//   - W3: 1M orders in event-time order as JSON Lines → count and sum of
//     amount per country per 1-minute window of ts → JSON Lines (w3.go).
//
// Variants: weave with the Go guests (build/wasm, `make wasm-go`), weave
// with the C guests (transforms/c, committed), weave with no stages (the
// formats and the engine alone, a baseline whose output is the input),
// DuckDB with 2 threads (bench/peers/duckdb) and, for W1, Benthos with 2
// pipeline threads and a Bloblang mapping (bench/peers/benthos). W3 runs
// weave with the C and the Rust window_agg (transforms/rust, committed),
// DuckDB's GROUP BY and Benthos (w3.go says how).
//
// weave writes W1's and W2's inputs itself (the generate connector's
// orders preset, seed 42, as internal/pipelinebench does); bench/w3 writes
// W3's (its rows are in event-time order, which the preset's are not:
// window_agg then closes each window at the next one's first row, as
// DuckDB and Benthos need no lateness either). Then every variant of a job
// runs once per round, in an order rotated each round, for -pairs rounds:
// load from the other users of the machine falls on all of them alike, and
// each ratio against DuckDB is taken within a round, then the median over
// rounds is printed with its range. Each run is a child process: wall time,
// CPU time (user+system, getrusage) and peak RSS (ru_maxrss) are its own.
// This process holds no data, so its own small peak RSS does not leak into
// the children's (see internal/pipelinebench/cmd/rss on vfork).
//
// After every run DuckDB reads the output back and prints its row count and
// the sum of a hash of each row's id, email, country and amount_cents; all
// runs of a job's variants that do the job must agree (the no-stages
// baseline must hold every input row), or the command fails. W3's outputs
// are read here instead (groups.go): every run must hold the same groups
// as the first, with equal counts and sums equal within 1e-9.
//
// -jobs W2 runs one job only; -weave-base BIN adds BIN's three weave
// variants ("base …") to the same rounds and prints each weave variant
// against its base twin within rounds: a same-run A/B of two commits
// with DuckDB beside them, e.g.
//
//	make bench-peers PEERS_FLAGS="-no-benthos -jobs W2 -weave-base /tmp/weave-main"
package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"
)

func main() {
	var o opts
	flag.StringVar(&o.weave, "weave", "bin/weave", "weave binary")
	flag.StringVar(&o.goWasm, "go-wasm", "build/wasm", "directory of the Go guests filter.wasm, mask.wasm, derive.wasm (make wasm-go)")
	flag.StringVar(&o.cWasm, "c-wasm", "transforms/c", "directory of the C guests (<name>/<name>.wasm)")
	flag.StringVar(&o.rustWasm, "rust-wasm", "transforms/rust", "directory of the Rust guests (<name>/<name>.wasm)")
	flag.StringVar(&o.peers, "peers", "", "directory holding the duckdb and benthos binaries, and w3, bench/w3's input writer")
	flag.IntVar(&o.rows, "rows", 1_000_000, "input rows")
	flag.IntVar(&o.pairs, "pairs", 5, "rounds: runs of each variant of each job")
	flag.StringVar(&o.dir, "dir", "", "where to write inputs and outputs (default: the system temporary directory)")
	flag.BoolVar(&o.noBenthos, "no-benthos", false, "leave Benthos out (20-90 s a run)")
	flag.StringVar(&o.jobs, "jobs", "W1,W2,W3", "the jobs to run, comma-separated")
	flag.StringVar(&o.base, "weave-base", "", "a second weave binary (e.g. built at the base commit of an A/B): its variants run in the same rounds, named \"base …\"")
	flag.StringVar(&o.baseGoWasm, "base-go-wasm", "", "with -weave-base: the base commit's Go guests for its \"base Go guests\" variant (default: -go-wasm's), for an A/B of a change to the Go guests or their SDK")
	flag.Parse()
	if err := run(o); err != nil {
		fmt.Fprintln(os.Stderr, "bench-peers:", err)
		os.Exit(1)
	}
}

type opts struct {
	weave, goWasm, cWasm, rustWasm, peers string
	dir, jobs, base, baseGoWasm           string
	rows, pairs                           int
	noBenthos                             bool
}

// variant is one way to run one job: the command, given the work
// directory, whether its output is the job's (false: a baseline), and, for
// an aggregation, whether it writes each group's updates (a changelog,
// the last line per group the final aggregate) instead of each group once.
type variant struct {
	name      string
	cmd       func(w string) []string
	job       bool
	changelog bool
}

// job is one benchmark job; groups says its output is aggregates, checked
// by readGroups and compareGroups instead of DuckDB's checksum.
type job struct {
	name, in, out string
	variants      []variant
	groups        bool
}

// result is one run.
type result struct {
	wall, cpu time.Duration
	rssKiB    int64
	check     string
	diffs     []string // an aggregation's differences from the job's first run
}

func run(o opts) error {
	for _, p := range []*string{&o.weave, &o.goWasm, &o.cWasm, &o.rustWasm, &o.peers, &o.base, &o.baseGoWasm} {
		if *p == "" {
			continue
		}
		abs, err := filepath.Abs(*p)
		if err != nil {
			return err
		}
		*p = abs
	}
	duck, benthos := filepath.Join(o.peers, "duckdb"), filepath.Join(o.peers, "benthos")
	w, err := os.MkdirTemp(o.dir, "weave-peers-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(w)
	want := strings.Split(o.jobs, ",")
	if slices.Contains(want, "W3") {
		if err := writeW3Input(filepath.Join(o.peers, "w3"), o.rows, filepath.Join(w, "w3.jsonl")); err != nil {
			return err
		}
	}
	if !slices.Contains(want, "W1") && !slices.Contains(want, "W2") {
		return runJobs(o, w, duck, want, nil)
	}

	gen := fmt.Sprintf(`name: peers-inputs
source:
  generate: {preset: orders, rows: %d, seed: 42}
sinks:
  - file: {path: %q}
  - file: {path: %q}
`, o.rows, filepath.Join(w, "orders.jsonl"), filepath.Join(w, "orders.parquet"))
	if err := write(w, "inputs.yaml", gen); err != nil {
		return err
	}
	if _, err := child(w, []string{o.weave, "run", "--state", filepath.Join(w, "state"), filepath.Join(w, "inputs.yaml")}); err != nil {
		return fmt.Errorf("writing the inputs: %w", err)
	}
	if err := settle(w, "orders.jsonl", "orders.parquet"); err != nil {
		return err
	}

	guests := map[string]func(string) string{
		"go": func(m string) string { return filepath.Join(o.goWasm, m+".wasm") },
		"c":  func(m string) string { return filepath.Join(o.cWasm, m, m+".wasm") },
	}
	if o.baseGoWasm != "" {
		guests["go-base"] = func(m string) string { return filepath.Join(o.baseGoWasm, m+".wasm") }
	}
	for _, lang := range []string{"go", "c", "none", "go-base"} {
		if lang == "go-base" && o.baseGoWasm == "" {
			continue
		}
		for _, ext := range []string{"jsonl", "parquet"} {
			stages := ""
			if lang != "none" {
				wasm := guests[lang]
				stages = fmt.Sprintf(`stages:
  - wasm: {path: %q, config: {column: amount, op: ">=", value: 0}}
  - wasm: {path: %q, config: {column: country, op: "!=", value: XX}}
  - wasm: {path: %q, config: {columns: [email]}}
  - wasm: %q
`, wasm("filter"), wasm("filter"), wasm("mask"), wasm("derive"))
			}
			y := fmt.Sprintf("name: peers-%s-%s\nsource:\n  file: %q\n%ssinks:\n  - file: %q\n",
				lang, ext, filepath.Join(w, "orders."+ext), stages, filepath.Join(w, "out."+ext))
			if err := write(w, lang+"-"+ext+".yaml", y); err != nil {
				return err
			}
		}
	}
	if err := write(w, "benthos.yaml", fmt.Sprintf(`input:
  file:
    paths: [%q]
pipeline:
  threads: 2
  processors:
    - mapping: |
        if this.amount < 0 || this.country == "XX" {
          root = deleted()
        } else {
          root = this
          root.email = this.email.re_replace_all("^(.).*(@[^@]*)$", "$1***$2")
          root.amount_cents = (this.amount * 100).round()
        }
output:
  file:
    path: %q
logger:
  level: warn
http:
  enabled: false
`, filepath.Join(w, "orders.jsonl"), filepath.Join(w, "out.jsonl"))); err != nil {
		return err
	}

	weaveWith := func(bin, lang, ext string) func(string) []string {
		return func(w string) []string {
			return []string{bin, "run", "--from-start", "--state", filepath.Join(w, "state"), filepath.Join(w, lang+"-"+ext+".yaml")}
		}
	}
	weave := func(lang, ext string) func(string) []string { return weaveWith(o.weave, lang, ext) }
	duckdb := func(j, ext string) func(string) []string {
		return func(w string) []string {
			return []string{duck, "-job", j, "-threads", "2", "-in", filepath.Join(w, "orders."+ext), "-out", filepath.Join(w, "out."+ext)}
		}
	}
	jobs := []job{
		{name: "W1", in: "orders.jsonl", out: "out.jsonl", variants: []variant{
			{name: "weave Go guests", cmd: weave("go", "jsonl"), job: true},
			{name: "weave C guests", cmd: weave("c", "jsonl"), job: true},
			{name: "weave no stages", cmd: weave("none", "jsonl"), job: false},
			{name: "DuckDB 2 threads", cmd: duckdb("w1", "jsonl"), job: true},
		}},
		{name: "W2", in: "orders.parquet", out: "out.parquet", variants: []variant{
			{name: "weave Go guests", cmd: weave("go", "parquet"), job: true},
			{name: "weave C guests", cmd: weave("c", "parquet"), job: true},
			{name: "weave no stages", cmd: weave("none", "parquet"), job: false},
			{name: "DuckDB 2 threads", cmd: duckdb("w2", "parquet"), job: true},
		}},
	}
	if o.base != "" {
		baseGo := "go"
		if o.baseGoWasm != "" {
			baseGo = "go-base"
		}
		for j, ext := range []string{"jsonl", "parquet"} {
			jobs[j].variants = append(jobs[j].variants,
				variant{name: "base Go guests", cmd: weaveWith(o.base, baseGo, ext), job: true},
				variant{name: "base C guests", cmd: weaveWith(o.base, "c", ext), job: true},
				variant{name: "base no stages", cmd: weaveWith(o.base, "none", ext), job: false})
		}
	}
	if !o.noBenthos {
		jobs[0].variants = append(jobs[0].variants, variant{name: "Benthos 2 threads", cmd: func(w string) []string {
			return []string{benthos, "-c", filepath.Join(w, "benthos.yaml")}
		}, job: true})
	}
	return runJobs(o, w, duck, want, jobs)
}

// runJobs adds W3 to W1's and W2's jobs when asked, then runs the jobs
// asked for, rounds of interleaved variants, and prints their tables.
func runJobs(o opts, w, duck string, want []string, jobs []job) error {
	if slices.Contains(want, "W3") {
		w3, err := w3Job(o, w)
		if err != nil {
			return err
		}
		jobs = append(jobs, w3)
	}
	jobs = slices.DeleteFunc(jobs, func(j job) bool { return !slices.Contains(want, j.name) })
	if len(jobs) == 0 {
		return fmt.Errorf("-jobs %q names none of W1, W2, W3", o.jobs)
	}
	if o.base != "" {
		fmt.Printf("weave: %s; base: %s\n", o.weave, o.base)
	}
	fmt.Printf("%d input rows, %d rounds, variants interleaved (order rotated each round); load before: %s\n", o.rows, o.pairs, loadavg())
	results := make([][][]result, len(jobs)) // job, variant, round
	refs := make([]map[group]agg, len(jobs)) // an aggregation's first output
	for j := range jobs {
		results[j] = make([][]result, len(jobs[j].variants))
	}
	for r := range o.pairs {
		for j, jb := range jobs {
			n := len(jb.variants)
			for k := range n {
				v := (k + r) % n
				res, err := measure(w, duck, jb, jb.variants[v], &refs[j])
				if err != nil {
					return fmt.Errorf("%s, %s, round %d: %w", jb.name, jb.variants[v].name, r+1, err)
				}
				results[j][v] = append(results[j][v], res)
				fmt.Fprintf(os.Stderr, "round %d %s %-18s wall %6.2fs cpu %6.2fs rss %4d MiB  %s\n",
					r+1, jb.name, jb.variants[v].name, res.wall.Seconds(), res.cpu.Seconds(), res.rssKiB/1024, res.check)
				for _, d := range res.diffs {
					fmt.Fprintf(os.Stderr, "  differs from the first run: %s\n", d)
				}
			}
		}
	}
	fmt.Printf("load after: %s\n\n", loadavg())
	var bad []string
	for j, jb := range jobs {
		bad = append(bad, report(o.rows, jb, results[j])...)
	}
	if len(bad) > 0 {
		return errors.New("outputs disagree:\n  " + strings.Join(bad, "\n  "))
	}
	return nil
}

// measure runs one variant as a child and checks its output. For an
// aggregation, *ref is the job's first output, set by its first run.
func measure(w, duck string, jb job, v variant, ref *map[group]agg) (result, error) {
	out := filepath.Join(w, jb.out)
	os.Remove(out)
	start := time.Now()
	ps, err := child(w, v.cmd(w))
	wall := time.Since(start)
	if err != nil {
		return result{}, err
	}
	ru := ps.SysUsage().(*syscall.Rusage)
	res := result{
		wall:   wall,
		cpu:    time.Duration(ru.Utime.Nano() + ru.Stime.Nano()),
		rssKiB: ru.Maxrss,
	}
	if jb.groups {
		groups, err := readGroups(out, v.changelog)
		if err != nil {
			return result{}, err
		}
		res.check = summary(groups)
		if *ref == nil {
			*ref = groups
		} else {
			res.diffs = compareGroups(*ref, groups, 10)
		}
		return res, nil
	}
	cols := "id,email,country,amount_cents"
	if !v.job {
		cols = "id,email,country"
	}
	check, err := exec.Command(duck, "-check", out, "-cols", cols).Output()
	if err != nil {
		return result{}, fmt.Errorf("reading back %s: %w", out, errText(err))
	}
	res.check = strings.TrimSpace(string(check))
	return res, nil
}

// report prints one job's table and returns what disagrees.
func report(rows int, jb job, res [][]result) []string {
	base := slices.IndexFunc(jb.variants, func(v variant) bool { return strings.HasPrefix(v.name, "DuckDB") })
	fmt.Printf("%s (%s → %s), median of %d runs; ratios against DuckDB within each round, median [min-max]:\n\n", jb.name, jb.in, jb.out, len(res[0]))
	fmt.Println("| variant | wall s | CPU s | peak RSS MiB | rows/s | rows/CPU-s | speed vs DuckDB (wall) | CPU vs DuckDB | output: rows, checksum (W3: groups, rows counted) |")
	fmt.Println("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |")
	var bad []string
	want := ""
	for v, rs := range res {
		walls := durations(rs, func(r result) time.Duration { return r.wall })
		cpus := durations(rs, func(r result) time.Duration { return r.cpu })
		var rss []float64
		var speed, cpu []float64
		for i, r := range rs {
			rss = append(rss, float64(r.rssKiB)/1024)
			speed = append(speed, res[base][i].wall.Seconds()/r.wall.Seconds())
			cpu = append(cpu, r.cpu.Seconds()/res[base][i].cpu.Seconds())
		}
		mw, mc := median(walls), median(cpus)
		fmt.Printf("| %s | %.2f | %.2f | %.0f-%.0f | %.2fM | %.2fM | %s | %s | %s |\n",
			jb.variants[v].name, mw, mc, slices.Min(rss), slices.Max(rss),
			float64(rows)/mw/1e6, float64(rows)/mc/1e6, spread(speed), spread(cpu), rs[0].check)
		for _, r := range rs {
			for _, d := range r.diffs {
				bad = append(bad, fmt.Sprintf("%s %s: %s", jb.name, jb.variants[v].name, d))
			}
			if jb.variants[v].job {
				if want == "" {
					want = r.check
				}
				if r.check != want {
					bad = append(bad, fmt.Sprintf("%s %s: %s, others %s", jb.name, jb.variants[v].name, r.check, want))
				}
			} else if !strings.HasPrefix(r.check, fmt.Sprint(rows)+" ") {
				bad = append(bad, fmt.Sprintf("%s %s: %s, want %d rows", jb.name, jb.variants[v].name, r.check, rows))
			}
		}
	}
	fmt.Println()
	againstBase(jb, res)
	againstBenthos(jb, res)
	return bad
}

// againstBenthos prints, when Benthos ran, how many times faster each
// weave variant was than Benthos by wall and by CPU, taken within each
// round (issue 18 asks W3 for ≥ 20×).
func againstBenthos(jb job, res [][]result) {
	b := slices.IndexFunc(jb.variants, func(v variant) bool { return strings.HasPrefix(v.name, "Benthos") })
	if b < 0 {
		return
	}
	fmt.Printf("%s, Benthos's wall and CPU over each weave variant's within each round (times faster), median [min-max]:\n\n| variant | wall | CPU |\n| --- | ---: | ---: |\n", jb.name)
	for v, vr := range jb.variants {
		if !strings.HasPrefix(vr.name, "weave ") {
			continue
		}
		var wall, cpu []float64
		for i, r := range res[v] {
			wall = append(wall, res[b][i].wall.Seconds()/r.wall.Seconds())
			cpu = append(cpu, res[b][i].cpu.Seconds()/r.cpu.Seconds())
		}
		fmt.Printf("| %s | %s | %s |\n", vr.name, spread(wall), spread(cpu))
	}
	fmt.Println()
}

// againstBase prints, when -weave-base ran, each weave variant's wall and
// CPU against the base binary's same variant, taken within each round.
func againstBase(jb job, res [][]result) {
	header := false
	for v, vr := range jb.variants {
		b := slices.IndexFunc(jb.variants, func(x variant) bool { return x.name == "base "+strings.TrimPrefix(vr.name, "weave ") })
		if !strings.HasPrefix(vr.name, "weave ") || b < 0 {
			continue
		}
		if !header {
			fmt.Printf("%s, weave against base within each round, median [min-max]:\n\n| variant | wall | CPU |\n| --- | ---: | ---: |\n", jb.name)
			header = true
		}
		var wall, cpu []float64
		for i, r := range res[v] {
			wall = append(wall, r.wall.Seconds()/res[b][i].wall.Seconds())
			cpu = append(cpu, r.cpu.Seconds()/res[b][i].cpu.Seconds())
		}
		fmt.Printf("| %s | %s | %s |\n", vr.name, spread(wall), spread(cpu))
	}
	if header {
		fmt.Println()
	}
}

func durations(rs []result, f func(result) time.Duration) []float64 {
	var s []float64
	for _, r := range rs {
		s = append(s, f(r).Seconds())
	}
	return s
}

func median(s []float64) float64 {
	s = slices.Clone(s)
	slices.Sort(s)
	if n := len(s); n%2 == 1 {
		return s[n/2]
	} else {
		return (s[n/2-1] + s[n/2]) / 2
	}
}

func spread(s []float64) string {
	return fmt.Sprintf("%.2f× [%.2f-%.2f]", median(s), slices.Min(s), slices.Max(s))
}

// child runs argv in dir and returns its state; its output is shown only
// when it fails.
func child(dir string, argv []string) (*os.ProcessState, error) {
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Dir = dir
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("%s: %w\n%s", strings.Join(argv, " "), err, out.Bytes())
	}
	return cmd.ProcessState, nil
}

func errText(err error) error {
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return fmt.Errorf("%w: %s", err, ee.Stderr)
	}
	return err
}

func write(dir, name, text string) error {
	return os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644)
}

// settle flushes the inputs to disk, so the first runs do not pay for
// the kernel writing them back.
func settle(dir string, names ...string) error {
	for _, n := range names {
		f, err := os.Open(filepath.Join(dir, n))
		if err != nil {
			return err
		}
		err = f.Sync()
		f.Close()
		if err != nil {
			return fmt.Errorf("sync %s: %w", n, err)
		}
	}
	return nil
}

func loadavg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	f := strings.Fields(string(b))
	return strings.Join(f[:min(3, len(f))], " ")
}
