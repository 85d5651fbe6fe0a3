package spec_test

import (
	"errors"
	"net/url"
	"slices"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/dataweaver/dataweaver/engine/spec"
)

// TestSecrets: Parsed.Secrets returns the values of secret fields at every
// depth (a string, each value of a map, the part SecretIn extracts) and
// nothing else; a check refusing a secret never quotes it.
func TestSecrets(t *testing.T) {
	dsnPassword := func(v string) []string {
		u, err := url.Parse(v)
		if err != nil || u.User == nil {
			return nil
		}
		p, _ := u.User.Password()
		return []string{p}
	}
	s := spec.New("t").Field(
		spec.String("user"),
		spec.String("password").Secret(),
		spec.String("dsn").SecretIn(dsnPassword),
		spec.Map("headers").Secret().Optional(),
		spec.Object("sasl", spec.String("token").Secret().Optional()).Optional(),
		spec.String("key").Secret().Optional().Validate(func(v any) error {
			return errors.New("key " + v.(string) + " is not base64")
		}),
	)
	parse := func(src string) (*spec.Parsed, spec.Errors) {
		var n yaml.Node
		if err := yaml.Unmarshal([]byte(src), &n); err != nil {
			t.Fatal(err)
		}
		return s.Parse(n.Content[0], "f.yaml", "x")
	}
	p, errs := parse(`{user: alice, password: pw-one, dsn: "postgres://alice:pw-two@h/db", headers: {A: pw-three}, sasl: {token: pw-four}}`)
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	got := p.Secrets()
	slices.Sort(got)
	if want := []string{"pw-four", "pw-one", "pw-three", "pw-two"}; !slices.Equal(got, want) {
		t.Errorf("Secrets() = %q, want %q", got, want)
	}
	_, errs = parse(`{user: alice, password: pw-one, dsn: "x", key: "not-base64-secret"}`)
	if len(errs) != 1 || strings.Contains(errs.Error(), "not-base64-secret") || !strings.Contains(errs.Error(), "key [redacted] is not base64") {
		t.Errorf("the check's error = %v, want one error with the key redacted", errs)
	}
}
