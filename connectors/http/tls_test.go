package http

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/dataweaver/dataweaver/connectors/conformance"
	"github.com/dataweaver/dataweaver/connectors/internal/tlsconf/tlstest"
	"github.com/dataweaver/dataweaver/engine"
)

// TestTLS: the source serves HTTPS with the configured certificate; the
// sink reaches it when told to trust its CA (tls.ca_file, or the older
// ca_file) and fails permanently when not.
func TestTLS(t *testing.T) {
	m := conformance.Checked(t)
	ca := tlstest.New(t)
	cert := ca.Server("weave")
	src := mustSource(t, fmt.Sprintf("{address: 127.0.0.1:0, schema: %s, tls: {cert_file: %q, key_file: %q}}",
		conformance.SchemaYAML(conformance.SampleSchema), cert.CertFile, cert.KeyFile), conformance.Build(m, 100, "source"))
	r := startReader(t, src)
	url := "https://" + src.Addr() + "/"

	rec := conformance.Sample(m, conformance.SampleSchema, 0, 5)
	defer rec.Release()
	for i, conf := range []string{
		fmt.Sprintf("{url: %q, codec: arrow, tls: {ca_file: %q}}", url, ca.File),
		fmt.Sprintf("{url: %q, codec: arrow, ca_file: %q}", url, ca.File),
	} {
		trusting := openSink(t, m, conf, nil, conformance.SampleSchema)
		if err := trusting.Write(context.Background(), rec); err != nil {
			t.Fatalf("%s: %v", conf, err)
		}
		if n, want := r.rows(), int64(5*(i+1)); n != want {
			t.Errorf("%s: source read %d rows over TLS, want %d", conf, n, want)
		}
	}

	doubting := openSink(t, m, fmt.Sprintf("{url: %q}", url), nil, conformance.SampleSchema)
	err := doubting.Write(context.Background(), rec)
	if err == nil || !engine.IsPermanent(err) || !strings.Contains(err.Error(), "tls.ca_file") {
		t.Errorf("untrusted server: %v, want a permanent error suggesting tls.ca_file", err)
	}

	for _, conf := range []string{
		fmt.Sprintf("{url: %q, ca_file: %q}", url, ca.File+".gone"),
		fmt.Sprintf("{url: %q, tls: {ca_file: %q}}", url, ca.File+".gone"),
	} {
		missing := mustSink(t, conf, conformance.Build(m, 10, "sink"))
		if err := missing.Open(context.Background(), conformance.SampleSchema); err == nil || !strings.Contains(err.Error(), "ca_file") {
			missing.Close()
			t.Errorf("Open with a missing ca_file (%s): %v", conf, err)
		}
	}
	if _, err := conformance.BuildStep(t, engine.KindSink, "http", fmt.Sprintf("{url: %q, ca_file: a.pem, tls: {ca_file: b.pem}}", url), conformance.Build(m, 10, "sink")); err == nil ||
		!strings.Contains(err.Error(), "give tls.ca_file only") {
		t.Errorf("ca_file and tls.ca_file together: %v", err)
	}
}

// TestTLSClientCertificates: with tls.client_ca_file the source serves only
// clients presenting a certificate its CA signed (the others' rows are not
// taken); the sink presents one with tls.cert_file and key_file.
func TestTLSClientCertificates(t *testing.T) {
	m := conformance.Checked(t)
	ca := tlstest.New(t)
	other := tlstest.New(t)
	cert := ca.Server("weave")
	src := mustSource(t, fmt.Sprintf("{address: 127.0.0.1:0, schema: %s, tls: {cert_file: %q, key_file: %q, client_ca_file: %q}}",
		conformance.SchemaYAML(conformance.SampleSchema), cert.CertFile, cert.KeyFile, ca.File), conformance.Build(m, 100, "source"))
	r := startReader(t, src)
	url := "https://" + src.Addr() + "/"
	rec := conformance.Sample(m, conformance.SampleSchema, 0, 5)
	defer rec.Release()

	client := ca.Client("weave")
	ok := openSink(t, m, fmt.Sprintf("{url: %q, codec: arrow, tls: {ca_file: %q, cert_file: %q, key_file: %q}}",
		url, ca.File, client.CertFile, client.KeyFile), nil, conformance.SampleSchema)
	if err := ok.Write(context.Background(), rec); err != nil {
		t.Fatal(err)
	}
	if n := r.rows(); n != 5 {
		t.Errorf("source read %d rows from a client with a certificate, want 5", n)
	}

	stranger := other.Client("stranger")
	for name, conf := range map[string]string{
		"no certificate":            fmt.Sprintf("{url: %q, codec: arrow, tls: {ca_file: %q}}", url, ca.File),
		"certificate of another CA": fmt.Sprintf("{url: %q, codec: arrow, tls: {ca_file: %q, cert_file: %q, key_file: %q}}", url, ca.File, stranger.CertFile, stranger.KeyFile),
	} {
		refused := openSink(t, m, conf, nil, conformance.SampleSchema)
		ctx, cancel := context.WithCancel(context.Background())
		err := refused.Write(ctx, rec)
		cancel()
		// With TLS 1.3 the server checks the client's certificate after
		// the client has finished its handshake: the client sees a TLS
		// alert, or a connection broken while it sends the request.
		if err == nil {
			t.Errorf("%s: Write succeeded", name)
		}
	}
	if n := r.rows(); n != 5 {
		t.Errorf("source read %d rows, want only the 5 from the client with a certificate", n)
	}
}
