package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dataweaver/dataweaver/internal/testenv"
)

// scratchRepo makes a repository with one commit on main and one on a side
// branch, and returns its path and the two commits.
func scratchRepo(t *testing.T) (dir, onMain, offMain string) {
	t.Helper()
	if _, err := exec.LookPath("git"); err != nil {
		testenv.Missing(t, "git is not installed (apt-get install git)")
	}
	dir = t.TempDir()
	run := func(args ...string) string {
		t.Helper()
		out, err := git(dir, args...)
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	run("init", "-q", "-b", "main")
	run("config", "user.email", "bench@example.com")
	run("config", "user.name", "bench")
	write := func(name string) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(dir, name), []byte(name), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("a")
	run("add", "a")
	run("commit", "-q", "-m", "a")
	onMain = run("rev-parse", "HEAD")
	run("checkout", "-q", "-b", "side")
	write("b")
	run("add", "b")
	run("commit", "-q", "-m", "b")
	offMain = run("rev-parse", "HEAD")
	run("checkout", "-q", "main")
	return dir, onMain, offMain
}

func TestReachable(t *testing.T) {
	dir, onMain, offMain := scratchRepo(t)
	for _, tc := range []struct {
		name, commit, want string
	}{
		{"on main, abbreviated", onMain[:7], onMain},
		{"only on a side branch", offMain, ""},
		{"not a commit", "0123456789abcdef0123456789abcdef01234567", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := reachable(dir, tc.commit, "main")
			if tc.want == "" {
				if err == nil {
					t.Fatalf("reachable(%s) = %s, want an error", tc.commit, got)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("reachable(%s) = %q, %v; want %q", tc.commit, got, err, tc.want)
			}
		})
	}
}

// TestWorktree: a fresh worktree is created at the commit; an existing one
// is reused only while it is clean and at that commit.
func TestWorktree(t *testing.T) {
	dir, onMain, offMain := scratchRepo(t)
	wt := filepath.Join(t.TempDir(), "wt")
	t.Cleanup(func() { _, _ = git(dir, "worktree", "remove", "--force", wt) })
	created, err := worktree(dir, wt, onMain)
	if err != nil || !created {
		t.Fatalf("worktree = %v, %v; want a new worktree", created, err)
	}
	if created, err := worktree(dir, wt, onMain); err != nil || created {
		t.Fatalf("clean existing worktree: %v, %v; want it reused", created, err)
	}
	if _, err := worktree(dir, wt, offMain); err == nil || !strings.Contains(err.Error(), "is at") {
		t.Fatalf("worktree at another commit: err = %v, want a refusal", err)
	}
	if err := os.WriteFile(filepath.Join(wt, "a"), []byte("edited"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := worktree(dir, wt, onMain); err == nil || !strings.Contains(err.Error(), "has changes") {
		t.Fatalf("dirty worktree: err = %v, want a refusal", err)
	}
}
