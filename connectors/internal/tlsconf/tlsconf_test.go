package tlsconf_test

import (
	"crypto/tls"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/dataweaver/dataweaver/connectors/internal/tlsconf"
	"github.com/dataweaver/dataweaver/connectors/internal/tlsconf/tlstest"
	"github.com/dataweaver/dataweaver/engine/spec"
)

func parse(t *testing.T, src string) (*spec.Parsed, spec.Errors) {
	t.Helper()
	var n yaml.Node
	if err := yaml.Unmarshal([]byte(src), &n); err != nil {
		t.Fatal(err)
	}
	return spec.New("c").Field(spec.String("addr").Optional(), tlsconf.Field()).Parse(n.Content[0], "p.yaml", "c")
}

// TestConfig dials a real TLS server that requires a client certificate
// with configurations built from the spec: only the right CA and the
// right client certificate get through.
func TestConfig(t *testing.T) {
	ca, other := tlstest.New(t), tlstest.New(t)
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, r.TLS.PeerCertificates[0].Subject.CommonName)
	}))
	srv.TLS = ca.ServerConfig(ca.Server("server"), true)
	srv.StartTLS()
	t.Cleanup(srv.Close)
	client, stranger := ca.Client("alice"), other.Client("mallory")

	for _, tc := range []struct {
		name, tls, want string
	}{
		{"trusted CA and client certificate", fmt.Sprintf("{ca_file: %q, cert_file: %q, key_file: %q}", ca.File, client.CertFile, client.KeyFile), "alice"},
		{"no client certificate", fmt.Sprintf("{ca_file: %q}", ca.File), "error"},
		{"client certificate of another CA", fmt.Sprintf("{ca_file: %q, cert_file: %q, key_file: %q}", ca.File, stranger.CertFile, stranger.KeyFile), "error"},
		{"server not trusted", fmt.Sprintf("{cert_file: %q, key_file: %q}", client.CertFile, client.KeyFile), "error"},
		{"wrong server name", fmt.Sprintf("{ca_file: %q, cert_file: %q, key_file: %q, server_name: db.example}", ca.File, client.CertFile, client.KeyFile), "error"},
		{"insecure_skip_verify", fmt.Sprintf("{insecure_skip_verify: true, cert_file: %q, key_file: %q}", client.CertFile, client.KeyFile), "alice"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, errs := parse(t, "{tls: "+tc.tls+"}")
			if len(errs) > 0 {
				t.Fatal(errs)
			}
			cfg, err := tlsconf.Config(p)
			if err != nil {
				t.Fatal(err)
			}
			c := &http.Client{Transport: &http.Transport{TLSClientConfig: cfg}}
			resp, err := c.Get(srv.URL)
			got := "error"
			if err == nil {
				buf := make([]byte, 64)
				n, _ := resp.Body.Read(buf)
				resp.Body.Close()
				got = string(buf[:n])
			}
			if got != tc.want {
				t.Errorf("got %q (err %v), want %q", got, err, tc.want)
			}
		})
	}
}

func TestOffAndMistakes(t *testing.T) {
	p, errs := parse(t, "{addr: x}")
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	if cfg, err := tlsconf.Config(p); cfg != nil || err != nil {
		t.Errorf("no tls key: got %v, %v; want TLS off", cfg, err)
	}
	p, _ = parse(t, "{tls: {}}")
	if cfg, err := tlsconf.Config(p); cfg == nil || err != nil || cfg.MinVersion != tls.VersionTLS12 {
		t.Errorf("tls: {}: got %v, %v; want TLS on with system roots", cfg, err)
	}
	if _, errs := parse(t, "{tls: {cert_file: c.pem}}"); len(errs) != 1 || !strings.Contains(errs.Error(), "p.yaml:1:7: c.tls: give cert_file and key_file together") {
		t.Errorf("cert without key: %v", errs)
	}
	p, _ = parse(t, "{tls: {ca_file: /nonexistent/ca.pem}}")
	if _, err := tlsconf.Config(p); err == nil || !strings.Contains(err.Error(), "tls.ca_file: open /nonexistent/ca.pem") {
		t.Errorf("missing ca_file: %v", err)
	}
}
