package kafka

import (
	"fmt"
	"slices"
	"testing"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/sr/srfake"

	"github.com/dataweaver/dataweaver/connectors/conformance"
	"github.com/dataweaver/dataweaver/connectors/generate"
	"github.com/dataweaver/dataweaver/connectors/internal/tlsconf/tlstest"
	"github.com/dataweaver/dataweaver/engine/config"
)

// TestSecurePipeline runs the README's Confluent-Cloud-shaped pipeline
// through engine/config: generated orders go to a cluster that takes SASL
// (SCRAM-SHA-512) over TLS only, as Avro registered in a registry behind
// basic authentication; a second pipeline reads them back through the
// same registry. The passwords are the file's secrets, which weave
// redacts from everything it prints.
func TestSecurePipeline(t *testing.T) {
	mem := conformance.Checked(t)
	const kafkaPass, srPass = "kafka-S3cret", "sr-S3cret"
	ca := tlstest.New(t)
	_, brokers := startClusterWith(t, kfake.NumBrokers(1), kfake.SeedTopics(2, "orders"), kfake.EnableSASL(),
		kfake.Superuser(mechScram512, "weave", kafkaPass), kfake.TLS(ca.ServerConfig(ca.Server("kafka"), false)))
	reg := startRegistry(t, srfake.WithAuth(basicAuth("sr-key", srPass)))
	conn := fmt.Sprintf(`brokers: %s
    tls: {ca_file: %q}
    sasl: {mechanism: SCRAM-SHA-512, username: weave, password: %q}
    schema_registry:
      url: %q
      basic_auth: {username: sr-key, password: %q}`, brokers, ca.File, kafkaPass, reg.URL(), srPass)
	write := fmt.Sprintf(`
source:
  generate: {preset: orders, rows: 200}
sinks:
  - kafka:
      topic: orders
      codec: avro
      %s
`, indent(conn, 2))
	f, err := config.Parse([]byte(write), "t.yaml", config.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if s := f.Secrets(); !slices.Contains(s, kafkaPass) || !slices.Contains(s, srPass) {
		t.Errorf("secrets of the file %q, want both passwords", s)
	}
	conformance.RunPipeline(t, mem, write)

	read := fmt.Sprintf(`
batch: {rows: 64, linger: 20ms}
source:
  kafka:
    topics: [orders]
    group: readers
    stop_at_end: true
    codec: avro
    schema: %s
    %s
sinks:
  - discard: {}
`, conformance.SchemaYAML(generate.OrdersSchema), conn)
	m := conformance.RunPipeline(t, mem, read)
	if rows, dead := sourceRows(m), m.Steps[0].DeadLettered.Load()+m.Steps[0].Skipped.Load(); rows != 200 || dead != 0 {
		t.Errorf("read %d rows back (%d rejected), want 200", rows, dead)
	}
}

func indent(s string, n int) string {
	out := []byte{}
	for i := 0; i < len(s); i++ {
		out = append(out, s[i])
		if s[i] == '\n' {
			for range n {
				out = append(out, ' ')
			}
		}
	}
	return string(out)
}
