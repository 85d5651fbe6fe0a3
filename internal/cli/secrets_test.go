package cli_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	_ "github.com/dataweaver/dataweaver/connectors/all"
	"github.com/dataweaver/dataweaver/engine"
	"github.com/dataweaver/dataweaver/internal/cli"
)

// TestSecretsNeverPrinted: a server that quotes the bearer token back in
// its refusal (as some do) gets it into the sink's error, and the error
// reaches stderr; weave prints it with the token redacted, in text and
// JSON logs, because the http sink's auth_token is a secret field.
func TestSecretsNeverPrinted(t *testing.T) {
	const token = "hunter2-secret-token"
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "refused: "+r.Header.Get("Authorization")+" is revoked", http.StatusForbidden)
	}))
	t.Cleanup(srv.Close)
	file := writeFile(t, "p.yaml", fmt.Sprintf(`source:
  generate: {rows: 3, preset: orders}
sinks:
  - http: {url: %q, auth_token: "${TOK}"}
`, srv.URL))
	lookup := func(k string) (string, bool) {
		if k == "TOK" {
			return token, true
		}
		return "", false
	}
	for _, format := range []string{"text", "json"} {
		t.Run(format, func(t *testing.T) {
			r := run(t, cli.Options{Env: engine.DefaultEnvironment(), Lookup: lookup},
				"--log-format", format, "--log-level", "debug", "run", "--state", t.TempDir(), file)
			if r.code == 0 {
				t.Fatalf("run against a refusing server exited 0:\n%s", r.stderr)
			}
			out := r.stdout + r.stderr
			if strings.Contains(out, token) {
				t.Errorf("the token was printed:\n%s", out)
			}
			if !strings.Contains(out, "refused: Bearer [redacted] is revoked") {
				t.Errorf("the server's refusal is missing or not redacted:\n%s", out)
			}
		})
	}
}
