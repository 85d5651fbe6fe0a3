package cli_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dataweaver/dataweaver/internal/cli"
)

const testToken = "0123456789abcdef0123456789abcdef"

// TestServeControl: with --http-control, POST /pipelines/NAME/stop and
// /start need the bearer token; stop drains one pipeline and holds it
// (a changed file does not start it), the other runs on, and start runs
// it again. Reading stays open without a token.
func TestServeControl(t *testing.T) {
	dir := t.TempDir()
	for _, name := range []string{"a", "b"} {
		text := "name: " + name + "\nsource: {counter: {batches: 0}}\nsinks: [{collect: {}}]\n"
		if err := os.WriteFile(filepath.Join(dir, name+".yaml"), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	lookup := func(k string) (string, bool) { return testToken, k == "WEAVE_HTTP_TOKEN" }
	r := startServe(t, cli.Options{Env: testEnv(t), Lookup: lookup},
		"serve", "--http", "127.0.0.1:0", "--http-control", "--watch-every", "10ms", dir)
	waitFor(t, r.addr, "both to run", func(m map[string]served) bool {
		return m["a"].State == "running" && m["b"].State == "running"
	})
	if code, body, _ := getPath(t, r.addr, "/pipelines/a"); code != http.StatusOK || !strings.Contains(body, `"name": "a"`) {
		t.Errorf("GET /pipelines/a = %d %s", code, body)
	}
	if code, _, _ := getPath(t, r.addr, "/pipelines/nope"); code != http.StatusNotFound {
		t.Errorf("GET /pipelines/nope = %d, want 404", code)
	}
	for _, tok := range []string{"", "wrong", strings.Repeat("x", len(testToken)), testToken + "x"} {
		code, _, h := post(t, r.addr, "/pipelines/a/stop", tok)
		if code != http.StatusUnauthorized || h.Get("WWW-Authenticate") == "" {
			t.Errorf("stop with token %q = %d %v, want 401 with WWW-Authenticate", tok, code, h)
		}
	}
	if code, _, _ := post(t, r.addr, "/pipelines/nope/stop", testToken); code != http.StatusNotFound {
		t.Errorf("stop of an unknown pipeline = %d, want 404", code)
	}
	if code, body, _ := post(t, r.addr, "/pipelines/a/start", testToken); code != http.StatusConflict {
		t.Errorf("start of a running pipeline = %d %s, want 409", code, body)
	}
	if code, body, _ := post(t, r.addr, "/pipelines/a/stop", testToken); code != http.StatusAccepted || !strings.Contains(body, `"held": true`) {
		t.Fatalf("stop = %d %s, want 202 and held", code, body)
	}
	waitFor(t, r.addr, "a to stop", func(m map[string]served) bool { return m["a"].State == "stopped" })
	if code, _, _ := post(t, r.addr, "/pipelines/a/stop", testToken); code != http.StatusOK {
		t.Errorf("stopping a stopped pipeline = %d, want 200", code)
	}
	// A changed file does not start a held pipeline; a new file is
	// started by the same watch, so once new runs the change was seen.
	if err := os.WriteFile(filepath.Join(dir, "a.yaml"), []byte("name: a\nsource: {counter: {batches: 0}}\nsinks: [{collect: {}}]\n# edited\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "c.yaml"), []byte("name: c\nsource: {counter: {batches: 0}}\nsinks: [{collect: {}}]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	held := waitFor(t, r.addr, "c to run", func(m map[string]served) bool { return m["c"].State == "running" })
	if a, b := held["a"], held["b"]; a.State != "stopped" || !a.Held || b.State != "running" || b.Restarts != 0 {
		t.Errorf("after the edit: a %+v (want stopped, held), b %+v (want running)", a, b)
	}
	if code, body, _ := post(t, r.addr, "/pipelines/a/start", testToken); code != http.StatusAccepted {
		t.Fatalf("start = %d %s, want 202", code, body)
	}
	waitFor(t, r.addr, "a to run again", func(m map[string]served) bool { return m["a"].State == "running" && !m["a"].Held })
	log := r.stderr.String()
	if !strings.Contains(log, `msg="run summary" pipeline=a exit="drained: stopped over HTTP"`) {
		t.Errorf("no run summary for the stop")
	}
	if n := strings.Count(log, `msg="pipeline started" file=`+filepath.Join(dir, "b.yaml")); n != 1 {
		t.Errorf("b started %d times, want once", n)
	}
	r.stop(t)
	if strings.Contains(r.stderr.String(), testToken) {
		t.Errorf("the token is in the log")
	}
}

// TestServeControlOff: without --http-control the control endpoints
// answer 403 and stop nothing, whatever the token.
func TestServeControlOff(t *testing.T) {
	path := writeFile(t, "a.yaml", "name: a\nsource: {counter: {batches: 0}}\nsinks: [{collect: {}}]\n")
	lookup := func(k string) (string, bool) { return testToken, k == "WEAVE_HTTP_TOKEN" }
	r := startServe(t, cli.Options{Env: testEnv(t), Lookup: lookup}, "serve", "--http", "127.0.0.1:0", path)
	waitFor(t, r.addr, "a to run", func(m map[string]served) bool { return m["a"].State == "running" })
	if code, body, _ := post(t, r.addr, "/pipelines/a/stop", testToken); code != http.StatusForbidden || !strings.Contains(body, "--http-control") {
		t.Errorf("stop without --http-control = %d %s, want 403 naming the flag", code, body)
	}
	if s := listPipelines(t, r.addr)["a"]; s.State != "running" {
		t.Errorf("a is %s after a refused stop", s.State)
	}
	r.stop(t)
}

// TestServeControlFlags: --http-control refuses to start without a token
// good enough, and the token never shows in the message.
func TestServeControlFlags(t *testing.T) {
	path := writeFile(t, "a.yaml", "name: a\nsource: {counter: {batches: 0}}\nsinks: [{collect: {}}]\n")
	short := writeFile(t, "short", "s3cret\n")
	good := writeFile(t, "token", testToken+"\n")
	none := func(string) (string, bool) { return "", false }
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"no token", []string{"--http", "127.0.0.1:0", "--http-control"}, "needs a token: set WEAVE_HTTP_TOKEN or give --http-token-file"},
		{"short token", []string{"--http", "127.0.0.1:0", "--http-control", "--http-token-file", short}, "has 6 characters; want at least 16"},
		{"no http", []string{"--http-control", "--http-token-file", good}, "--http-control needs --http ADDR"},
		{"token without control", []string{"--http", "127.0.0.1:0", "--http-token-file", good}, "--http-token-file is for --http-control"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := run(t, cli.Options{Lookup: none}, append(append([]string{"serve"}, tc.args...), path)...)
			if res.code != 2 || !strings.Contains(res.stderr, tc.want) || strings.Contains(res.stderr, "s3cret") {
				t.Errorf("exit %d, want 2 and %q:\n%s", res.code, tc.want, res.stderr)
			}
		})
	}
}

func getPath(t *testing.T, addr, path string) (int, string, http.Header) {
	t.Helper()
	return request(t, http.MethodGet, addr, path, "")
}

// TestServeSecretsNotServed: /pipelines quotes a pipeline's last error,
// and a server may quote the sink's bearer token in its refusal; the
// token is redacted there as it is in the log.
func TestServeSecretsNotServed(t *testing.T) {
	const token = "hunter2-secret-token"
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "refused: "+r.Header.Get("Authorization")+" is revoked", http.StatusForbidden)
	}))
	t.Cleanup(srv.Close)
	dir := t.TempDir()
	text := fmt.Sprintf("name: leaky\nsource: {generate: {rows: 3, preset: orders}}\nsinks: [{http: {url: %q, auth_token: \"${TOK}\"}}]\n", srv.URL)
	if err := os.WriteFile(filepath.Join(dir, "leaky.yaml"), []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	lookup := func(k string) (string, bool) { return token, k == "TOK" }
	r := startServe(t, cli.Options{Lookup: lookup}, "serve", "--http", "127.0.0.1:0", "--backoff", "10ms", "--backoff-max", "20ms", dir)
	waitFor(t, r.addr, "the sink's refusal", func(m map[string]served) bool { return strings.Contains(m["leaky"].LastError, "refused") })
	for _, path := range []string{"/pipelines", "/pipelines/leaky"} {
		_, body, _ := getPath(t, r.addr, path)
		if strings.Contains(body, token) || !strings.Contains(body, "Bearer [redacted] is revoked") {
			t.Errorf("GET %s: the token is not redacted:\n%s", path, body)
		}
	}
	r.stop(t)
	if strings.Contains(r.stderr.String(), token) {
		t.Errorf("the token is in the log")
	}
}
