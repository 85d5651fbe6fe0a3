// Package testenv is what tests need to know about the machine they run
// on: whether they run under CI, and what to do when a tool is missing.
package testenv

import (
	"os"
	"testing"
)

// CI reports whether the tests run under CI=true, as .ci/run sets it.
func CI() bool { return os.Getenv("CI") == "true" }

// Missing stops tb, which needs something the machine lacks (a compiler,
// a server binary, git), with a message that says how to install it
// (format and args, as fmt.Sprintf). Under CI it fails: .ci/run installs
// every tool, so a missing one there is a broken install step, which a
// skip would hide. Elsewhere it skips, and make test lists the skip with
// its message at the end of the run.
func Missing(tb testing.TB, format string, args ...any) {
	tb.Helper()
	if CI() {
		tb.Fatalf(format, args...)
	}
	tb.Skipf(format, args...)
}
