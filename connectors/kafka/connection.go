package kafka

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/dataweaver/dataweaver/engine"
	"github.com/dataweaver/dataweaver/engine/spec"
)

// connectionFields are the fields every Kafka connector shares.
func connectionFields() []*spec.Field {
	return append([]*spec.Field{
		spec.StringList("brokers").Default([]string{"localhost:9092"}).
			Desc("Seed brokers; the client discovers the rest of the cluster from them.").
			Example(`["kafka-1:9092", "kafka-2:9092"]`),
		spec.String("client_id").Optional().Advance().
			Desc("Client id shown in broker logs and quotas; defaults to \"dataweaver <step>\"."),
		spec.Duration("dial_timeout").Default(10 * time.Second).Advance().
			Desc("How long to wait for a connection to a broker."),
	}, securityFields()...)
}

// newClient starts a client with opts and the TLS and SASL options, and
// checks the connection when either is configured (security.check).
func newClient(ctx context.Context, sec security, opts []kgo.Opt) (*kgo.Client, error) {
	more, err := sec.opts()
	if err != nil {
		return nil, err
	}
	cl, err := kgo.NewClient(append(slices.Clone(opts), more...)...)
	if err != nil {
		return nil, err
	}
	if err := sec.check(ctx, cl); err != nil {
		cl.Close()
		return nil, err
	}
	return cl, nil
}

// clientOpts are the kgo options both connectors start from.
func clientOpts(conf *spec.Parsed, step string) []kgo.Opt {
	id := conf.String("client_id")
	if id == "" {
		id = "dataweaver " + step
	}
	return []kgo.Opt{
		kgo.SeedBrokers(conf.Strings("brokers")...),
		kgo.ClientID(id),
		kgo.DialTimeout(conf.Duration("dial_timeout")),
	}
}

func configErr(conf *spec.Parsed, field, msg string, args ...any) error {
	return fmt.Errorf("%w: %w", engine.ErrInvalidConfig, conf.Errorf(field, msg, args...))
}

var errClosed = errors.New("kafka: closed")

// text is a value as message bytes: strings and binaries as they are,
// anything else in its text form.
func text(a arrow.Array, i int) []byte {
	switch v := a.(type) {
	case *array.String:
		return []byte(v.Value(i))
	case *array.LargeString:
		return []byte(v.Value(i))
	case *array.Binary:
		return append([]byte(nil), v.Value(i)...)
	}
	return []byte(a.ValueStr(i))
}
