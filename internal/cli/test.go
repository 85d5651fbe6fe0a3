package cli

import (
	"fmt"
	"io"
	"regexp"
	"strings"
	"time"

	ucli "github.com/urfave/cli/v2"

	"github.com/dataweaver/dataweaver/engine"
	"github.com/dataweaver/dataweaver/pipetest"
)

func (w *weave) testCommand() *ucli.Command {
	return &ucli.Command{
		Name:      "test",
		Usage:     "run a pipeline's tests: known input rows, expected rows at any step",
		ArgsUsage: "[FILE|DIR...]",
		Description: "Runs test files (NAME.test.yaml beside the pipeline NAME.yaml, which also stands for it; " +
			"a directory means every " + pipetest.Suffix + " file below it, default the current one). Each test feeds its input rows to the " +
			"pipeline in place of the real source, runs the real stages (Wasm included) through the engine, " +
			"keeps what every step and sink emits and what is dead-lettered in memory, and compares: the " +
			"schema first, then the rows. Nothing is read from or written to the real source and sinks.\n\n" +
			"Paths inside the pipeline file (a Wasm module) mean what they mean to weave run: run weave test " +
			"from where you run the pipeline. Exit status: 0 when every test passed, 1 when one failed, " +
			"2 when a test or pipeline file is invalid.",
		Flags: []ucli.Flag{
			&ucli.StringFlag{Name: "run", Usage: "run only the tests whose name matches this regular expression"},
			&ucli.BoolFlag{Name: "verbose", Aliases: []string{"v"}, Usage: "show the pipelines' logs"},
			setFlag,
		},
		Action: w.test,
	}
}

func (w *weave) test(c *ucli.Context) error {
	args := c.Args().Slice()
	if len(args) == 0 {
		args = []string{"."}
	}
	var match *regexp.Regexp
	if r := c.String("run"); r != "" {
		var err error
		if match, err = regexp.Compile(r); err != nil {
			return usagef("--run %q: %v", r, err)
		}
	}
	files, err := pipetest.Find(args...)
	if err != nil {
		return usageError{err}
	}
	if len(files) == 0 {
		return usagef("no test files (*%s) in %s", pipetest.Suffix, strings.Join(args, ", "))
	}
	opts := pipetest.Options{Env: w.opts.Env, Lookup: w.opts.Lookup, Set: c.StringSlice("set"), Mem: w.opts.Mem}
	if c.Bool("verbose") {
		opts.Logger = w.logger
	}
	out := w.opts.Stdout
	var sum testSummary
	for _, f := range files {
		s, err := pipetest.ReadSuite(f)
		if err != nil {
			sum.add(out, &pipetest.SuiteResult{Suite: &pipetest.Suite{File: f}, Err: err})
			continue
		}
		if match != nil {
			s.Tests = filterTests(s.Tests, match)
			if len(s.Tests) == 0 {
				continue
			}
		}
		sum.add(out, s.Run(c.Context, opts))
	}
	return sum.finish(out)
}

func filterTests(tests []*pipetest.Case, match *regexp.Regexp) []*pipetest.Case {
	var keep []*pipetest.Case
	for _, t := range tests {
		if match.MatchString(t.Name) {
			keep = append(keep, t)
		}
	}
	return keep
}

// testSummary prints results the way go test does, and counts them.
type testSummary struct {
	files, tests, failed, invalid int
}

func (s *testSummary) add(out io.Writer, r *pipetest.SuiteResult) {
	s.files++
	if r.Err != nil {
		s.invalid++
		fmt.Fprintf(out, "FAIL\t%s [setup failed]\n", r.Suite.File)
		fmt.Fprintln(out, indentLines(r.Err.Error(), "    "))
		return
	}
	for _, c := range r.Cases {
		s.tests++
		if c.Passed() {
			fmt.Fprintf(out, "--- PASS: %s (%s)\n", c.Case.Name, seconds(c.Elapsed))
			continue
		}
		s.failed++
		fmt.Fprintf(out, "--- FAIL: %s (%s)\n", c.Case.Name, seconds(c.Elapsed))
		for _, f := range c.Failures {
			fmt.Fprintln(out, indentLines(f, "    "))
		}
	}
	status := "ok  "
	if r.Failed() {
		status = "FAIL"
	}
	fmt.Fprintf(out, "%s\t%s\t%s\n", status, r.Suite.File, seconds(r.Elapsed))
}

// finish prints the last line and returns the error that sets the exit
// status: invalid files (2) before failed tests (1).
func (s *testSummary) finish(out io.Writer) error {
	files := count(s.files, "file")
	switch {
	case s.invalid > 0:
		fmt.Fprintln(out, "FAIL")
		return fmt.Errorf("%w: %s could not run (of %s); %d of %s failed", engine.ErrInvalidConfig,
			count(s.invalid, "test file"), files, s.failed, count(s.tests, "test"))
	case s.failed > 0:
		fmt.Fprintln(out, "FAIL")
		return fmt.Errorf("%d of %s failed (%s)", s.failed, count(s.tests, "test"), files)
	}
	fmt.Fprintf(out, "PASS: %s (%s)\n", count(s.tests, "test"), files)
	return nil
}

func count(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

func seconds(d time.Duration) string { return fmt.Sprintf("%.2fs", d.Seconds()) }

func indentLines(s, prefix string) string {
	return prefix + strings.ReplaceAll(strings.TrimRight(s, "\n"), "\n", "\n"+prefix)
}
