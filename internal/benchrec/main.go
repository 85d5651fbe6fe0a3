// Command benchrec runs a benchmark command in a clean git worktree of a
// commit on main and writes its raw output, headed by what is needed to
// reproduce and judge it, to bench/results/<yyyy-mm-dd>-<name>.txt.
//
//	go run ./internal/benchrec -commit 6f8a9a3 -name gcd -- \
//	    'for r in 1 2 3 4 5; do go test -run "^$" -bench Transforms/gcd -benchtime 20000x ./transforms/conformance; done'
//
// The command runs under sh -c in the worktree, so a round loop that
// alternates the variants being compared is one command and one file. The
// header names the commit, the command, the date, the Go version, nproc and
// the load average (/proc/loadavg) before and after: on a shared machine
// the load says how far an absolute figure can be trusted, which is why
// BENCHMARKS.md quotes same-run ratios.
//
// A worktree rather than the working directory because other engineers
// commit and edit while a benchmark runs: the measured code must be the
// named commit and nothing else. A commit not reachable from main is
// refused, since a figure citing it becomes untraceable as soon as the
// branch holding it is rebased away (issue 9: five cited commits were).
package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"time"
)

func main() {
	if err := run(os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "benchrec:", err)
		os.Exit(1)
	}
}

type options struct {
	commit, name, branch, outDir, worktree string
	keep                                   bool
	command                                string
}

func parse(args []string) (options, error) {
	var o options
	fs := flag.NewFlagSet("benchrec", flag.ContinueOnError)
	fs.StringVar(&o.commit, "commit", "", "commit to measure (must be reachable from -branch)")
	fs.StringVar(&o.name, "name", "", "short name of the measurement, used in the output file name")
	fs.StringVar(&o.branch, "branch", "main", "branch the commit must be reachable from")
	fs.StringVar(&o.outDir, "out", "bench/results", "output directory, relative to the repository root")
	fs.StringVar(&o.worktree, "worktree", "", "worktree directory (default /tmp/bench-<hash>)")
	fs.BoolVar(&o.keep, "keep", false, "keep a worktree this run created, for the next run at the same commit")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	o.command = strings.Join(fs.Args(), " ")
	switch {
	case o.commit == "":
		return o, errors.New("-commit is required")
	case o.name == "" || strings.ContainsAny(o.name, "/ "):
		return o, fmt.Errorf("-name %q: give a short name without spaces or slashes", o.name)
	case strings.TrimSpace(o.command) == "":
		return o, errors.New("no command: give it after --")
	}
	return o, nil
}

func run(args []string, stdout io.Writer) error {
	o, err := parse(args)
	if err != nil {
		return err
	}
	root, err := git("", "rev-parse", "--show-toplevel")
	if err != nil {
		return err
	}
	full, err := reachable(root, o.commit, o.branch)
	if err != nil {
		return err
	}
	wt := o.worktree
	if wt == "" {
		wt = filepath.Join(os.TempDir(), "bench-"+full[:12])
	}
	created, err := worktree(root, wt, full)
	if err != nil {
		return err
	}
	if created && !o.keep {
		defer func() {
			if _, err := git(root, "worktree", "remove", "--force", wt); err != nil {
				fmt.Fprintln(os.Stderr, "benchrec:", err)
			}
		}()
	}

	now := time.Now().UTC()
	outDir := o.outDir
	if !filepath.IsAbs(outDir) {
		outDir = filepath.Join(root, outDir)
	}
	if err := os.MkdirAll(outDir, 0o755); err != nil {
		return fmt.Errorf("output directory: %w", err)
	}
	path := filepath.Join(outDir, now.Format("2006-01-02")+"-"+o.name+".txt")
	// O_EXCL: a raw output, once cited, must not be replaced by another run.
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return fmt.Errorf("output file (choose another -name): %w", err)
	}
	defer f.Close()

	subject, err := git(root, "log", "-1", "--format=%h %s", full)
	if err != nil {
		return err
	}
	goVersion, err := output(wt, "go", "version")
	if err != nil {
		return err
	}
	fmt.Fprintf(f, "commit: %s (%s)\n", full, subject)
	fmt.Fprintf(f, "command (sh -c, in a worktree of the commit): %s\n", o.command)
	fmt.Fprintf(f, "date: %s\n", now.Format(time.RFC3339))
	fmt.Fprintf(f, "go: %s\n", goVersion)
	fmt.Fprintf(f, "nproc: %d\n", runtime.NumCPU())
	fmt.Fprintf(f, "loadavg before: %s\n", loadavg())
	fmt.Fprintln(f, "----")

	cmd := exec.Command("sh", "-c", o.command)
	cmd.Dir = wt
	w := io.MultiWriter(f, stdout)
	cmd.Stdout, cmd.Stderr = w, w
	// Its own process group, so that stopping benchrec stops the go test
	// processes under the shell too (they would otherwise go on loading the
	// machine) and the deferred worktree removal still runs.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("starting %q: %w", o.command, err)
	}
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(sigs)
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	var runErr error
	select {
	case runErr = <-done:
	case sig := <-sigs:
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
		<-done
		runErr = fmt.Errorf("stopped by %v", sig)
	}
	fmt.Fprintln(f, "----")
	fmt.Fprintf(f, "loadavg after: %s\n", loadavg())
	fmt.Fprintf(f, "elapsed: %s\n", time.Since(start).Round(time.Second))
	status := "0"
	if runErr != nil {
		status = runErr.Error()
	}
	fmt.Fprintf(f, "exit: %s\n", status)
	if err := f.Close(); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	fmt.Fprintln(stdout, "benchrec: wrote", path)
	if runErr != nil {
		return fmt.Errorf("command failed (output kept in %s): %w", path, runErr)
	}
	return nil
}

// reachable resolves commit and checks that branch contains it.
func reachable(root, commit, branch string) (string, error) {
	full, err := git(root, "rev-parse", "--verify", "--quiet", commit+"^{commit}")
	if err != nil {
		return "", fmt.Errorf("commit %q does not resolve to a commit: %w", commit, err)
	}
	if _, err := git(root, "merge-base", "--is-ancestor", full, branch); err != nil {
		return "", fmt.Errorf("commit %s is not reachable from %s, so a figure citing it could not be traced: %w", commit, branch, err)
	}
	return full, nil
}

// worktree makes sure dir is a clean checkout of commit, creating it if it
// does not exist, and reports whether it did.
func worktree(root, dir, commit string) (bool, error) {
	if _, err := os.Stat(dir); errors.Is(err, os.ErrNotExist) {
		if _, err := git(root, "worktree", "add", "--detach", dir, commit); err != nil {
			return false, err
		}
		return true, nil
	}
	head, err := git(dir, "rev-parse", "HEAD")
	if err != nil {
		return false, fmt.Errorf("%s exists and is not a git checkout: %w", dir, err)
	}
	if head != commit {
		return false, fmt.Errorf("%s is at %s, not %s: remove it or pass -worktree", dir, head, commit)
	}
	dirty, err := git(dir, "status", "--porcelain", "--untracked-files=all")
	if err != nil {
		return false, err
	}
	if dirty != "" {
		return false, fmt.Errorf("%s has changes, so it is not the commit it claims to measure:\n%s", dir, dirty)
	}
	return false, nil
}

func loadavg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unavailable: " + err.Error()
	}
	return strings.TrimSpace(string(b))
}

func git(dir string, args ...string) (string, error) {
	return output(dir, "git", args...)
}

func output(dir, name string, args ...string) (string, error) {
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("%s %s: %w: %s", name, strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return strings.TrimSpace(string(out)), nil
}
