// Package natsauth holds what every NATS client of weave's takes to reach
// a server: the authentication fields of a spec (a .creds file, an NKey
// seed file, a token, or a user and password), their TLS object, the
// checks that at most one way is given and none is an empty ${VAR}, and
// the client options they make. The nats connectors and the scale-out
// coordinator use it, so the same settings mean the same thing in a step
// and in the coordinator section.
package natsauth

import (
	"fmt"
	"net/url"
	"strings"

	"github.com/nats-io/nats.go"

	"github.com/dataweaver/dataweaver/connectors/internal/tlsconf"
	"github.com/dataweaver/dataweaver/engine"
	"github.com/dataweaver/dataweaver/engine/spec"
)

// Fields are the ways a NATS client authenticates, and its TLS. The
// secret values (token, password, credentials in a URL) are spec secrets,
// so weave redacts them from everything it prints; the files (.creds,
// NKey seed, TLS key) are named by path and read at each connect.
func Fields() []*spec.Field {
	return []*spec.Field{
		spec.String("credentials_file").Optional().
			Desc("A NATS .creds file (user JWT and NKey seed), as `nsc` or a managed NATS service (Synadia Cloud, NGS) hands out. " +
				"Read at every connect and reconnect, so a rotated file takes effect without a restart.").
			Example(`/etc/weave/orders.creds`),
		spec.String("nkey_file").Optional().Advance().
			Desc("A file holding an NKey user seed (SU…) for a server that lists the user by its public key (authorization.users[].nkey)."),
		spec.String("token").Optional().Secret().
			Desc("Token for a server that authenticates with one (authorization.token).").
			Example(`"${NATS_TOKEN}"`),
		spec.String("user").Optional().
			Desc("User name for user/password authentication; needs password."),
		spec.String("password").Optional().Secret().
			Desc("Password of user.").
			Example(`"${NATS_PASSWORD}"`),
		tlsconf.Field(),
	}
}

// URLSecrets returns the credentials a server URL carries
// (nats://user:password@host, or nats://token@host, where the user part
// is the token): they are secrets like the token and password fields.
// It is the urls field's spec.SecretIn.
func URLSecrets(v string) []string {
	u, err := url.Parse(v)
	if err != nil || u.User == nil {
		return nil
	}
	if p, ok := u.User.Password(); ok {
		return []string{p}
	}
	return []string{u.User.Username()}
}

// DisplayURLs lists the servers for messages without the credentials a
// URL may carry.
func DisplayURLs(urls []string) string {
	out := make([]string, len(urls))
	for i, v := range urls {
		out[i] = v
		if u, err := url.Parse(v); err == nil && u.User != nil {
			u.User = nil
			out[i] = strings.Replace(u.String(), "://", "://"+spec.Redacted+"@", 1)
		}
	}
	return strings.Join(out, ",")
}

// Auth is how a client authenticates: at most one of its ways is set.
type Auth struct {
	creds, nkeyFile, token, user, password string
	inURL                                  bool // a server URL carries credentials
	conf                                   *spec.Parsed
}

// Read takes the Fields of conf (and its urls field, for credentials in a
// URL) and checks they name one way, none of them empty.
func Read(conf *spec.Parsed) (Auth, error) {
	a := Auth{
		creds: conf.String("credentials_file"), nkeyFile: conf.String("nkey_file"),
		token: conf.String("token"), user: conf.String("user"), password: conf.String("password"),
		conf: conf,
	}
	for _, u := range conf.Strings("urls") {
		a.inURL = a.inURL || len(URLSecrets(u)) > 0
	}
	var given []string
	for _, f := range []string{"credentials_file", "nkey_file", "token", "user"} {
		if conf.Given(f) {
			given = append(given, f)
		}
	}
	if len(given) > 1 {
		return Auth{}, configErr(conf, given[1], "give one way to authenticate, not %s", strings.Join(given, " and "))
	}
	// An empty ${VAR} would silently connect without authentication (and
	// fail with a less clear refusal, or succeed on an open server).
	for _, f := range []string{"credentials_file", "nkey_file", "token", "user", "password"} {
		if conf.Given(f) && conf.String(f) == "" {
			return Auth{}, configErr(conf, f, "is empty (an unset variable?); remove the field to connect without it")
		}
	}
	if conf.Given("user") != conf.Given("password") {
		return Auth{}, configErr(conf, "user", "give user and password together")
	}
	return a, nil
}

func configErr(conf *spec.Parsed, field, msg string, args ...any) error {
	return fmt.Errorf("%w: %w", engine.ErrInvalidConfig, conf.Errorf(field, msg, args...))
}

// Kind names the authentication in errors and logs, never with a secret:
// "token", `user "alice"`, "credentials file /etc/x.creds".
func (a Auth) Kind() string {
	switch {
	case a.creds != "":
		return "credentials file " + a.creds
	case a.nkeyFile != "":
		return "nkey file " + a.nkeyFile
	case a.token != "":
		return "token"
	case a.user != "":
		return fmt.Sprintf("user %q and password", a.user)
	case a.inURL:
		return "credentials in the URL"
	}
	return "no credentials"
}

// Options are the client's options for a, with its TLS configuration
// (which reads its files, so call it at each connect).
func (a Auth) Options() ([]nats.Option, error) {
	var opts []nats.Option
	switch {
	case a.creds != "":
		opts = append(opts, nats.UserCredentials(a.creds))
	case a.nkeyFile != "":
		o, err := nats.NkeyOptionFromSeed(a.nkeyFile)
		if err != nil {
			return nil, fmt.Errorf("nkey_file %s: %w", a.nkeyFile, err)
		}
		opts = append(opts, o)
	case a.token != "":
		opts = append(opts, nats.Token(a.token))
	case a.user != "":
		opts = append(opts, nats.UserInfo(a.user, a.password))
	}
	if a.conf == nil {
		return opts, nil
	}
	tc, err := tlsconf.Config(a.conf)
	if err != nil {
		return nil, err
	}
	if tc != nil {
		opts = append(opts, nats.Secure(tc))
	}
	return opts, nil
}
