package coordinator

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/dataweaver/dataweaver/connectors/internal/natsauth"
	"github.com/dataweaver/dataweaver/connectors/postgres"
	"github.com/dataweaver/dataweaver/engine/spec"
)

// Defaults of the coordinator section.
const (
	DefaultStream     = "WEAVE_SPLITS"
	DefaultBucket     = "weave_positions"
	DefaultLockBucket = "weave_locks"
	DefaultAckWait    = 30 * time.Second
	DefaultLockTTL    = 30 * time.Second
)

// Spec is the pipeline file's coordinator section: where the workers of
// one pipeline meet. A file without it runs alone.
func Spec() *spec.Spec {
	return spec.New("coordinator").
		Summary("Runs the pipeline as one of N workers that share its bounded source's splits through NATS JetStream.").
		Description("Every worker runs the same file. The first to take a lock in a JetStream key-value bucket "+
			"cuts the source into splits (one per file; one per row group of a Parquet file; one per byte range "+
			"of a large JSON Lines file, see the source's split_size; one per cursor range of a Postgres table, see "+
			"split_rows) and publishes one "+
			"message per split to a work-queue stream, each with a message ID so a second planning adds nothing. "+
			"Workers take splits one at a time: ack_wait is a split's lease, extended while the split is being "+
			"read, so a split whose worker dies is handed to another after ack_wait. A split is acknowledged "+
			"after every sink has written it; a part-file sink writes one part per split, named after it, so a "+
			"split done again replaces its part. Finished splits are recorded in a second bucket (the shared "+
			"positions): a later run of the file reads only what is new. A worker exits when no split is left.").
		Field(
			spec.StringList("urls").Default([]string{nats.DefaultURL}).SecretIn(natsauth.URLSecrets).
				Desc("NATS servers with JetStream; the client fails over between them.").
				Example(`["nats://a:4222", "nats://b:4222"]`),
		).
		Field(natsauth.Fields()...).
		Field(
			spec.String("stream").Default(DefaultStream).
				Desc("Work-queue stream holding the splits (subjects weave.splits.>); created if missing."),
			spec.String("bucket").Default(DefaultBucket).
				Desc("Key-value bucket holding the positions (finished splits) of every pipeline; created if missing."),
			spec.String("lock_bucket").Default(DefaultLockBucket).Advance().
				Desc("Key-value bucket holding the planning lock; its keys expire after lock_ttl."),
			spec.Int("replicas").Default(1).
				Validate(func(v any) error {
					if n := v.(int); n < 1 || n > 5 {
						return fmt.Errorf("must be between 1 and 5, got %d", n)
					}
					return nil
				}).
				Desc("Replicas of the stream and buckets when weave creates them (3 on a 3-node cluster)."),
			spec.Duration("ack_wait").Default(DefaultAckWait).Validate(atLeastSecond).
				Desc("A split's lease: a worker extends it every third of it while it reads the split; a worker "+
					"that stops extending it (killed) loses the split to another after this long."),
			spec.Duration("lock_ttl").Default(DefaultLockTTL).Validate(atLeastSecond).Advance().
				Desc("How long the planning lock outlives a planner that died."),
			spec.Duration("max_outage").Default(2*time.Minute).
				Desc("How long a worker rides out a lost server or a JetStream leader election before it fails."),
			spec.String("positions_dsn").Optional().SecretIn(postgres.DSNSecrets).
				Desc("PostgreSQL connection string: keep the shared positions (finished splits) in a table of this "+
					"database instead of the bucket, fenced the same way (a revision column, checked under the row's "+
					"lock). The planning lock and the plan stay in JetStream. A password in it is a secret.").
				Example(`"postgres://weave@db/shop"`),
			spec.String("positions_table").Default("weave_positions").
				Desc("Table of the positions with positions_dsn (optionally schema-qualified); created if missing, "+
					"the same layout as an exactly_once sink's positions_table."),
			spec.String("worker").Optional().
				Desc("This worker's name in logs and in the lock; default: host name and process ID."),
		).
		WithExample("Workers on a 3-node cluster, Parquet parts in a bucket", `source:
  s3: {bucket: landing, path: "exports/*.parquet"}
sinks:
  - s3: {bucket: lake, path: "orders/", format: parquet}
coordinator:
  urls: ["nats://nats-0:4222", "nats://nats-1:4222", "nats://nats-2:4222"]
  credentials_file: /etc/weave/worker.creds
  replicas: 3`)
}

func atLeastSecond(v any) error {
	if v.(time.Duration) < time.Second {
		return errors.New("must be at least 1s")
	}
	return nil
}

// Config is where the workers meet. Build one with FromSpec, or by hand
// in Go (Options then carry authentication and TLS).
type Config struct {
	URLs       []string
	Options    []nats.Option
	Stream     string
	Bucket     string
	LockBucket string
	Replicas   int
	AckWait    time.Duration
	LockTTL    time.Duration
	MaxOutage  time.Duration
	Worker     string
	// PositionsDSN, when set, keeps the positions in PositionsTable of
	// that PostgreSQL database instead of Bucket.
	PositionsDSN   string
	PositionsTable string
	// auth is the section's authentication and TLS, made into options at
	// each connect (TLS reads files).
	auth *natsauth.Auth
}

// FromSpec reads a parsed coordinator section.
func FromSpec(p *spec.Parsed) (Config, error) {
	c := Config{
		URLs: p.Strings("urls"), Stream: p.String("stream"), Bucket: p.String("bucket"),
		LockBucket: p.String("lock_bucket"), Replicas: p.Int("replicas"), AckWait: p.Duration("ack_wait"),
		LockTTL: p.Duration("lock_ttl"), MaxOutage: p.Duration("max_outage"), Worker: p.String("worker"),
		PositionsDSN: p.String("positions_dsn"), PositionsTable: p.String("positions_table"),
	}
	a, err := natsauth.Read(p)
	if err != nil {
		return Config{}, err
	}
	c.auth = &a
	return c, nil
}

func (c Config) withDefaults() Config {
	if len(c.URLs) == 0 {
		c.URLs = []string{nats.DefaultURL}
	}
	if c.Stream == "" {
		c.Stream = DefaultStream
	}
	if c.Bucket == "" {
		c.Bucket = DefaultBucket
	}
	if c.LockBucket == "" {
		c.LockBucket = DefaultLockBucket
	}
	if c.Replicas < 1 {
		c.Replicas = 1
	}
	if c.AckWait <= 0 {
		c.AckWait = DefaultAckWait
	}
	if c.LockTTL <= 0 {
		c.LockTTL = DefaultLockTTL
	}
	if c.MaxOutage <= 0 {
		c.MaxOutage = 2 * time.Minute
	}
	if c.Worker == "" {
		host, _ := os.Hostname()
		c.Worker = host + "-" + strconv.Itoa(os.Getpid())
	}
	return c
}
