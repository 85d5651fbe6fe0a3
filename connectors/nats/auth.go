package nats

import (
	"fmt"
	"net/url"
	"strings"

	"github.com/nats-io/nats.go"

	"github.com/dataweaver/dataweaver/connectors/internal/tlsconf"
	"github.com/dataweaver/dataweaver/engine/spec"
)

// authFields are the ways a NATS connector authenticates, and its TLS.
// The secret values (token, password, credentials in a URL) are spec
// secrets, so weave redacts them from everything it prints; the files
// (.creds, NKey seed, TLS key) are named by path and read at Open.
func authFields() []*spec.Field {
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

// urlSecrets returns the credentials a server URL carries
// (nats://user:password@host, or nats://token@host, where the user part
// is the token): they are secrets like the token and password fields.
func urlSecrets(v string) []string {
	u, err := url.Parse(v)
	if err != nil || u.User == nil {
		return nil
	}
	if p, ok := u.User.Password(); ok {
		return []string{p}
	}
	return []string{u.User.Username()}
}

// displayURLs lists the servers for messages without the credentials a
// URL may carry.
func displayURLs(urls []string) string {
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

// auth is how a step authenticates: at most one of its fields is set.
type auth struct {
	creds, nkeyFile, token, user, password string
	inURL                                  bool // a server URL carries credentials
}

// readAuth takes the auth fields and checks they name one way.
func readAuth(conf *spec.Parsed) (auth, error) {
	a := auth{
		creds: conf.String("credentials_file"), nkeyFile: conf.String("nkey_file"),
		token: conf.String("token"), user: conf.String("user"), password: conf.String("password"),
	}
	for _, u := range conf.Strings("urls") {
		a.inURL = a.inURL || len(urlSecrets(u)) > 0
	}
	var given []string
	for _, f := range []string{"credentials_file", "nkey_file", "token", "user"} {
		if conf.Given(f) {
			given = append(given, f)
		}
	}
	if len(given) > 1 {
		return auth{}, configErr(conf, given[1], "give one way to authenticate, not %s", strings.Join(given, " and "))
	}
	// An empty ${VAR} would silently connect without authentication (and
	// fail with a less clear refusal, or succeed on an open server).
	for _, f := range []string{"credentials_file", "nkey_file", "token", "user", "password"} {
		if conf.Given(f) && conf.String(f) == "" {
			return auth{}, configErr(conf, f, "is empty (an unset variable?); remove the field to connect without it")
		}
	}
	if conf.Given("user") != conf.Given("password") {
		return auth{}, configErr(conf, "user", "give user and password together")
	}
	return a, nil
}

// kind names the authentication in errors and logs, never with a secret:
// "token", `user "alice"`, "credentials file /etc/x.creds".
func (a auth) kind() string {
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

// options are the client's options for a, and the TLS configuration of
// conf (which reads its files, so it runs at each connect).
func (a auth) options(conf *spec.Parsed) ([]nats.Option, error) {
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
	tc, err := tlsconf.Config(conf)
	if err != nil {
		return nil, err
	}
	if tc != nil {
		opts = append(opts, nats.Secure(tc))
	}
	return opts, nil
}
