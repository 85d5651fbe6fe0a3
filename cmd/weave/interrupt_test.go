package main

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/dataweaver/dataweaver/internal/crashtest"
)

// interruptRows is big enough that weave is still reading when the signal
// comes, small enough to write in a moment.
const interruptRows = 400_000

// writeNumbers writes n JSON Lines rows {"id":i}.
func writeNumbers(t *testing.T, path string, n int) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w := bufio.NewWriter(f)
	for i := range n {
		fmt.Fprintf(w, "{\"id\":%d}\n", i)
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

// waitForFile waits until dir holds a file whose name has the prefix:
// the sink has started writing, so the signal lands mid-run.
func waitForFile(t *testing.T, pr *crashtest.Process, dir, prefix string) {
	t.Helper()
	for {
		entries, _ := os.ReadDir(dir)
		for _, e := range entries {
			if strings.HasPrefix(e.Name(), prefix) {
				return
			}
		}
		if pr.Exited() {
			t.Fatalf("weave ended before writing %s* in %s:\n%s", prefix, dir, pr.Output())
		}
		time.Sleep(time.Millisecond)
	}
}

// TestSIGTERMKeepsCompleteOutput is issue 10's second loss path: one
// SIGTERM on a bounded file job used to exit 0 and replace the complete
// output of an earlier run with a truncated file. Now the run exits 143,
// says it was interrupted, and the earlier output is untouched.
func TestSIGTERMKeepsCompleteOutput(t *testing.T) {
	dir := t.TempDir()
	in, out := filepath.Join(dir, "in.jsonl"), filepath.Join(dir, "out", "numbers.jsonl")
	writeNumbers(t, in, interruptRows)
	if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
		t.Fatal(err)
	}
	const earlier = "{\"id\":\"the complete output of an earlier run\"}\n"
	if err := os.WriteFile(out, []byte(earlier), 0o644); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(dir, "job.yaml")
	job := fmt.Sprintf("batch: {rows: 1000}\nsource: {file: %q}\nsinks: [{file: %q}]\n", in, out)
	if err := os.WriteFile(file, []byte(job), 0o644); err != nil {
		t.Fatal(err)
	}
	p := crashtest.Pipeline{File: file, State: filepath.Join(dir, "state")}
	pr := p.Start(t)
	waitForFile(t, pr, filepath.Dir(out), ".numbers.jsonl") // the sink's temporary file
	pr.Signal(t, syscall.SIGTERM)
	if code := pr.ExitCode(t); code != 128+int(syscall.SIGTERM) {
		t.Fatalf("exit %d after SIGTERM, want 143:\n%s", code, pr.Output())
	}
	msg := pr.Output()
	if !strings.Contains(msg, "weave: interrupted after ") || !strings.Contains(msg, "was not replaced") {
		t.Errorf("the message does not say the run was interrupted and the output kept:\n%s", msg)
	}
	if got, _ := os.ReadFile(out); string(got) != earlier {
		t.Errorf("the earlier output was replaced: %d bytes now", len(got))
	}
	entries, _ := os.ReadDir(filepath.Dir(out))
	if len(entries) != 1 {
		t.Errorf("the output directory holds %d entries, want only the earlier file", len(entries))
	}
	// Running again writes the whole output.
	p.Run(t)
	if rows := countLines(t, out); rows != interruptRows {
		t.Errorf("the rerun wrote %d rows, want %d", rows, interruptRows)
	}
}

// TestSIGTERMThenResume: a job writing part files stops on SIGTERM with
// what it published kept, and the next run adds exactly the rest.
func TestSIGTERMThenResume(t *testing.T) {
	dir := t.TempDir()
	in, out := filepath.Join(dir, "in.jsonl"), filepath.Join(dir, "parts")+"/"
	writeNumbers(t, in, interruptRows)
	file := filepath.Join(dir, "job.yaml")
	job := fmt.Sprintf("batch: {rows: 1000}\ncheckpoint_every: 50ms\nsource: {file: %q}\nsinks: [{file: {path: %q, format: jsonl}}]\n", in, out)
	if err := os.WriteFile(file, []byte(job), 0o644); err != nil {
		t.Fatal(err)
	}
	p := crashtest.Pipeline{File: file, State: filepath.Join(dir, "state")}
	pr := p.Start(t)
	waitForFile(t, pr, out, "part-")
	pr.Signal(t, syscall.SIGTERM)
	if code := pr.ExitCode(t); code != 143 {
		t.Fatalf("exit %d after SIGTERM, want 143:\n%s", code, pr.Output())
	}
	if msg := pr.Output(); !strings.Contains(msg, "run again to resume from ") {
		t.Errorf("the message does not say where the next run resumes:\n%s", msg)
	}
	first := countParts(t, out)
	if first == 0 || first >= interruptRows {
		t.Fatalf("the interrupted run published %d rows; want some, not all (make the input bigger)", first)
	}
	res := p.Run(t)
	if !strings.Contains(res.Output, "started at ") || strings.Contains(res.Output, "started at the start") {
		t.Errorf("the second run did not resume:\n%s", res.Output)
	}
	seen := make([]int, interruptRows)
	for _, part := range partFiles(t, out) {
		f, err := os.Open(part)
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			var id int
			if _, err := fmt.Sscanf(sc.Text(), "{\"id\":%d}", &id); err != nil {
				t.Fatalf("%s: %q: %v", part, sc.Text(), err)
			}
			seen[id]++
		}
		f.Close()
	}
	for id, n := range seen {
		if n != 1 {
			t.Fatalf("row %d is in the parts %d times, want once", id, n)
		}
	}
}

func partFiles(t *testing.T, dir string) []string {
	t.Helper()
	parts, err := filepath.Glob(filepath.Join(dir, "part-*.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	return parts
}

func countParts(t *testing.T, dir string) int {
	t.Helper()
	n := 0
	for _, p := range partFiles(t, dir) {
		n += countLines(t, p)
	}
	return n
}

func countLines(t *testing.T, path string) int {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return strings.Count(string(data), "\n")
}
