package nats

import (
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/dataweaver/dataweaver/engine"
	"github.com/dataweaver/dataweaver/engine/spec"
)

// connectionFields are the fields every NATS connector shares.
func connectionFields() []*spec.Field {
	return []*spec.Field{
		spec.StringList("urls").Default([]string{nats.DefaultURL}).
			Desc("Servers to connect to; the client fails over between them.").
			Example(`["nats://a:4222", "nats://b:4222"]`),
		spec.String("credentials_file").Optional().Advance().
			Desc("A NATS .creds file (JWT and NKey seed) to authenticate with."),
		spec.Duration("connect_timeout").Default(5 * time.Second).Advance().
			Desc("How long to wait for the first connection."),
	}
}

type connConfig struct {
	urls    []string
	creds   string
	timeout time.Duration
	name    string // step name, shown by the server as the client name
}

func readConnConfig(conf *spec.Parsed, step string) connConfig {
	return connConfig{urls: conf.Strings("urls"), creds: conf.String("credentials_file"), timeout: conf.Duration("connect_timeout"), name: "dataweaver " + step}
}

func (c connConfig) connect() (*nats.Conn, error) {
	opts := []nats.Option{nats.Name(c.name), nats.Timeout(c.timeout), nats.MaxReconnects(-1)}
	if c.creds != "" {
		opts = append(opts, nats.UserCredentials(c.creds))
	}
	url := ""
	for i, u := range c.urls {
		if i > 0 {
			url += ","
		}
		url += u
	}
	nc, err := nats.Connect(url, opts...)
	if err != nil {
		return nil, fmt.Errorf("nats: connect to %s: %w", url, err)
	}
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
