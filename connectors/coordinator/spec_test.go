package coordinator_test

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/dataweaver/dataweaver/connectors/coordinator"
	"github.com/dataweaver/dataweaver/engine/config"
)

// TestSection: the coordinator section is parsed from the spec (defaults,
// errors with their line, secrets redacted), and a file without it has
// none.
func TestSection(t *testing.T) {
	parse := func(text string) (*config.File, error) {
		return config.Parse([]byte(text), filepath.Join(t.TempDir(), "p.yaml"), config.Options{})
	}
	base := "source:\n  file: in/*.csv\nsinks:\n  - file: {path: out/, format: csv}\n"
	f, err := parse(base)
	if err != nil || f.Coordinator != nil {
		t.Fatalf("without the section: %v, coordinator %v; want none", err, f.Coordinator)
	}
	f, err = parse(base + "coordinator:\n  urls: [\"nats://a:4222\"]\n  token: s3cret\n")
	if err != nil {
		t.Fatal(err)
	}
	if got := f.Coordinator.String("stream"); got != "WEAVE_SPLITS" {
		t.Errorf("stream = %q, want the default", got)
	}
	if !slices.Contains(f.Secrets(), "s3cret") {
		t.Errorf("Secrets() = %q, want the token among them", f.Secrets())
	}
	_, err = parse(base + "coordinator:\n  ack_wait: 10ms\n  strem: x\n")
	for _, want := range []string{"p.yaml:6:", "ack_wait", "at least 1s", "strem"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("err = %v, want it to name %q", err, want)
		}
	}
	for _, ex := range coordinator.Spec().Examples() {
		if _, err := parse(ex.YAML); err != nil {
			t.Errorf("example %q: %v", ex.Title, err)
		}
	}
}

// TestSectionAuth: the section authenticates as a nats step does (the
// shared natsauth fields and checks): one way at most, none of them an
// empty ${VAR} that would connect without credentials.
func TestSectionAuth(t *testing.T) {
	base := "source:\n  file: in/*.csv\nsinks:\n  - file: {path: out/, format: csv}\ncoordinator:\n"
	for _, tc := range []struct{ section, want string }{
		{"  token: s3cret\n", ""},
		{"  nkey_file: /etc/weave/worker.nk\n", ""},
		{"  token: s3cret\n  credentials_file: /x.creds\n", "give one way to authenticate"},
		{"  token: \"\"\n", "is empty (an unset variable?)"},
		{"  user: alice\n", "give user and password together"},
	} {
		f, err := config.Parse([]byte(base+tc.section), filepath.Join(t.TempDir(), "p.yaml"), config.Options{})
		if err == nil {
			_, err = coordinator.FromSpec(f.Coordinator)
		}
		if tc.want == "" && err != nil || tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)) {
			t.Errorf("%q: err = %v, want %q", tc.section, err, tc.want)
		}
		if err != nil && strings.Contains(err.Error(), "s3cret") {
			t.Errorf("%q: the error shows the token: %v", tc.section, err)
		}
	}
}
