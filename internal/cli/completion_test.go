package cli_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/dataweaver/dataweaver/internal/cli"
	"github.com/dataweaver/dataweaver/internal/testenv"
)

// asWeave makes this test binary behave as weave (see TestMain), so a
// real shell can run the completion scripts against it.
const asWeave = "WEAVE_CLI_TEST_AS_WEAVE"

// commandNames are weave's commands, which every script must complete.
var commandNames = []string{"run", "validate", "positions", "build", "new", "inspect", "connectors", "version", "completion"}

func TestCompletionScripts(t *testing.T) {
	for _, tc := range []struct {
		shell string
		want  []string // what the script must contain
	}{
		// bash and zsh ask weave for the candidates at each TAB.
		{"bash", []string{"complete -o bashdefault -o default -F _weave_complete weave", "--generate-bash-completion"}},
		{"zsh", []string{"#compdef weave", "compdef _weave weave", "--generate-bash-completion", "_files"}},
		// fish spells every command and flag out.
		{"fish", append([]string{"complete -c weave", "-l limit", "-l sample", "-l progress-every"}, commandNames...)},
	} {
		t.Run(tc.shell, func(t *testing.T) {
			r := run(t, cli.Options{}, "completion", tc.shell)
			if r.code != 0 || r.stderr != "" {
				t.Fatalf("exit %d:\n%s", r.code, r.stderr)
			}
			for _, w := range tc.want {
				if !strings.Contains(r.stdout, w) {
					t.Errorf("the %s script lacks %q", tc.shell, w)
				}
			}
			if tc.shell == "fish" {
				for _, c := range commandNames {
					if !strings.Contains(r.stdout, "-a '"+c+"'") {
						t.Errorf("the fish script does not complete command %s", c)
					}
				}
			}
		})
	}
	if r := run(t, cli.Options{}, "completion", "tcsh"); r.code != 2 || !strings.Contains(r.stderr, "want bash, zsh or fish") {
		t.Errorf("completion tcsh: exit %d, want 2:\n%s", r.code, r.stderr)
	}
}

// TestCompletionCandidates asks weave what the bash and zsh scripts ask:
// the commands at the top, a command's flags after "-", even with the
// pipeline FILE already typed (hoisting flags must leave that alone).
// urfave/cli reads the word being completed from os.Args, so weave runs
// as a process here (this test binary posing as weave).
func TestCompletionCandidates(t *testing.T) {
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		args []string
		want []string
	}{
		{[]string{"--generate-bash-completion"}, commandNames},
		{[]string{"run", "-", "--generate-bash-completion"}, []string{"--limit", "--progress-every", "--from-start", "--set", "--state"}},
		{[]string{"run", "p.yaml", "-", "--generate-bash-completion"}, []string{"--limit"}},
		{[]string{"validate", "-", "--generate-bash-completion"}, []string{"--sample", "--width"}},
	} {
		cmd := exec.Command(self, tc.args...)
		cmd.Env = append(os.Environ(), asWeave+"=1")
		out, err := cmd.Output()
		if err != nil {
			t.Errorf("weave %s: %v", strings.Join(tc.args, " "), err)
		}
		got := strings.Fields(string(out))
		for _, w := range tc.want {
			if !slices.Contains(got, w) {
				t.Errorf("weave %s: candidates %v lack %s", strings.Join(tc.args, " "), got, w)
			}
		}
	}
}

// TestCompletionInBash sources the bash script in a real bash and
// completes "weave ru" and "weave run --li" with this test binary posing
// as weave.
func TestCompletionInBash(t *testing.T) {
	bash, err := exec.LookPath("bash")
	if err != nil {
		testenv.Missing(t, "bash is not installed; to run this test: apt-get install -y bash")
	}
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	bin := t.TempDir()
	if err := os.Symlink(self, filepath.Join(bin, "weave")); err != nil {
		t.Fatal(err)
	}
	script := filepath.Join(bin, "weave.bash")
	r := run(t, cli.Options{}, "completion", "bash")
	if err := os.WriteFile(script, []byte(r.stdout), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		words string // COMP_WORDS; the cursor is on the last
		want  string
	}{
		{"weave ru", "run"},
		{"weave run --li", "--limit"},
		{"weave validate --sa", "--sample"},
		{"weave compl", "completion"},
	} {
		n := len(strings.Fields(tc.words)) - 1
		cmd := exec.Command(bash, "--norc", "--noprofile", "-c",
			`source "$0"; COMP_WORDS=(`+tc.words+`); COMP_CWORD=`+strconv.Itoa(n)+`; _weave_complete; printf '%s\n' "${COMPREPLY[@]}"`, script)
		cmd.Env = append(os.Environ(), "PATH="+bin+string(os.PathListSeparator)+os.Getenv("PATH"), asWeave+"=1")
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("%s: %v\n%s", tc.words, err, out)
		}
		if got := strings.Fields(string(out)); !slices.Equal(got, []string{tc.want}) {
			t.Errorf("completing %q gave %q, want %q", tc.words, got, tc.want)
		}
	}
}
