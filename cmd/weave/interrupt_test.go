package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/dataweaver/dataweaver/internal/crashtest"
)

// interruptRows rows at interruptRate take two seconds to produce, so a
// signal sent once the first rows are written always lands mid-run, however
// fast the machine (a file of 400,000 rows was once read whole in 57 ms,
// before the signal).
const (
	interruptRows = 20_000
	interruptRate = 10_000
)

// pacedSource is a generate source of interruptRows orders, ids 1 to
// interruptRows, at interruptRate rows per second.
var pacedSource = fmt.Sprintf("{generate: {preset: orders, rows: %d, rows_per_second: %d}}", interruptRows, interruptRate)

// waitForFile waits until dir holds a non-empty file whose name has the
// prefix: the sink has written rows, so the signal lands mid-run (an empty
// file only says the sink opened, which is still start-up).
func waitForFile(t *testing.T, pr *crashtest.Process, dir, prefix string) {
	t.Helper()
	for {
		entries, _ := os.ReadDir(dir)
		for _, e := range entries {
			if !strings.HasPrefix(e.Name(), prefix) {
				continue
			}
			if info, err := e.Info(); err == nil && info.Size() > 0 {
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
	out := filepath.Join(dir, "out", "numbers.jsonl")
	if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
		t.Fatal(err)
	}
	const earlier = "{\"id\":\"the complete output of an earlier run\"}\n"
	if err := os.WriteFile(out, []byte(earlier), 0o644); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(dir, "job.yaml")
	job := fmt.Sprintf("batch: {rows: 1000}\nsource: %s\nsinks: [{file: %q}]\n", pacedSource, out)
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
	out := filepath.Join(dir, "parts") + "/"
	file := filepath.Join(dir, "job.yaml")
	job := fmt.Sprintf("batch: {rows: 1000}\ncheckpoint_every: 50ms\nsource: %s\nsinks: [{file: {path: %q, format: jsonl}}]\n", pacedSource, out)
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
	seen := make([]int, interruptRows+1) // ids start at 1
	for _, part := range partFiles(t, out) {
		f, err := os.Open(part)
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			var row struct{ ID int }
			if err := json.Unmarshal(sc.Bytes(), &row); err != nil || row.ID < 1 || row.ID > interruptRows {
				t.Fatalf("%s: %.80q: id %d, %v", part, sc.Text(), row.ID, err)
			}
			seen[row.ID]++
		}
		f.Close()
	}
	for id, n := range seen[1:] {
		if id++; n != 1 {
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

// TestSIGTERMDuringStartUp: one SIGTERM while weave is still opening its
// source (a database server that accepts the connection and never
// answers, with an hour's connect_timeout) stops it: exit 143, a message
// saying nothing was read, and the earlier output untouched. It used to
// take a second signal or the connect timeout, because a drain only
// stopped a source that was already reading.
func TestSIGTERMDuringStartUp(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	accepted := make(chan net.Conn, 16)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			accepted <- c // held open, never answered
		}
	}()
	t.Cleanup(func() {
		for {
			select {
			case c := <-accepted:
				c.Close()
			default:
				return
			}
		}
	})
	dir := t.TempDir()
	out := filepath.Join(dir, "out.jsonl")
	const earlier = "{\"id\":\"the output of an earlier run\"}\n"
	if err := os.WriteFile(out, []byte(earlier), 0o644); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(dir, "job.yaml")
	job := fmt.Sprintf("source: {postgres: {dsn: \"postgres://weave@%s/db?sslmode=disable&connect_timeout=3600\", table: orders, cursor: id}}\nsinks: [{file: %q}]\n", ln.Addr(), out)
	if err := os.WriteFile(file, []byte(job), 0o644); err != nil {
		t.Fatal(err)
	}
	p := crashtest.Pipeline{File: file, State: filepath.Join(dir, "state")}
	pr := p.Start(t)
	c := <-accepted // weave is in the source's Open, waiting for the server
	accepted <- c
	pr.Signal(t, syscall.SIGTERM)
	if code := pr.ExitCode(t); code != 143 {
		t.Fatalf("exit %d after one SIGTERM during start-up, want 143:\n%s", code, pr.Output())
	}
	msg := pr.Output()
	if !strings.Contains(msg, "weave: interrupted during start-up, before the first row; run again to start over") {
		t.Errorf("the message does not say the start-up was interrupted:\n%s", msg)
	}
	if got, _ := os.ReadFile(out); string(got) != earlier {
		t.Errorf("the earlier output was replaced: %q", got)
	}
}
