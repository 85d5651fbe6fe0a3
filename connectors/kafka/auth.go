package kafka

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sasl"
	"github.com/twmb/franz-go/pkg/sasl/plain"
	"github.com/twmb/franz-go/pkg/sasl/scram"

	"github.com/dataweaver/dataweaver/connectors/internal/tlsconf"
	"github.com/dataweaver/dataweaver/engine/spec"
)

// SASL mechanisms.
const (
	mechPlain     = "PLAIN"
	mechScram256  = "SCRAM-SHA-256"
	mechScram512  = "SCRAM-SHA-512"
	saslFieldName = "sasl"
)

// securityFields are the tls and sasl objects both connectors take.
func securityFields() []*spec.Field {
	return []*spec.Field{
		tlsconf.Field(),
		spec.Object(saslFieldName,
			spec.String("mechanism").OneOf(mechPlain, mechScram256, mechScram512).
				Desc("SASL mechanism: PLAIN (the password travels as is, so use it with tls only), SCRAM-SHA-256 or "+
					"SCRAM-SHA-512 (a challenge: the password never crosses the wire)."),
			spec.String("username").Desc("User name (Confluent Cloud: the API key).").Example("weave"),
			spec.String("password").Secret().Desc("Password (Confluent Cloud: the API secret). Never printed.").
				Example("${KAFKA_PASSWORD}"),
		).Optional().Desc("Authenticate with SASL. Managed clusters take SASL over TLS (Kafka's SASL_SSL): give tls too."),
	}
}

// security is what the tls and sasl objects ask for, kept from the build
// so the files are read and the credentials used only at Open.
type security struct {
	conf      *spec.Parsed // the connector's configuration, holding tls
	mechanism string       // "" without SASL
	user      string
	password  string
	brokers   []string
}

func newSecurity(conf *spec.Parsed) security {
	s := security{conf: conf, brokers: conf.Strings("brokers")}
	if a := conf.Object(saslFieldName); a != nil && conf.Given(saslFieldName) {
		s.mechanism, s.user, s.password = a.String("mechanism"), a.String("username"), a.String("password")
	}
	return s
}

// on reports whether TLS or SASL is configured.
func (s security) on() bool { return s.mechanism != "" || s.conf.Given("tls") }

// opts are the client options for TLS and SASL; they read the tls files.
func (s security) opts() ([]kgo.Opt, error) {
	var out []kgo.Opt
	tc, err := tlsconf.Config(s.conf)
	if err != nil {
		return nil, err
	}
	if tc != nil {
		out = append(out, kgo.DialTLSConfig(tc))
	}
	var m sasl.Mechanism
	switch s.mechanism {
	case "":
	case mechPlain:
		m = plain.Auth{User: s.user, Pass: s.password}.AsMechanism()
	case mechScram256:
		m = scram.Auth{User: s.user, Pass: s.password}.AsSha256Mechanism()
	case mechScram512:
		m = scram.Auth{User: s.user, Pass: s.password}.AsSha512Mechanism()
	}
	if m != nil {
		out = append(out, kgo.SASL(m))
	}
	return out, nil
}

// check connects once, so that a wrong password or an untrusted
// certificate fails the step at Open, naming the brokers and how it
// connected, instead of a retry loop inside the client. The error never
// holds the password: kgo's errors do not, and it is redacted from
// whatever weave prints anyway.
func (s security) check(ctx context.Context, cl *kgo.Client) error {
	if !s.on() {
		return nil
	}
	if err := cl.Ping(ctx); err != nil {
		hint := ""
		// A broker refusing the credentials may just hang up (kfake does;
		// Kafka before 1.0 too) and kgo then reports the bare EOF.
		if s.mechanism != "" && errors.Is(err, io.EOF) {
			hint = " (the broker closed the connection while authenticating: check mechanism, username and password)"
		}
		return fmt.Errorf("connecting to %s %s%s: %w", strings.Join(s.brokers, ", "), s.how(), hint, err)
	}
	return nil
}

// how describes the connection for errors: TLS and SASL mechanism and
// user, never the password.
func (s security) how() string {
	var parts []string
	if s.conf.Given("tls") {
		parts = append(parts, "over TLS")
	}
	if s.mechanism != "" {
		parts = append(parts, fmt.Sprintf("with SASL %s as user %q", s.mechanism, s.user))
	}
	return strings.Join(parts, " ")
}
