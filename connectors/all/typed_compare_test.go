package all_test

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/dataweaver/dataweaver/connectors/columns"
	"github.com/dataweaver/dataweaver/connectors/discard"
	"github.com/dataweaver/dataweaver/connectors/file"
	"github.com/dataweaver/dataweaver/connectors/generate"
	"github.com/dataweaver/dataweaver/connectors/http"
	"github.com/dataweaver/dataweaver/connectors/inmemory"
	"github.com/dataweaver/dataweaver/connectors/kafka"
	"github.com/dataweaver/dataweaver/connectors/nats"
	"github.com/dataweaver/dataweaver/connectors/postgres"
	"github.com/dataweaver/dataweaver/connectors/s3"
	"github.com/dataweaver/dataweaver/connectors/wasm"
	"github.com/dataweaver/dataweaver/engine"
	"github.com/dataweaver/dataweaver/engine/config"
	"github.com/dataweaver/dataweaver/engine/spec"
)

// sameConfigs are, for every registered plugin, a Go configuration and the
// pipeline-file text with the same settings, written independently: most
// fields set, nested objects, pointers set to their zero value, lists and
// ordered maps.
var sameConfigs = []struct {
	kind, name string
	conf       any
	yaml       string
}{
	{engine.KindSource, "file", file.SourceConfig{
		Path: "in/*.csv", Format: "csv", Compression: "gzip",
		Schema:    []spec.KV{{Key: "id", Value: "int64 not null"}, {Key: "amount", Value: "decimal128(10,2)"}},
		CSV:       &file.SourceCSVConfig{Delimiter: ";", Header: new(false), NullValues: []string{"NA", ""}},
		InferRows: 50, Workers: 2, MaxRecordBytes: 1 << 20,
	}, `
path: in/*.csv
format: csv
compression: gzip
schema: {id: int64 not null, amount: "decimal128(10,2)"}
csv: {delimiter: ";", header: false, null_values: [NA, ""]}
infer_rows: 50
workers: 2
max_record_bytes: 1048576
`},
	{engine.KindSink, "file", file.SinkConfig{
		Path: "out/", Format: "jsonl", Compression: "zstd", CSV: &file.SinkCSVConfig{Header: new(false)},
		Mkdir: new(false), Overwrite: new(false), Atomic: new(false), Append: true, PartRows: 1000, Sync: true,
	}, `
path: out/
format: jsonl
compression: zstd
csv: {header: false}
mkdir: false
overwrite: false
atomic: false
append: true
part_rows: 1000
sync: true
`},
	{engine.KindSource, "generate", generate.SourceConfig{
		Rows: new(0), Seed: new(7), Schema: []spec.KV{{Key: "b", Value: "utf8"}, {Key: "a", Value: "int32"}},
		RowsPerSecond: 12.5, NullFraction: 0.1,
	}, "rows: 0\nseed: 7\nschema: {b: utf8, a: int32}\nrows_per_second: 12.5\nnull_fraction: 0.1\n"},
	{engine.KindSource, "http", http.SourceConfig{
		Address: "127.0.0.1:0", Path: "/in", Schema: []spec.KV{{Key: "id", Value: "int64"}},
		AuthToken: "s3cret", DefaultFormat: "arrow", BadRows: "reject", MaxBodyBytes: new(int64(0)),
		MaxRecordBytes: 4096, MaxPendingRequests: 2, MaxWait: new(time.Duration(0)), RetryAfter: new(2 * time.Second),
		ReadTimeout: new(time.Minute), AllowEndOfInput: true,
		TLS: &http.SourceTLSConfig{CertFile: "c.pem", KeyFile: "k.pem", ClientCAFile: "ca.pem"},
	}, `
address: 127.0.0.1:0
path: /in
schema: {id: int64}
auth_token: s3cret
default_format: arrow
bad_rows: reject
max_body_bytes: 0
max_record_bytes: 4096
max_pending_requests: 2
max_wait: 0s
retry_after: 2s
read_timeout: 1m
allow_end_of_input: true
tls: {cert_file: c.pem, key_file: k.pem, client_ca_file: ca.pem}
`},
	{engine.KindSink, "http", http.SinkConfig{
		URL: "https://example.test/in", Method: "PUT", Codec: "ndjson",
		Headers:   []spec.KV{{Key: "X-B", Value: "2"}, {Key: "X-A", Value: "1"}},
		AuthToken: "tok", Timeout: new(5 * time.Second), MaxRows: 100, MaxBytes: new(int64(1 << 20)),
		RateLimit:         &http.RateLimitConfig{RequestsPerSecond: 2.5, Burst: new(0)},
		TLS:               &http.SinkTLSConfig{CAFile: "ca.pem", InsecureSkipVerify: true},
		IdempotencyHeader: "X-Key", MaxRetryAfter: new(time.Duration(0)),
	}, `
url: https://example.test/in
method: PUT
codec: ndjson
headers: {X-B: "2", X-A: "1"}
auth_token: tok
timeout: 5s
max_rows: 100
max_bytes: 1MiB
rate_limit: {requests_per_second: 2.5, burst: 0}
tls: {ca_file: ca.pem, insecure_skip_verify: true}
idempotency_header: X-Key
max_retry_after: 0s
`},
	{engine.KindSource, "kafka", kafka.SourceConfig{
		Brokers: []string{"b1:9092", "b2:9092"}, ClientID: "weave", DialTimeout: new(3 * time.Second),
		TLS:    &kafka.TLSConfig{},
		SASL:   &kafka.SASLConfig{Mechanism: "SCRAM-SHA-512", Username: "u", Password: "p"},
		Topics: []string{"orders"}, Group: "g", StartOffset: "latest", Metadata: true,
		HeaderColumns: []string{"h1"}, StopAtEnd: true, SessionTimeout: new(10 * time.Second),
		Codec: "avro", Avro: &kafka.AvroConfig{SchemaFile: "o.avsc", Encoding: "single_object"},
		SchemaRegistry: &kafka.SourceSchemaRegistryConfig{
			URL: "http://reg", BasicAuth: &kafka.BasicAuthConfig{Username: "ru", Password: "rp"},
			TLS: &kafka.TLSConfig{ServerName: "reg"}, Timeout: new(time.Second),
		},
		MaxRecordBytes: 2048,
	}, `
brokers: [b1:9092, b2:9092]
client_id: weave
dial_timeout: 3s
tls: {}
sasl: {mechanism: SCRAM-SHA-512, username: u, password: p}
topics: orders
group: g
start_offset: latest
metadata: true
header_columns: [h1]
stop_at_end: true
session_timeout: 10s
codec: avro
avro: {schema_file: o.avsc, encoding: single_object}
schema_registry:
  url: http://reg
  basic_auth: {username: ru, password: rp}
  tls: {server_name: reg}
  timeout: 1s
max_record_bytes: 2048
`},
	{engine.KindSink, "kafka", kafka.SinkConfig{
		Topic: "out", KeyColumn: "id", MaxBufferedRecords: new(0), Codec: "protobuf",
		Protobuf:       &kafka.ProtobufConfig{Message: "pkg.Order", ProtoFile: "o.proto", ImportPaths: []string{"a", "b"}, TimestampUnit: "ns"},
		SchemaRegistry: &kafka.SinkSchemaRegistryConfig{URL: "http://reg", BearerToken: "bt", SubjectStrategy: "record_name", RecordName: "pkg.Order", AutoRegister: new(false)},
	}, `
topic: out
key_column: id
max_buffered_records: 0
codec: protobuf
protobuf: {message: pkg.Order, proto_file: o.proto, import_paths: [a, b], timestamp_unit: ns}
schema_registry: {url: "http://reg", bearer_token: bt, subject_strategy: record_name, record_name: pkg.Order, auto_register: false}
`},
	{engine.KindSource, "memory", inmemory.SourceConfig{
		Schema: []spec.KV{{Key: "id", Value: "int64"}, {Key: "name", Value: "utf8"}},
		Rows:   []any{map[string]any{"id": 1, "name": "a"}, []any{2, nil}},
	}, "schema: {id: int64, name: utf8}\nrows: [{id: 1, name: a}, [2, null]]\n"},
	{engine.KindSink, "memory", inmemory.SinkConfig{Name: "captured"}, "name: captured"},
	{engine.KindSource, "nats_jetstream", nats.SourceConfig{
		URLs: []string{"nats://a:4222"}, Token: "t", TLS: &nats.TLSConfig{CAFile: "ca.pem"},
		ConnectTimeout: new(time.Second), MaxOutage: new(time.Duration(0)), Stream: "S", Durable: "d",
		FilterSubject: "orders.>", Deliver: "sequence", StartSequence: 10, AckWait: new(time.Minute),
		MaxDeliver: 3, MaxAckPending: 100, StopAtEnd: true, Codec: "json",
		Schema: []spec.KV{{Key: "id", Value: "int64"}},
	}, `
urls: nats://a:4222
token: t
tls: {ca_file: ca.pem}
connect_timeout: 1s
max_outage: 0s
stream: S
durable: d
filter_subject: orders.>
deliver: sequence
start_sequence: 10
ack_wait: 1m
max_deliver: 3
max_ack_pending: 100
stop_at_end: true
codec: json
schema: {id: int64}
`},
	{engine.KindSink, "nats", nats.SinkConfig{
		User: "u", Password: "p", RequestTimeout: 2 * time.Second, Subject: "out", Jetstream: new(false),
		MsgIDColumn: "id", DedupeRetries: true, MaxPending: 10,
	}, "user: u\npassword: p\nrequest_timeout: 2s\nsubject: out\njetstream: false\nmsg_id_column: id\ndedupe_retries: true\nmax_pending: 10\n"},
	{engine.KindSource, "postgres", postgres.SourceConfig{
		DSN: "postgres://u:pw@h/db", Table: "orders", Cursor: "id", Start: "100", PollInterval: new(time.Duration(0)), StopAtEnd: true,
	}, "dsn: postgres://u:pw@h/db\ntable: orders\ncursor: id\nstart: \"100\"\npoll_interval: 0s\nstop_at_end: true\n"},
	{engine.KindSource, "postgres_cdc", postgres.CDCConfig{
		DSN: "postgres://h/db", Table: "public.orders", Publication: "pub", Slot: "slot",
		CreatePublication: true, CreateSlot: true, Snapshot: new(false), SlotWarningBytes: new(int64(0)), StatusInterval: new(time.Second),
	}, "dsn: postgres://h/db\ntable: public.orders\npublication: pub\nslot: slot\ncreate_publication: true\ncreate_slot: true\nsnapshot: false\nslot_warning_bytes: 0\nstatus_interval: 1s\n"},
	{engine.KindSink, "postgres", postgres.SinkConfig{
		DSN: "postgres://h/db", Table: "t", Mode: "upsert", Key: []string{"id", "day"}, CreateTable: true, ExactlyOnce: true, PositionsTable: "pos",
	}, "dsn: postgres://h/db\ntable: t\nmode: upsert\nkey: [id, day]\ncreate_table: true\nexactly_once: true\npositions_table: pos\n"},
	{engine.KindSource, "s3", s3.SourceConfig{
		Bucket: "b", Path: "in/*.parquet", Region: "eu-west-1", Endpoint: "http://127.0.0.1:9000", ForcePathStyle: true,
		AccessKeyID: "AK", SecretAccessKey: "SK", SessionToken: "ST", Format: "parquet", Workers: 1,
		CSV: &s3.SourceCSVConfig{Delimiter: "tab"},
	}, `
bucket: b
path: in/*.parquet
region: eu-west-1
endpoint: http://127.0.0.1:9000
force_path_style: true
access_key_id: AK
secret_access_key: SK
session_token: ST
format: parquet
workers: 1
csv: {delimiter: tab}
`},
	{engine.KindSink, "s3", s3.SinkConfig{
		Bucket: "b", Path: "out/", Format: "csv", Compression: "gzip", CSV: &s3.SinkCSVConfig{Header: new(false)},
		PartRows: 10, PartSize: 6 << 20, Profile: "dev", TLS: &s3.TLSConfig{InsecureSkipVerify: true},
	}, `
bucket: b
path: out/
format: csv
compression: gzip
csv: {header: false}
part_rows: 10
part_size: 6MiB
profile: dev
tls: {insecure_skip_verify: true}
`},
	{engine.KindStage, "select", columns.SelectConfig{Drop: []string{"email"}}, "drop: email"},
	{engine.KindStage, "rename", columns.RenameConfig{Columns: []spec.KV{{Key: "b", Value: "x"}, {Key: "a", Value: "y"}}}, "columns: {b: x, a: y}"},
	{engine.KindStage, "wasm", wasm.StageConfig{
		Path: "f.wasm", Config: map[string]any{"column": "amount", "op": ">=", "value": 0.5},
		MemoryLimit: 1 << 20, Timeout: new(time.Duration(0)), MaxModuleBytes: 4096, Interruptible: new(false), Trusted: true,
	}, "path: f.wasm\nconfig: {column: amount, op: \">=\", value: 0.5}\nmemory_limit: 1MiB\ntimeout: 0s\nmax_module_bytes: 4KiB\ninterruptible: false\ntrusted: true\n"},
	{engine.KindSink, "discard", discard.SinkConfig{}, ""},
}

// TestTypedSameAsFile: for every plugin, the configuration its constructor
// receives is the same whether the step comes from the Go value (the
// generated Build path: Environment.Build*) or from a pipeline file (weave's
// config.Parse and config.Build): the same settings, defaults included, and
// the same keys counted as written (Given). The constructors are replaced
// by ones that record what they get, in an environment of the same specs,
// so no connector needs its server.
func TestTypedSameAsFile(t *testing.T) {
	env, got := recordingEnv(t)
	covered := map[string]bool{}
	for _, tt := range sameConfigs {
		key := tt.kind + " " + tt.name
		covered[key] = true
		t.Run(key, func(t *testing.T) {
			if reflect.TypeOf(tt.conf) != reflect.TypeOf(typedConfigs[key]) {
				t.Fatalf("conf is a %T, the plugin's type is %T", tt.conf, typedConfigs[key])
			}
			clear(got)
			f, err := config.Parse([]byte(pipelineWith(tt.kind, tt.name, tt.yaml)), "p.yaml", config.Options{Env: env})
			if err != nil {
				t.Fatalf("the file: %v", err)
			}
			_, _ = config.Build(f, config.Options{Env: env}) // every constructor refuses
			fromFile := got[key]
			if fromFile == nil {
				t.Fatal("the file's step never reached its constructor")
			}
			clear(got)
			switch tt.kind {
			case engine.KindSource:
				_, err = env.BuildSource(tt.name, tt.conf, engine.Build{})
			case engine.KindStage:
				_, err = env.BuildStage(tt.name, tt.conf, engine.Build{})
			default:
				_, err = env.BuildSink(tt.name, tt.conf, engine.Build{})
			}
			fromGo := got[key]
			if fromGo == nil {
				t.Fatalf("the Go value never reached the constructor: %v", err)
			}
			if got, want := fromGo.Values(), fromFile.Values(); !reflect.DeepEqual(got, want) {
				t.Errorf("from Go:\n%#v\nfrom the file:\n%#v", got, want)
			}
			for _, f := range env.Lookup(tt.kind, tt.name).Spec.Fields() {
				if fromGo.Given(f.Name()) != fromFile.Given(f.Name()) {
					t.Errorf("%s: given %v from Go, %v in the file", f.Name(), fromGo.Given(f.Name()), fromFile.Given(f.Name()))
				}
			}
			// The generated Recipe names the same plugin, and its settings as
			// a runner ships them (the YAML node) make the same configuration.
			r := tt.conf.(interface {
				Recipe(engine.Build) *engine.Recipe
			}).Recipe(engine.Build{BatchRows: 7})
			if r.Connector != tt.name || r.BatchRows != 7 || !reflect.DeepEqual(r.Config, tt.conf) {
				t.Fatalf("recipe %+v", r)
			}
			node, err := r.Settings()
			if err != nil {
				t.Fatal(err)
			}
			clear(got)
			switch tt.kind {
			case engine.KindSource:
				_, err = env.BuildSource(tt.name, node, engine.Build{})
			case engine.KindStage:
				_, err = env.BuildStage(tt.name, node, engine.Build{})
			default:
				_, err = env.BuildSink(tt.name, node, engine.Build{})
			}
			if fromRecipe := got[key]; fromRecipe == nil {
				t.Errorf("the recipe's settings never reached the constructor: %v", err)
			} else if got, want := fromRecipe.Values(), fromFile.Values(); !reflect.DeepEqual(got, want) {
				t.Errorf("from the recipe's settings:\n%#v\nfrom the file:\n%#v", got, want)
			}
		})
	}
	for key := range typedConfigs {
		if !covered[key] {
			t.Errorf("%s: no case in sameConfigs", key)
		}
	}
}

var errRecorded = errors.New("recorded")

// recordingEnv registers every default plugin's spec again, with a
// constructor that records the configuration it is given (by "kind name")
// and refuses to build.
func recordingEnv(t *testing.T) (*engine.Environment, map[string]*spec.Parsed) {
	t.Helper()
	env := engine.NewEnvironment()
	got := map[string]*spec.Parsed{}
	for _, p := range engine.DefaultEnvironment().Plugins("") {
		key := p.Kind + " " + p.Spec.Name()
		var err error
		switch p.Kind {
		case engine.KindSource:
			err = env.RegisterSource(p.Spec, func(c *spec.Parsed, _ engine.Build) (engine.Source, error) { got[key] = c; return nil, errRecorded })
		case engine.KindStage:
			err = env.RegisterStage(p.Spec, func(c *spec.Parsed, _ engine.Build) (engine.Stage, error) { got[key] = c; return nil, errRecorded })
		case engine.KindSink:
			err = env.RegisterSink(p.Spec, func(c *spec.Parsed, _ engine.Build) (engine.Sink, error) { got[key] = c; return nil, errRecorded })
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	return env, got
}

// pipelineWith is a pipeline file with the step given as the source, the
// one stage or the one sink, and plain steps around it.
func pipelineWith(kind, name, conf string) string {
	step := func(indent string) string {
		var b strings.Builder
		b.WriteString(name + ":\n")
		for _, line := range strings.Split(strings.TrimSpace(conf), "\n") {
			if line != "" {
				b.WriteString(indent + line + "\n")
			}
		}
		return b.String()
	}
	src, stages, sinks := "source:\n  generate:\n", "", "sinks:\n  - discard:\n"
	switch kind {
	case engine.KindSource:
		src = "source:\n  " + step("    ")
	case engine.KindStage:
		stages = "stages:\n  - " + step("      ")
	default:
		sinks = "sinks:\n  - " + step("      ")
	}
	return src + stages + sinks
}
