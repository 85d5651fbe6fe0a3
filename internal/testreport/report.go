package testreport

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"
)

// event is one line of `go test -json` (cmd/test2json's TestEvent).
type event struct {
	Action      string
	Package     string
	Test        string
	Elapsed     float64
	Output      string
	ImportPath  string // build-output and build-fail (Go 1.24+)
	FailedBuild string
}

// Skip is one skipped test and why.
type Skip struct {
	Package, Test, Reason string
}

// Summary is what a run came to.
type Summary struct {
	Passed, Failed, Skipped int
	// BuildFailed lists packages that did not compile.
	BuildFailed []string
	// FailedPackages lists packages whose test binary failed, including
	// failures outside any test (TestMain, a race report at exit).
	FailedPackages []string
	Skips          []Skip
	// Elapsed is each package's test binary time, as go test reports it,
	// summed over the runs of that package in the stream.
	Elapsed map[string]time.Duration
}

// OK reports whether nothing failed and at least one test ran.
func (s *Summary) OK() bool {
	return s.Failed == 0 && len(s.BuildFailed) == 0 && len(s.FailedPackages) == 0 && s.Passed > 0
}

type testKey struct{ pkg, test string }

// Read consumes a `go test -json` stream from r, writes the condensed
// output to w as it goes, and returns the summary.
func Read(r io.Reader, w io.Writer) (*Summary, error) {
	s := &Summary{Elapsed: map[string]time.Duration{}}
	logs := map[testKey]*strings.Builder{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 64*1024*1024)
	for sc.Scan() {
		line := sc.Bytes()
		var e event
		if len(line) == 0 || line[0] != '{' || json.Unmarshal(line, &e) != nil {
			fmt.Fprintf(w, "%s\n", line)
			continue
		}
		switch e.Action {
		case "build-output":
			io.WriteString(w, e.Output)
			continue
		case "build-fail":
			s.BuildFailed = append(s.BuildFailed, e.ImportPath)
			continue
		}
		if e.Test == "" {
			switch e.Action {
			case "output":
				// go test without -v prints a package's own lines ("ok",
				// "FAIL", "?   [no test files]", TestMain's output) but not
				// the bare PASS that -json's verbose mode adds.
				if e.Output != "PASS\n" {
					io.WriteString(w, e.Output)
				}
			case "pass", "fail", "skip":
				// += : make test runs some packages twice (with and
				// without -race), and both runs cost time.
				s.Elapsed[e.Package] += time.Duration(e.Elapsed * float64(time.Second))
				if e.Action == "fail" {
					s.FailedPackages = append(s.FailedPackages, e.Package)
				}
			}
			continue
		}
		k := testKey{e.Package, e.Test}
		switch e.Action {
		case "output":
			b := logs[k]
			if b == nil {
				b = &strings.Builder{}
				logs[k] = b
			}
			b.WriteString(e.Output)
		case "pass":
			s.Passed++
			delete(logs, k)
		case "fail":
			s.Failed++
			if b := logs[k]; b != nil {
				io.WriteString(w, b.String())
			}
			delete(logs, k)
		case "skip":
			s.Skipped++
			var reason string
			if b := logs[k]; b != nil {
				reason = skipReason(b.String())
			}
			s.Skips = append(s.Skips, Skip{Package: e.Package, Test: e.Test, Reason: reason})
			delete(logs, k)
		}
	}
	return s, sc.Err()
}

// skipReason keeps what the test said (t.Skip's message, logs before it),
// without the runner's own === and --- lines.
func skipReason(out string) string {
	var parts []string
	for _, l := range strings.Split(out, "\n") {
		t := strings.TrimSpace(l)
		if t == "" || strings.HasPrefix(t, "=== ") || strings.HasPrefix(t, "--- ") {
			continue
		}
		parts = append(parts, t)
	}
	return strings.Join(parts, " ")
}

// WriteEnd prints the skip list, the slowest packages (at most slowest of
// them) and the closing count line.
func (s *Summary) WriteEnd(w io.Writer, slowest int) {
	fmt.Fprintln(w)
	if len(s.Skips) == 0 {
		fmt.Fprintln(w, "== skipped tests: none")
	} else {
		fmt.Fprintf(w, "== skipped tests (%d): each proved nothing on this machine\n", len(s.Skips))
		skips := append([]Skip(nil), s.Skips...)
		sort.Slice(skips, func(i, j int) bool {
			if skips[i].Package != skips[j].Package {
				return skips[i].Package < skips[j].Package
			}
			return skips[i].Test < skips[j].Test
		})
		for _, sk := range skips {
			reason := sk.Reason
			if reason == "" {
				reason = "(no reason given)"
			}
			fmt.Fprintf(w, "SKIP %s %s: %s\n", sk.Package, sk.Test, reason)
		}
	}
	if len(s.Elapsed) > 0 && slowest > 0 {
		type pt struct {
			pkg string
			d   time.Duration
		}
		var ps []pt
		for p, d := range s.Elapsed {
			ps = append(ps, pt{p, d})
		}
		sort.Slice(ps, func(i, j int) bool { return ps[i].d > ps[j].d || ps[i].d == ps[j].d && ps[i].pkg < ps[j].pkg })
		fmt.Fprintf(w, "\n== slowest packages (test binary time; packages run in parallel)\n")
		for i, p := range ps {
			if i == slowest {
				break
			}
			fmt.Fprintf(w, "%8.1fs %s\n", p.d.Seconds(), p.pkg)
		}
	}
	for _, p := range s.BuildFailed {
		fmt.Fprintf(w, "BUILD FAILED %s\n", p)
	}
	for _, p := range s.FailedPackages {
		fmt.Fprintf(w, "FAILED %s\n", p)
	}
	fmt.Fprintln(w)
	fmt.Fprintf(w, "tests: %d passed, %d failed, %d skipped\n", s.Passed, s.Failed, s.Skipped)
}
