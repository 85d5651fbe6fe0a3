package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/dataweaver/dataweaver/internal/testenv"
)

// repoRoot returns the checkout's root, or skips (fails under CI, where a
// full clone is expected) when there is no git or no history to check.
func repoRoot(t *testing.T) string {
	t.Helper()
	miss := func(why string) {
		t.Helper()
		testenv.Missing(t, "cannot check cited commits: %s", why)
	}
	if _, err := exec.LookPath("git"); err != nil {
		miss("git is not installed (apt-get install git)")
	}
	root, err := git(".", "rev-parse", "--show-toplevel")
	if err != nil {
		miss("not in a git checkout: " + err.Error())
	}
	if shallow, _ := git(root, "rev-parse", "--is-shallow-repository"); shallow == "true" {
		miss("shallow clone, cited commits may be missing (git fetch --unshallow)")
	}
	return root
}

// TestCitedCommitsReachable: every commit a benchmark note cites for its
// figures is in main's history, so each figure can be traced to the code it
// measured (issue 9: five cited commits had been lost in rebases).
func TestCitedCommitsReachable(t *testing.T) {
	root := repoRoot(t)
	files, err := notes(root)
	if err != nil {
		t.Fatal(err)
	}
	var all []citation
	for _, f := range files {
		cs, err := citations(f)
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, cs...)
	}
	if len(all) == 0 {
		t.Fatalf("no commit cited in %d benchmark notes: the figures name no measured code", len(files))
	}
	for _, msg := range unreachable(root, all) {
		t.Error(msg)
	}
}

func TestCitations(t *testing.T) {
	for _, tc := range []struct {
		name, file, text string
		want             []string
	}{
		{"short hash", "BENCHMARKS.md", "as of commit `b4bd1c7`, with", []string{"b4bd1c7"}},
		{"full hash", "BENCHMARKS.md", "at 6f8a9a38d5d3d88eb560581480ad77155bd607bb.", []string{"6f8a9a38d5d3d88eb560581480ad77155bd607bb"}},
		{"row counts are not hashes", "BENCHMARKS.md", "-rows 1000000,10000000 and 5000000", nil},
		{"too short", "BENCHMARKS.md", "cafe12 and 0xdeadbeef1", nil},
		{"64 hex digits is a digest, not a commit", "BENCHMARKS.md", strings.Repeat("ab", 32), nil},
		{"raw output: header only", "2026-01-01-x.txt", "commit: abc1234 (abc1234 subject)\nptr 0c0ffee1 deadbee5\n", []string{"abc1234"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), tc.file)
			if err := os.WriteFile(path, []byte(tc.text), 0o644); err != nil {
				t.Fatal(err)
			}
			cs, err := citations(path)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, c := range cs {
				got = append(got, c.hash)
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("citations(%q) = %q, want %q", tc.text, got, tc.want)
			}
		})
	}
}

// TestUnreachable: a made-up hash is reported and HEAD is not, so the
// repository check above can fail.
func TestUnreachable(t *testing.T) {
	root := repoRoot(t)
	head, err := git(root, "rev-parse", "--short", "HEAD")
	if err != nil {
		t.Fatal(err)
	}
	note := filepath.Join(root, "BENCHMARKS.md")
	const made = "0123456789abcdef0123456789abcdef01234567"
	got := unreachable(root, []citation{{note, 3, head}, {note, 7, made}})
	want := []string{"BENCHMARKS.md:7: " + made + " is not a commit in this repository"}
	if !slices.Equal(got, want) {
		t.Errorf("unreachable = %q, want %q", got, want)
	}
}
