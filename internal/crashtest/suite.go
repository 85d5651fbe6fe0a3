package crashtest

import (
	"os"
	"testing"
)

// SuiteEnv names the variable that turns on the long crash suite.
const SuiteEnv = "DW_CRASH_SUITE"

// Suite skips t unless DW_CRASH_SUITE=1: the test belongs to `make
// test-crash`, the kill -9 series and long outages that CI runs beside
// `make test` (which they would push past its 5-minute budget). The skip
// names the target, so make test's list of skips says where it runs.
func Suite(t testing.TB) {
	t.Helper()
	if os.Getenv(SuiteEnv) != "1" {
		t.Skipf("part of the crash suite: run it with make test-crash (%s=1), as CI does", SuiteEnv)
	}
}
