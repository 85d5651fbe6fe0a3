package cli

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"strings"

	"github.com/dataweaver/dataweaver/internal/telemetry"
)

// tokenEnv names the environment variable holding the bearer token of
// weave serve's control endpoints (--http-token-file is the other way).
const tokenEnv = "WEAVE_HTTP_TOKEN"

// minTokenLen keeps a guessable token out: 16 bytes is 128 bits when they
// are random, as `openssl rand -hex 16` makes them (32 characters).
const minTokenLen = 16

// controlToken reads the token --http-control requires: from file when
// given (its surrounding white space trimmed, so a trailing newline does
// not matter), else from WEAVE_HTTP_TOKEN. The token never appears in an
// error or a log record.
func (w *weave) controlToken(file string) (string, error) {
	var tok, from string
	if file != "" {
		b, err := os.ReadFile(file)
		if err != nil {
			return "", fmt.Errorf("--http-token-file: %w", err)
		}
		tok, from = strings.TrimSpace(string(b)), "--http-token-file "+file
	} else {
		v, _ := w.opts.Lookup(tokenEnv)
		tok, from = strings.TrimSpace(v), tokenEnv
		if tok == "" {
			return "", fmt.Errorf("--http-control needs a token: set %s or give --http-token-file (make one with: openssl rand -hex 16)", tokenEnv)
		}
	}
	if len(tok) < minTokenLen {
		return "", fmt.Errorf("the token in %s has %d characters; want at least %d (make one with: openssl rand -hex 16)", from, len(tok), minTokenLen)
	}
	return tok, nil
}

// control serves /pipelines: reading is open to anyone who reaches the
// port, as /metrics is; stopping and starting a pipeline needs
// --http-control and the bearer token.
type control struct {
	sv *supervisor
	// token's hash, nil when --http-control is off. Comparing hashes in
	// constant time hides both the token and its length from timing.
	token []byte
}

func (c *control) routes() []telemetry.Route {
	return []telemetry.Route{
		{Pattern: "GET /pipelines", Handler: http.HandlerFunc(c.list)},
		{Pattern: "GET /pipelines/{name}", Handler: http.HandlerFunc(c.get)},
		{Pattern: "POST /pipelines/{name}/stop", Handler: c.guard(c.stop)},
		{Pattern: "POST /pipelines/{name}/start", Handler: c.guard(c.start)},
	}
}

// guard lets a request through to h only with control on and the token.
func (c *control) guard(h http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if c.token == nil {
			http.Error(w, "control is off: start weave serve with --http-control (and a token) to stop and start pipelines over HTTP", http.StatusForbidden)
			return
		}
		got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		sum := sha256.Sum256([]byte(got))
		if !ok || subtle.ConstantTimeCompare(sum[:], c.token) != 1 {
			w.Header().Set("WWW-Authenticate", `Bearer realm="weave"`)
			http.Error(w, "missing or wrong bearer token", http.StatusUnauthorized)
			c.sv.w.logger.Warn("refused a control request: missing or wrong bearer token",
				"method", r.Method, "path", r.URL.Path, "remote", r.RemoteAddr)
			return
		}
		h(w, r)
	})
}

func (c *control) list(w http.ResponseWriter, _ *http.Request) {
	c.reply(w, http.StatusOK, c.sv.status())
}

func (c *control) get(w http.ResponseWriter, r *http.Request) {
	s, ok := c.sv.statusOf(r.PathValue("name"))
	if !ok {
		http.Error(w, fmt.Sprintf("no pipeline %q", r.PathValue("name")), http.StatusNotFound)
		return
	}
	c.reply(w, http.StatusOK, s)
}

// stop drains the pipeline (its position saved, as on SIGTERM) and keeps
// it stopped, across changes to its file too, until start. It answers 202
// at once: the drain goes on; GET /pipelines/NAME says when it is stopped.
func (c *control) stop(w http.ResponseWriter, r *http.Request) {
	c.act(w, r, "stop", c.sv.stopUnit)
}

// start runs a stopped, finished or failed pipeline again from its file
// (resuming from its position); 409 if it runs already.
func (c *control) start(w http.ResponseWriter, r *http.Request) {
	c.act(w, r, "start", c.sv.startUnit)
}

func (c *control) act(w http.ResponseWriter, r *http.Request, verb string, do func(string) (int, error)) {
	name := r.PathValue("name")
	code, err := do(name)
	if err != nil {
		http.Error(w, err.Error(), code)
		return
	}
	c.sv.w.logger.Info("pipeline "+verb+" requested over HTTP", "pipeline", name, "remote", r.RemoteAddr)
	s, _ := c.sv.statusOf(name)
	c.reply(w, code, s)
}

func (c *control) reply(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		c.sv.w.logger.Warn("answering /pipelines", "err", err)
	}
}
