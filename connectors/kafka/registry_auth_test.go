package kafka

import (
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"log"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/twmb/franz-go/pkg/sr/srfake"

	"github.com/dataweaver/dataweaver/connectors/conformance"
	"github.com/dataweaver/dataweaver/connectors/internal/tlsconf/tlstest"
)

// TestRegistryAuth: the sink reaches a registry that requires basic
// authentication or a bearer token with the right credentials; with a
// wrong one it fails to open, and the error does not hold the secret.
func TestRegistryAuth(t *testing.T) {
	const user, pass, token = "sr-key", "sr-S3cret!", "tok-S3cret"
	basic := basicAuth(user, pass)
	for _, tc := range []struct {
		name, expect, auth, secret string
		ok                         bool
	}{
		{"basic", basic, fmt.Sprintf("basic_auth: {username: %s, password: %q}", user, pass), pass, true},
		{"basic, wrong password", basic, fmt.Sprintf("basic_auth: {username: %s, password: %q}", user, "wrong-"+pass), "wrong-" + pass, false},
		{"bearer", "Bearer " + token, fmt.Sprintf("bearer_token: %q", token), token, true},
		{"bearer, wrong token", "Bearer " + token, fmt.Sprintf("bearer_token: %q", "x"+token), "x" + token, false},
		{"none given", basic, "", "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			mem := conformance.Checked(t)
			brokers := startCluster(t, 1, "t")
			reg := startRegistry(t, srfake.WithAuth(tc.expect))
			rec := conformance.Sample(mem, v1Schema, 0, 5)
			defer rec.Release()
			sink := mustSink(t, fmt.Sprintf("{brokers: %s, topic: t, codec: avro, schema_registry: {url: %q, %s}}", brokers, reg.URL(), tc.auth),
				conformance.Build(mem, 10, "sink"))
			err := sink.Open(context.Background(), rec.Schema())
			if err == nil {
				sink.Close()
			}
			switch {
			case tc.ok && err != nil:
				t.Fatal(err)
			case !tc.ok && err == nil:
				t.Fatal("sink opened")
			case !tc.ok:
				t.Log(err)
				if msg := err.Error(); !strings.Contains(msg, reg.URL()) || !strings.Contains(msg, `"t-value"`) ||
					(tc.secret != "" && strings.Contains(msg, tc.secret)) {
					t.Errorf("error %q: want the registry and subject named, and not the secret", msg)
				}
			}
		})
	}
}

// basicAuth is the Authorization header of HTTP basic authentication.
func basicAuth(user, pass string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+pass))
}

// TestRegistrySubjects: the strategies name the subject the schema goes
// under, auto_register: false finds a schema registered before and fails
// on one that is not, and the source reads what such a sink wrote.
func TestRegistrySubjects(t *testing.T) {
	mem := conformance.Checked(t)
	brokers := startCluster(t, 1, "t")
	reg := startRegistry(t)
	rec := conformance.Sample(mem, v1Schema, 0, 5)
	defer rec.Release()
	open := func(extra string) error {
		sink := mustSink(t, fmt.Sprintf("{brokers: %s, topic: t, codec: avro, schema_registry: {url: %q, %s}}", brokers, reg.URL(), extra),
			conformance.Build(mem, 10, "sink"))
		err := sink.Open(context.Background(), rec.Schema())
		if err == nil {
			sink.Close()
		}
		return err
	}
	if err := open("auto_register: false"); err == nil || !strings.Contains(err.Error(), `not registered under subject "t-value"`) {
		t.Fatalf("auto_register: false with nothing registered: %v", err)
	}
	for _, tc := range []struct{ conf, subject string }{
		{"subject_strategy: topic_name", "t-value"},
		{"subject_strategy: record_name, record_name: shop.v1.Order", "shop.v1.Order"},
		{"subject_strategy: topic_record_name, record_name: shop.v1.Order", "t-shop.v1.Order"},
	} {
		if err := open(tc.conf); err != nil {
			t.Fatalf("%s: %v", tc.conf, err)
		}
		if !reg.SubjectExists(tc.subject) {
			t.Errorf("%s: no subject %s", tc.conf, tc.subject)
		}
		if err := open(tc.conf + ", auto_register: false"); err != nil {
			t.Errorf("%s, auto_register: false, after registering: %v", tc.conf, err)
		}
	}
	if _, err := build(t, "sink", fmt.Sprintf("{topic: t, codec: avro, schema_registry: {url: %q, subject_strategy: record_name}}", reg.URL()),
		conformance.Build(mem, 10, "sink")); err == nil || !strings.Contains(err.Error(), "record_name") {
		t.Errorf("record_name strategy without record_name: %v", err)
	}
	writeRows(t, mem, fmt.Sprintf("{brokers: %s, topic: t, codec: avro, schema_registry: {url: %q, auto_register: false}}", brokers, reg.URL()), rec)
	got := conformance.ReadAll(t, registrySource(t, mem, brokers, reg.URL(), "codec: avro, schema: "+conformance.SchemaYAML(v1Schema)), 100, false)
	defer conformance.Release(got)
	conformance.EqualRows(t, rec, got)
}

// TestRegistryTLS: schema_registry.tls trusts the registry's certificate
// through ca_file; a registry whose certificate another CA signed fails
// the sink's Open with the x509 error.
func TestRegistryTLS(t *testing.T) {
	mem := conformance.Checked(t)
	brokers := startCluster(t, 1, "t")
	ca, other := tlstest.New(t), tlstest.New(t)
	reg := srfake.NewRegistry()
	srv := httptest.NewUnstartedServer(reg.Handler())
	srv.TLS = ca.ServerConfig(ca.Server("registry"), false)
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the refused handshake is expected
	srv.StartTLS()
	t.Cleanup(srv.Close)
	rec := conformance.Sample(mem, v1Schema, 0, 5)
	defer rec.Release()
	for _, tc := range []struct {
		caFile string
		ok     bool
	}{{ca.File, true}, {other.File, false}} {
		sink := mustSink(t, fmt.Sprintf("{brokers: %s, topic: t, codec: avro, schema_registry: {url: %q, tls: {ca_file: %q}}}", brokers, srv.URL, tc.caFile),
			conformance.Build(mem, 10, "sink"))
		err := sink.Open(context.Background(), rec.Schema())
		if err == nil {
			sink.Close()
		}
		if tc.ok != (err == nil) || (err != nil && !strings.Contains(err.Error(), "x509")) {
			t.Errorf("ca_file %s: Open: %v, want ok %v (else an x509 error)", tc.caFile, err, tc.ok)
		}
	}
	if !reg.SubjectExists("t-value") {
		t.Error("nothing registered over TLS")
	}
}

// TestRegistryConfigErrors: settings that cannot work with a registry
// fail when the step is built, naming what to change.
func TestRegistryConfigErrors(t *testing.T) {
	mem := conformance.Checked(t)
	const url = `"http://127.0.0.1:1"`
	for _, tc := range []struct{ kind, conf, want string }{
		{"source", "{topics: [t], group: g, codec: avro, schema_registry: {url: " + url + "}}", "avro.schema, avro.schema_file or schema"},
		{"source", "{topics: [t], group: g, codec: avro, avro: {encoding: single_object, schema: '\"long\"'}, schema_registry: {url: " + url + "}}", "single_object"},
		{"source", "{topics: [t], group: g, schema: {id: int64}, schema_registry: {url: " + url + ", bearer_token: abcdefgh, basic_auth: {username: u, password: p}}}", "not both"},
		{"sink", "{topic: t, codec: protobuf, protobuf: {message: dw.test.v1.Order, descriptor_set: ../../codec/testdata/row_noimports.binpb}, schema_registry: {url: " + url + "}}", "proto_file"},
		{"sink", "{topic: t, codec: avro, avro: {encoding: single_object}, schema_registry: {url: " + url + "}}", "single_object"},
		{"sink", "{topic: t, schema_registry: {url: " + url + ", subject_strategy: topic_record_name}}", "record_name"},
	} {
		_, err := build(t, tc.kind, tc.conf, conformance.Build(mem, 10, tc.kind))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s %s: %v, want an error naming %q", tc.kind, tc.conf, err, tc.want)
		}
	}
}
