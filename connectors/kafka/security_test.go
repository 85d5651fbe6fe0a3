package kafka

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/dataweaver/dataweaver/connectors/conformance"
	"github.com/dataweaver/dataweaver/connectors/internal/tlsconf/tlstest"
)

const testPassword = "s3cr3t-Pa55"

// TestSecureConnections runs a sink and a source against kfake clusters
// that require SASL, TLS or both: with the right credentials and CA the
// rows go through; a wrong password or an untrusted server certificate
// fails Open with an error naming the broker and the mechanism, never the
// password.
func TestSecureConnections(t *testing.T) {
	ca := tlstest.New(t)
	serverTLS := ca.ServerConfig(ca.Server("kafka"), false)
	mutualTLS := ca.ServerConfig(ca.Server("kafka"), true)
	client := ca.Client("weave")
	other := tlstest.New(t)
	for _, tc := range []struct {
		name    string
		cluster []kfake.Opt
		conf    string // the connectors' tls and sasl settings
		wantErr []string
	}{
		{name: "plain over tls", cluster: []kfake.Opt{kfake.EnableSASL(), kfake.Superuser(mechPlain, "weave", testPassword), kfake.TLS(serverTLS)},
			conf: fmt.Sprintf("tls: {ca_file: %q}, sasl: {mechanism: PLAIN, username: weave, password: %q}", ca.File, testPassword)},
		{name: "scram-sha-256", cluster: []kfake.Opt{kfake.EnableSASL(), kfake.Superuser(mechScram256, "weave", testPassword)},
			conf: fmt.Sprintf("sasl: {mechanism: SCRAM-SHA-256, username: weave, password: %q}", testPassword)},
		{name: "scram-sha-512 over tls", cluster: []kfake.Opt{kfake.EnableSASL(), kfake.Superuser(mechScram512, "weave", testPassword), kfake.TLS(serverTLS)},
			conf: fmt.Sprintf("tls: {ca_file: %q}, sasl: {mechanism: SCRAM-SHA-512, username: weave, password: %q}", ca.File, testPassword)},
		{name: "tls only", cluster: []kfake.Opt{kfake.TLS(serverTLS)}, conf: fmt.Sprintf("tls: {ca_file: %q}", ca.File)},
		{name: "wrong password", cluster: []kfake.Opt{kfake.EnableSASL(), kfake.Superuser(mechScram256, "weave", "the-right-one")},
			conf:    fmt.Sprintf("sasl: {mechanism: SCRAM-SHA-256, username: weave, password: %q}", testPassword),
			wantErr: []string{"SCRAM-SHA-256", `"weave"`, "127.0.0.1:", "check mechanism, username and password"}},
		{name: "wrong mechanism", cluster: []kfake.Opt{kfake.EnableSASL(), kfake.Superuser(mechScram512, "weave", testPassword)},
			conf:    fmt.Sprintf("sasl: {mechanism: PLAIN, username: weave, password: %q}", testPassword),
			wantErr: []string{"PLAIN", "127.0.0.1:"}},
		{name: "mutual tls", cluster: []kfake.Opt{kfake.TLS(mutualTLS)},
			conf: fmt.Sprintf("tls: {ca_file: %q, cert_file: %q, key_file: %q}", ca.File, client.CertFile, client.KeyFile)},
		{name: "mutual tls without a client certificate", cluster: []kfake.Opt{kfake.TLS(mutualTLS)}, conf: fmt.Sprintf("tls: {ca_file: %q}", ca.File),
			wantErr: []string{"over TLS", "certificate", "127.0.0.1:"}},
		{name: "untrusted server certificate", cluster: []kfake.Opt{kfake.TLS(serverTLS)}, conf: fmt.Sprintf("tls: {ca_file: %q}", other.File),
			wantErr: []string{"over TLS", "certificate", "127.0.0.1:"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			mem := conformance.Checked(t)
			_, brokers := startClusterWith(t, append(tc.cluster, kfake.NumBrokers(1), kfake.SeedTopics(1, "t"))...)
			rec := conformance.Sample(mem, conformance.SampleSchema, 0, 10)
			defer rec.Release()
			ctx := context.Background()
			sinkConf := fmt.Sprintf("{brokers: %s, topic: t, %s}", brokers, tc.conf)
			if tc.wantErr == nil {
				writeRows(t, mem, sinkConf, rec)
				src := mustSource(t, fmt.Sprintf("{brokers: %s, topics: [t], group: g, stop_at_end: true, schema: {id: int64}, %s}", brokers, tc.conf),
					conformance.Build(mem, 10, "source"))
				got := conformance.ReadAll(t, src, 10, true)
				defer conformance.Release(got)
				if n := totalRows(got); n != 10 {
					t.Errorf("read %d rows back, want 10", n)
				}
				return
			}
			sink := mustSink(t, sinkConf, conformance.Build(mem, 10, "sink"))
			if err := sink.Open(ctx, rec.Schema()); err == nil {
				sink.Close()
				t.Fatal("sink opened")
			} else {
				checkSecureErr(t, err, tc.wantErr)
			}
			src := mustSource(t, fmt.Sprintf("{brokers: %s, topics: [t], group: g, schema: {id: int64}, %s}", brokers, tc.conf),
				conformance.Build(mem, 10, "source"))
			if _, err := src.Open(ctx); err == nil {
				src.Close()
				t.Fatal("source opened")
			} else {
				checkSecureErr(t, err, tc.wantErr)
			}
		})
	}
}

func checkSecureErr(t *testing.T, err error, want []string) {
	t.Helper()
	msg := err.Error()
	for _, w := range want {
		if !strings.Contains(msg, w) {
			t.Errorf("error %q does not name %q", msg, w)
		}
	}
	if strings.Contains(msg, testPassword) {
		t.Errorf("error holds the password: %q", msg)
	}
}
