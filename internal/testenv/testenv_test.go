package testenv_test

import (
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/dataweaver/dataweaver/internal/testenv"
)

// TestMissing runs TestMissingTool in a child test binary with and without
// CI=true: the same call fails the test under CI and skips it elsewhere,
// with the install hint either way.
func TestMissing(t *testing.T) {
	for _, tc := range []struct {
		name, ci string
		fail     bool
		verdict  string
	}{
		{"ci", "true", true, "--- FAIL: TestMissingTool"},
		{"newcomer", "", false, "--- SKIP: TestMissingTool"},
		{"ci-other-value", "1", false, "--- SKIP: TestMissingTool"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cmd := exec.Command(os.Args[0], "-test.run", "^TestMissingTool$", "-test.v")
			cmd.Env = append(os.Environ(), "DW_TESTENV_CHILD=1", "CI="+tc.ci)
			out, err := cmd.CombinedOutput()
			if failed := err != nil; failed != tc.fail {
				t.Fatalf("child failed = %v, want %v:\n%s", failed, tc.fail, out)
			}
			for _, want := range []string{tc.verdict, "frob is missing: apt-get install frob"} {
				if !strings.Contains(string(out), want) {
					t.Errorf("child output lacks %q:\n%s", want, out)
				}
			}
		})
	}
}

// TestMissingTool is TestMissing's child: it does nothing in a normal run.
func TestMissingTool(t *testing.T) {
	if os.Getenv("DW_TESTENV_CHILD") != "1" {
		return
	}
	testenv.Missing(t, "%s is missing: apt-get install %s", "frob", "frob")
	t.Log("not reached")
}
