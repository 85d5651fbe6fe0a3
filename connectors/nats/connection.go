package nats

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/dataweaver/dataweaver/connectors/internal/natsauth"
	"github.com/dataweaver/dataweaver/engine"
	"github.com/dataweaver/dataweaver/engine/spec"
)

// connectionFields are the fields every NATS connector shares.
func connectionFields() []*spec.Field {
	fields := []*spec.Field{
		spec.StringList("urls").Default([]string{nats.DefaultURL}).SecretIn(natsauth.URLSecrets).
			Desc("Servers to connect to; the client fails over between them. tls:// URLs connect with TLS (see tls). " +
				"Credentials in a URL (nats://user:password@host, nats://token@host) are secrets like token and password; " +
				"the fields below are clearer.").
			Example(`["nats://a:4222", "nats://b:4222"]`),
	}
	fields = append(fields, natsauth.Fields()...)
	return append(fields,
		spec.Duration("connect_timeout").Default(5*time.Second).Advance().
			Desc("How long to wait for the first connection. A server that cannot be reached at start fails the run "+
				"at once (a wrong URL or credentials show there); outages after that are max_outage's."),
		spec.Duration("max_outage").Default(2*time.Minute).
			Desc("How long the step rides out a lost connection or a server that fails every request (a restart, a "+
				"JetStream leader election) before the run fails with an error naming the server and how long it has "+
				"been gone. The client reconnects by itself and the step retries its requests with backoff meanwhile; "+
				"disconnects and reconnects are logged. 0 waits for ever.").
			Validate(func(v any) error {
				if v.(time.Duration) < 0 {
					return errors.New("must not be negative")
				}
				return nil
			}),
		spec.Duration("request_timeout").Default(5*time.Second).Advance().
			Desc("How long one try of one request (an acknowledgement, a publish acknowledgement, a consumer update) "+
				"waits for the server's answer before it is tried again; an answer lost with a connection or a "+
				"consumer's leader would otherwise hold the step until the run's own deadline.").
			Validate(func(v any) error {
				if v.(time.Duration) <= 0 {
					return errors.New("must be positive")
				}
				return nil
			}),
	)
}

type connConfig struct {
	urls    []string
	auth    natsauth.Auth
	conf    *spec.Parsed // for the tls object, read at each connect
	timeout time.Duration
	name    string // step name, shown by the server as the client name
}

func readConnConfig(conf *spec.Parsed, step string) (connConfig, error) {
	a, err := natsauth.Read(conf)
	if err != nil {
		return connConfig{}, err
	}
	return connConfig{urls: conf.Strings("urls"), auth: a, conf: conf, timeout: conf.Duration("connect_timeout"), name: "dataweaver " + step}, nil
}

// readLink builds the step's link from max_outage and request_timeout.
func readLink(conf *spec.Parsed, b engine.Build) *link {
	return newLink(b.Logger, conf.Duration("max_outage"), conf.Duration("request_timeout"))
}

// connect makes the first connection, which must succeed at once; after
// it the client reconnects for ever (MaxReconnects -1, every ReconnectWait,
// 2 s by default) and l decides how long the step waits for it.
func (c connConfig) connect(l *link) (*nats.Conn, error) {
	// Errors name the servers and the kind of authentication, never a
	// secret: a refusal says which credentials to check.
	where := fmt.Sprintf("nats: connect to %s with %s", natsauth.DisplayURLs(c.urls), c.auth.Kind())
	if c.conf.Given("tls") {
		where += " over TLS"
	}
	auth, err := c.auth.Options()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", where, err)
	}
	opts := append([]nats.Option{nats.Name(c.name), nats.Timeout(c.timeout), nats.MaxReconnects(-1)}, l.options()...)
	nc, err := nats.Connect(strings.Join(c.urls, ","), append(opts, auth...)...)
	if errors.Is(err, nats.ErrAuthorization) || errors.Is(err, nats.ErrAuthExpired) || errors.Is(err, nats.ErrAuthRevoked) {
		return nil, fmt.Errorf("%s: the server refused the credentials: %w", where, err)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", where, err)
	}
	l.connected(nc)
	return nc, nil
}

// close flushes what the client buffered (acks, publishes) and closes nc.
func closeConn(nc *nats.Conn) {
	if nc == nil {
		return
	}
	_ = nc.FlushTimeout(2 * time.Second)
	nc.Close()
}

func configErr(conf *spec.Parsed, field, msg string, args ...any) error {
	return fmt.Errorf("%w: %w", engine.ErrInvalidConfig, conf.Errorf(field, msg, args...))
}

var errClosed = errors.New("nats: closed")
