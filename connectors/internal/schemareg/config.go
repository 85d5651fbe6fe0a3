package schemareg

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/twmb/franz-go/pkg/sr"

	"github.com/dataweaver/dataweaver/connectors/internal/tlsconf"
	"github.com/dataweaver/dataweaver/engine/spec"
)

// Subject naming strategies (Confluent's TopicNameStrategy,
// RecordNameStrategy and TopicRecordNameStrategy).
const (
	TopicName       = "topic_name"
	RecordName      = "record_name"
	TopicRecordName = "topic_record_name"
)

// FieldName is the key of the object in a connector's configuration.
const FieldName = "schema_registry"

const defaultTimeout = 10 * time.Second

// Field is the `schema_registry` object of a message connector; topic
// names what the connector calls the place a subject is named after (a
// Kafka topic, a NATS subject). A sink's has the fields about registering.
func Field(sink bool, topic string) *spec.Field {
	fields := []*spec.Field{
		spec.String("url").Desc("Base URL of the schema registry.").
			Example("https://psrc-xxxxx.us-east-2.aws.confluent.cloud"),
		spec.Object("basic_auth",
			spec.String("username").Desc("User (Confluent Cloud: the registry API key)."),
			spec.String("password").Secret().Desc("Password (Confluent Cloud: the registry API secret). Never printed.").
				Example("${SR_PASSWORD}"),
		).Optional().Desc("HTTP basic authentication."),
		spec.String("bearer_token").Optional().Secret().
			Desc("Token sent as `Authorization: Bearer …` (instead of basic_auth). Never printed."),
		tlsconf.Field(),
		spec.Duration("timeout").Default(defaultTimeout).Advance().
			Desc("How long one registry request may take. Ids are looked up once each, so this bounds the first batch naming a new id."),
	}
	desc := "Messages are in the Confluent wire format (byte 0, the 4-byte id of the schema they were written with, for " +
		"Protobuf the message index, the payload). Each id is looked up once; Avro writer schemas map onto the columns by " +
		"name (a field the columns lack is dropped, a nullable column the writer lacks is null); an unknown id or a schema " +
		"that does not fit the columns makes the message a rejected row naming the id. A registry that does not answer fails the batch."
	if sink {
		fields = append(fields,
			spec.String("subject_strategy").Default(TopicName).OneOf(TopicName, RecordName, TopicRecordName).
				Desc("Subject the schema is registered under: topic_name is \"<"+topic+">-value\", record_name the record "+
					"name, topic_record_name \"<"+topic+">-<record name>\"."),
			spec.String("record_name").Optional().
				Desc("Full name of the Avro record (default \"row\"), or the JSON Schema's title: required by the "+
					"record_name strategies. Protobuf uses the message's full name.").
				Example("shop.v1.Order"),
			spec.Bool("auto_register").Default(true).
				Desc("Register the schema derived from the columns when the sink opens; false only looks it up, and "+
					"the sink fails to open if it is not registered under the subject."),
		)
		desc = "Messages are written in the Confluent wire format, with the id of the schema derived from the columns, " +
			"registered (or looked up) under the subject the strategy names when the sink opens."
	}
	return spec.Object(FieldName, fields...).Optional().Desc(desc)
}

// Config is the parsed schema_registry object.
type Config struct {
	URL          string
	User         string
	Password     string
	Token        string
	Strategy     string
	RecordName   string
	AutoRegister bool
	Timeout      time.Duration

	conf *spec.Parsed // the object, holding tls
}

// FromConfig reads the schema_registry object of conf; nil when absent.
func FromConfig(conf *spec.Parsed) (*Config, error) {
	if !conf.Given(FieldName) {
		return nil, nil
	}
	o := conf.Object(FieldName)
	c := &Config{
		URL: o.String("url"), Token: o.String("bearer_token"), Strategy: o.String("subject_strategy"),
		RecordName: o.String("record_name"), AutoRegister: o.Bool("auto_register"), Timeout: o.Duration("timeout"), conf: o,
	}
	if c.Strategy == "" {
		c.Strategy = TopicName
	}
	if c.Timeout <= 0 {
		c.Timeout = defaultTimeout
	}
	if c.URL == "" {
		return nil, conf.Errorf(FieldName, "schema_registry.url is empty")
	}
	if b := o.Object("basic_auth"); b != nil && o.Given("basic_auth") {
		c.User, c.Password = b.String("username"), b.String("password")
		if c.Token != "" {
			return nil, conf.Errorf(FieldName, "give schema_registry.basic_auth or bearer_token, not both")
		}
	}
	return c, nil
}

// Registry is an open connection to a registry: a client and what was
// looked up through it.
type Registry struct {
	cfg *Config
	cl  *sr.Client
}

// Open makes the client; it reads the tls files, but sends nothing.
func (c *Config) Open() (*Registry, error) {
	opts := []sr.ClientOpt{sr.URLs(c.URL), sr.UserAgent("dataweaver")}
	if c.conf != nil { // nil for a Config made in Go, without tls
		tc, err := tlsconf.Config(c.conf)
		if err != nil {
			return nil, fmt.Errorf("schema_registry: %w", err)
		}
		if tc != nil {
			opts = append(opts, sr.DialTLSConfig(tc))
		}
	}
	switch {
	case c.User != "":
		opts = append(opts, sr.BasicAuth(c.User, c.Password))
	case c.Token != "":
		opts = append(opts, sr.BearerToken(c.Token))
	}
	cl, err := sr.NewClient(opts...)
	if err != nil {
		return nil, fmt.Errorf("schema_registry %s: %w", c.URL, err)
	}
	return &Registry{cfg: c, cl: cl}, nil
}

// Subject is the subject a sink's schema goes under, by the strategy.
func (c *Config) Subject(topic, record string) string {
	switch c.Strategy {
	case RecordName:
		return record
	case TopicRecordName:
		return topic + "-" + record
	}
	return topic + "-value"
}

// call runs f with the configured timeout.
func (r *Registry) call(parent context.Context, f func(ctx context.Context) error) error {
	timeout := r.cfg.Timeout
	if timeout <= 0 {
		timeout = defaultTimeout
	}
	ctx, cancel := context.WithTimeout(parent, timeout)
	defer cancel()
	return f(ctx)
}

// notFound reports whether err is the registry saying the schema, subject
// or version does not exist (as opposed to failing to answer).
func notFound(err error) bool {
	var re *sr.ResponseError
	return errors.As(err, &re) && re.ErrorCode >= 40401 && re.ErrorCode <= 40409
}
