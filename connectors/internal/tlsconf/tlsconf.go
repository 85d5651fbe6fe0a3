// Package tlsconf is the `tls` object every client connector takes (Kafka,
// NATS, Postgres, object storage): one spec, so the fields are named and
// documented the same everywhere, and one builder.
package tlsconf

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"os"

	"github.com/dataweaver/dataweaver/engine/spec"
)

// Field is the optional `tls` object of a client connector. TLS is on when
// the key is present (`tls: {}` uses the system's roots), off otherwise.
func Field() *spec.Field {
	return spec.Object("tls",
		spec.String("ca_file").Optional().
			Desc("PEM file of the certificate authorities to trust instead of the system's."),
		spec.String("cert_file").Optional().
			Desc("PEM client certificate (chain), for servers that require one (mutual TLS); needs key_file."),
		spec.String("key_file").Optional().
			Desc("PEM private key of cert_file."),
		spec.String("server_name").Optional().Advance().
			Desc("Name to verify the server's certificate against, when it differs from the host dialled."),
		spec.Bool("insecure_skip_verify").Default(false).Advance().
			Desc("Accept any server certificate. For tests only: it gives up the protection TLS exists for."),
	).Optional().Validate(func(v any) error {
		p := v.(*spec.Parsed)
		if p.Has("cert_file") != p.Has("key_file") {
			return fmt.Errorf("give cert_file and key_file together")
		}
		return nil
	}).Desc("Connect with TLS. Present (even empty: `tls: {}`) turns TLS on.")
}

// Config builds the client TLS configuration from the connector's parsed
// configuration (the level holding the `tls` key), or nil when TLS is off.
// It reads the files, so call it when the connector opens, not when it is
// built: building does no I/O.
func Config(conf *spec.Parsed) (*tls.Config, error) {
	if !conf.Given("tls") {
		return nil, nil
	}
	t := conf.Object("tls")
	c := &tls.Config{
		MinVersion:         tls.VersionTLS12,
		ServerName:         t.String("server_name"),
		InsecureSkipVerify: t.Bool("insecure_skip_verify"), //nolint:gosec // the user asked, and the docs say what it costs
	}
	if f := t.String("ca_file"); f != "" {
		pem, err := os.ReadFile(f)
		if err != nil {
			return nil, fmt.Errorf("tls.ca_file: %w", err)
		}
		roots := x509.NewCertPool()
		if !roots.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("tls.ca_file %s holds no PEM certificate", f)
		}
		c.RootCAs = roots
	}
	if cf := t.String("cert_file"); cf != "" {
		cert, err := tls.LoadX509KeyPair(cf, t.String("key_file"))
		if err != nil {
			return nil, fmt.Errorf("tls.cert_file/key_file: %w", err)
		}
		c.Certificates = []tls.Certificate{cert}
	}
	return c, nil
}
