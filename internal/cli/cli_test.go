package cli_test

import (
	"bytes"
	"encoding/json"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/dataweaver/dataweaver/internal/cli"
)

const goodPipeline = `name: counting
source:
  counter: {batches: 3}
stages:
  - pass: {}
sinks:
  - collect: {}
`

func TestUsageErrors(t *testing.T) {
	path := writeFile(t, "p.yaml", goodPipeline)
	tests := []struct {
		name string
		args []string
		want string // in stderr
	}{
		{"no command", nil, "weave: no command given"},
		{"unknown command", []string{"frobnicate"}, `weave: unknown command "frobnicate"`},
		{"unknown global flag", []string{"--bogus", "version"}, "weave: flag provided but not defined: -bogus"},
		{"unknown command flag", []string{"run", "--nope", path}, "weave: flag provided but not defined: -nope"},
		{"unknown flag after file", []string{"run", path, "--nope"}, "weave: flag provided but not defined: -nope"},
		{"run without file", []string{"run"}, "weave: run needs a pipeline FILE"},
		{"run with two files", []string{"run", path, path}, "weave: run takes one pipeline FILE, got 2 arguments: \"" + path + "\" \"" + path + "\" (quote --set values"},
		{"validate without file", []string{"validate"}, "weave: validate needs a pipeline FILE"},
		{"bad log level", []string{"--log-level", "loud", "version"}, `weave: --log-level "loud": want debug, info, warn or error`},
		{"bad log format", []string{"--log-format", "xml", "version"}, `weave: --log-format "xml": want text or json`},
		{"describe without name", []string{"connectors", "describe"}, "weave: describe needs exactly one connector NAME"},
		{"describe unknown", []string{"connectors", "describe", "countr"}, `weave: unknown connector "countr" (did you mean "counter"?)`},
		{"describe wrong kind", []string{"connectors", "describe", "--kind", "stage", "collect"}, "weave: collect is a sink, not a stage"},
		{"describe bad kind", []string{"connectors", "describe", "--kind", "thing", "collect"}, `weave: --kind "thing": want source, stage or sink`},
		{"connectors unknown subcommand", []string{"connectors", "explain"}, `weave: unknown connectors subcommand "explain"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := run(t, cli.Options{}, tt.args...)
			if r.code != 2 {
				t.Errorf("exit code %d, want 2; stderr:\n%s", r.code, r.stderr)
			}
			if !strings.Contains(r.stderr, tt.want) {
				t.Errorf("stderr does not contain %q:\n%s", tt.want, r.stderr)
			}
			if !strings.Contains(r.stderr, "weave: run 'weave --help' for usage") {
				t.Errorf("no usage hint:\n%s", r.stderr)
			}
		})
	}
}

func TestConfigErrors(t *testing.T) {
	path := writeFile(t, "bad.yaml", `source:
  counter: {batches: many}
stages:
  - pas: {}
sinks:
  - collect: {fail: maybe}
`)
	for _, cmd := range []string{"run", "validate"} {
		t.Run(cmd, func(t *testing.T) {
			r := run(t, cli.Options{}, cmd, path)
			if r.code != 2 {
				t.Errorf("exit code %d, want 2", r.code)
			}
			want := "weave: " + path + `:2:22: source.counter.batches: expected an integer, got "many"
weave: ` + path + `:4:5: stages[0].pas: unknown stage or step key "pas" (did you mean "pass"? known stages: pass)
weave: ` + path + `:6:21: sinks[0].collect.fail: expected true or false, got "maybe"
`
			if r.stderr != want {
				t.Errorf("stderr:\n%s\nwant:\n%s", r.stderr, want)
			}
		})
	}
	r := run(t, cli.Options{}, "run", path+".missing")
	if r.code != 2 || !strings.Contains(r.stderr, "no such file or directory") {
		t.Errorf("missing file: exit %d, %s", r.code, r.stderr)
	}
}

// TestFileTooLarge checks how an oversized pipeline file is reported: a
// configuration error (exit 2) on one line naming the file, its size, the
// limit and what to do instead, before anything is parsed or run.
func TestFileTooLarge(t *testing.T) {
	text := "source: {counter: {}}\nsinks: [collect]\n#" + strings.Repeat("x", 5<<20)
	path := writeFile(t, "big.yaml", text)
	for _, cmd := range []string{"run", "validate"} {
		t.Run(cmd, func(t *testing.T) {
			r := run(t, cli.Options{}, cmd, path)
			want := "weave: " + path + ": pipeline file is 5.0 MiB (" + strconv.Itoa(len(text)) + " bytes), over the 4MiB limit for pipeline files: " +
				"put inline data (memory rows, long lists) in a data file and read it with a file source\n"
			if r.code != 2 || r.stderr != want {
				t.Errorf("exit code %d, want 2; stderr:\n%s\nwant:\n%s", r.code, r.stderr, want)
			}
		})
	}
}

func TestRun(t *testing.T) {
	path := writeFile(t, "p.yaml", goodPipeline)
	r := run(t, cli.Options{}, "run", path)
	if r.code != 0 {
		t.Fatalf("exit code %d; stderr:\n%s", r.code, r.stderr)
	}
	for _, want := range []string{"source.counter", "stages[0].pass", "sinks[0].collect", "wall time"} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("summary lacks %q:\n%s", want, r.stderr)
		}
	}
	if r.stdout != "" {
		t.Errorf("run printed to stdout: %q", r.stdout)
	}
}

// TestRunSetAfterFile checks that flags after FILE are read as flags.
func TestRunSetAfterFile(t *testing.T) {
	path := writeFile(t, "p.yaml", goodPipeline)
	r := run(t, cli.Options{}, "run", path, "--set", "source.counter.batches=5", "--set", "sinks[0].collect.fail=true")
	if r.code != 1 || !strings.Contains(r.stderr, "disk on fire") {
		t.Errorf("exit code %d (want 1, the --set made the sink fail); stderr:\n%s", r.code, r.stderr)
	}
	r = run(t, cli.Options{}, "validate", path, "--set", "stages=[{pass: {}}, {pass: {}, name: again}]")
	if r.code != 0 || !strings.Contains(r.stdout, "again") {
		t.Errorf("a --set value with commas: exit code %d; stderr:\n%s", r.code, r.stderr)
	}
	r = run(t, cli.Options{}, "run", path, "--set=source.counter.batches=x")
	if r.code != 2 || !strings.Contains(r.stderr, `source.counter.batches: expected an integer, got "x"`) {
		t.Errorf("exit code %d; stderr:\n%s", r.code, r.stderr)
	}
	r = run(t, cli.Options{}, "run", path, "--set", "sinks[4].collect=")
	if r.code != 2 || !strings.Contains(r.stderr, "weave: --set sinks[4].collect=: index 4 is out of range: sinks has 1 item(s)") {
		t.Errorf("exit code %d; stderr:\n%s", r.code, r.stderr)
	}
}

func TestRunEnv(t *testing.T) {
	path := writeFile(t, "p.yaml", "source: {counter: {batches: \"${N}\"}}\nsinks: [collect]\n")
	lookup := func(k string) (string, bool) { return "2", k == "N" }
	if r := run(t, cli.Options{Lookup: lookup}, "run", path); r.code != 0 {
		t.Errorf("exit code %d; stderr:\n%s", r.code, r.stderr)
	}
	if r := run(t, cli.Options{Lookup: func(string) (string, bool) { return "", false }}, "run", path); r.code != 2 || !strings.Contains(r.stderr, "environment variable N is not set") {
		t.Errorf("exit code %d; stderr:\n%s", r.code, r.stderr)
	}
}

func TestRunFailure(t *testing.T) {
	path := writeFile(t, "p.yaml", "source: {counter: {}}\nsinks: [{collect: {fail: true}}]\n")
	r := run(t, cli.Options{}, "run", path)
	if r.code != 1 {
		t.Errorf("exit code %d, want 1", r.code)
	}
	if !strings.Contains(r.stderr, "weave: ") || !strings.Contains(r.stderr, "disk on fire") {
		t.Errorf("stderr:\n%s", r.stderr)
	}
	if !strings.Contains(r.stderr, "wall time") {
		t.Errorf("no summary after a failed run:\n%s", r.stderr)
	}
}

func TestValidate(t *testing.T) {
	path := writeFile(t, "p.yaml", goodPipeline)
	r := run(t, cli.Options{}, "validate", path)
	if r.code != 0 {
		t.Fatalf("exit code %d; stderr:\n%s", r.code, r.stderr)
	}
	want := `source.counter
  x  int64
stages[0].pass
  x  int64
pipeline "counting" is valid: 3 step(s) checked
`
	if r.stdout != want {
		t.Errorf("stdout:\n%s\nwant:\n%s", r.stdout, want)
	}

	bad := writeFile(t, "bad.yaml", "source: {counter: {}}\nstages: [{pass: {reject_schema: true}}]\nsinks: [collect]\n")
	r = run(t, cli.Options{}, "validate", bad)
	if r.code != 2 || !strings.Contains(r.stderr, "stages[0].pass") || !strings.Contains(r.stderr, "pass does not like column x") {
		t.Errorf("schema error: exit %d; stderr:\n%s", r.code, r.stderr)
	}
}

// TestSignals drives the two-step stop through the injected signal channel.
func TestSignals(t *testing.T) {
	t.Run("drain", func(t *testing.T) {
		env, pr := testEnvProbe(t)
		path := writeFile(t, "p.yaml", "source: {counter: {batches: 0}}\nsinks: [collect]\n")
		sigs := make(chan os.Signal, 2)
		done := make(chan result)
		go func() { done <- run(t, cli.Options{Env: env, Signals: sigs}, "run", path) }()
		<-pr.wrote
		sigs <- syscall.SIGINT
		r := waitResult(t, done)
		// An interrupted run did not read everything: it exits as the
		// signal would (130), saying so, not 0 as if complete.
		if r.code != 130 {
			t.Errorf("exit code %d after a drain, want 130; stderr:\n%s", r.code, r.stderr)
		}
		if !strings.Contains(r.stderr, "weave: interrupted after ") || strings.Contains(r.stderr, "aborted") {
			t.Errorf("stderr does not say the run was interrupted:\n%s", r.stderr)
		}
		if !strings.Contains(r.stderr, "draining; press Ctrl-C again to abort") || !strings.Contains(r.stderr, "wall time") {
			t.Errorf("stderr:\n%s", r.stderr)
		}
	})
	// The second signal sets the exit code, 128 plus its number, as a
	// shell reports a process that signal killed.
	for _, tc := range []struct {
		name          string
		first, second syscall.Signal
		code          int
	}{
		{"abort by SIGINT", syscall.SIGTERM, syscall.SIGINT, 130},
		{"abort by SIGTERM", syscall.SIGINT, syscall.SIGTERM, 143},
	} {
		t.Run(tc.name, func(t *testing.T) { testAbort(t, tc.first, tc.second, tc.code) })
	}
}

// testAbort stops a run whose sink blocks with two signals.
func testAbort(t *testing.T, first, second syscall.Signal, code int) {
	env, pr := testEnvProbe(t)
	// The sink blocks, so the drain cannot finish and only the second
	// signal ends the run.
	path := writeFile(t, "p.yaml", "source: {counter: {batches: 0}}\nsinks: [{collect: {block: true}}]\n")
	sigs := make(chan os.Signal, 2)
	done := make(chan result)
	go func() {
		done <- run(t, cli.Options{Env: env, Signals: sigs}, "--log-format", "json", "run", path)
	}()
	<-pr.wrote
	sigs <- first
	sigs <- second
	r := waitResult(t, done)
	if r.code != code {
		t.Errorf("exit code %d after an abort by %v, want %d; stderr:\n%s", r.code, second, code, r.stderr)
	}
	// --log-format json: every line is a JSON object, the final error
	// (level ERROR, with the exit code) included.
	if !strings.Contains(r.stderr, `"level":"ERROR","msg":"aborted: `) || !strings.Contains(r.stderr, `"exit_code":`+strconv.Itoa(code)+`}`) {
		t.Errorf("no JSON error record for the abort:\n%s", r.stderr)
	}
	logs := 0
	for _, line := range strings.Split(r.stderr, "\n") {
		if strings.HasPrefix(line, "{") {
			var rec map[string]any
			if err := json.Unmarshal([]byte(line), &rec); err != nil {
				t.Errorf("log line is not JSON: %q", line)
			}
			logs++
		} else if line != "" {
			t.Errorf("a line of stderr is not JSON: %q", line)
		}
	}
	if logs < 2 {
		t.Errorf("want the drain and abort warnings as JSON, got %d lines:\n%s", logs, r.stderr)
	}
}

func waitResult(t *testing.T, done <-chan result) result {
	t.Helper()
	select {
	case r := <-done:
		return r
	case <-time.After(10 * time.Second):
		t.Fatal("weave did not stop")
	}
	return result{}
}

func TestConnectors(t *testing.T) {
	r := run(t, cli.Options{}, "connectors")
	want := `Sources:
  counter  Counts from 0.

Stages:
  pass  Passes batches through.

Sinks:
  collect  Counts rows.
  counter  Counts batches.

Run 'weave connectors describe NAME' for a connector's fields.
`
	if r.code != 0 || r.stdout != want {
		t.Errorf("exit %d, stdout:\n%s\nwant:\n%s", r.code, r.stdout, want)
	}
}

func TestDescribe(t *testing.T) {
	env := testEnv(t)
	var want bytes.Buffer
	env.Lookup("source", "counter").Spec.WriteText(&want, "source")
	r := run(t, cli.Options{Env: env}, "connectors", "describe", "--kind", "source", "counter")
	if r.code != 0 || r.stdout != want.String() {
		t.Errorf("exit %d, stdout:\n%s\nwant:\n%s", r.code, r.stdout, want.String())
	}
	// The flag may follow the name too.
	if r2 := run(t, cli.Options{Env: env}, "connectors", "describe", "counter", "--kind", "source"); r2.stdout != r.stdout {
		t.Errorf("--kind after NAME: %q", r2.stdout)
	}
	// A name registered as a source and a sink shows both.
	want.WriteString("\n")
	env.Lookup("sink", "counter").Spec.WriteText(&want, "sink")
	r = run(t, cli.Options{Env: env}, "connectors", "describe", "counter")
	if r.code != 0 || r.stdout != want.String() {
		t.Errorf("exit %d, stdout:\n%s\nwant:\n%s", r.code, r.stdout, want.String())
	}
	if !strings.Contains(r.stdout, "batches  int, default 3") {
		t.Errorf("fields missing:\n%s", r.stdout)
	}
}

func TestDocs(t *testing.T) {
	r := run(t, cli.Options{}, "connectors", "docs")
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	for _, want := range []string{"# Connector reference", "## Sources\n\n### counter\n", "## Stages\n\n### pass\n", "## Sinks\n\n### collect\n", "| `batches` | int | `3` |"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("docs lack %q:\n%s", want, r.stdout)
		}
	}
}

func TestVersion(t *testing.T) {
	r := run(t, cli.Options{Version: "v1.2.3"}, "version")
	if r.code != 0 || !strings.HasPrefix(r.stdout, "weave v1.2.3 ") {
		t.Errorf("exit %d, stdout %q", r.code, r.stdout)
	}
	r = run(t, cli.Options{}, "version")
	if r.code != 0 || !strings.HasPrefix(r.stdout, "weave ") {
		t.Errorf("exit %d, stdout %q", r.code, r.stdout)
	}
}

func TestHelp(t *testing.T) {
	r := run(t, cli.Options{}, "--help")
	if r.code != 0 || !strings.Contains(r.stdout, "validate") || !strings.Contains(r.stdout, "--log-level") {
		t.Errorf("exit %d, stdout:\n%s", r.code, r.stdout)
	}
	r = run(t, cli.Options{}, "run", "--help")
	if r.code != 0 || !strings.Contains(r.stdout, "--set") {
		t.Errorf("exit %d, stdout:\n%s", r.code, r.stdout)
	}
}

// TestValidateCoordinated: weave validate checks a coordinated file as a
// worker would run it (coordinator.Check), before any worker connects:
// a source that cannot be split is refused, naming it.
func TestValidateCoordinated(t *testing.T) {
	path := writeFile(t, "p.yaml", "source: {counter: {}}\nsinks: [{collect: {}}]\ncoordinator: {urls: [\"nats://127.0.0.1:1\"]}\n")
	r := run(t, cli.Options{}, "validate", path)
	if r.code != 2 || !strings.Contains(r.stderr, "source source.counter cannot be read in splits") {
		t.Errorf("weave validate: exit %d, stderr:\n%s\nwant exit 2 naming the source", r.code, r.stderr)
	}
}
