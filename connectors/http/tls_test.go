package http

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dataweaver/dataweaver/connectors/conformance"
	"github.com/dataweaver/dataweaver/engine"
)

// selfSigned writes a certificate for 127.0.0.1 and its key as PEM files.
func selfSigned(t *testing.T) (certFile, keyFile string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "weave test"},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IsCA:         true, BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}), 0o600); err != nil {
		t.Fatal(err)
	}
	return certFile, keyFile
}

// TestTLS: the source serves HTTPS with the configured certificate; the
// sink reaches it when told to trust that certificate (ca_file) and fails
// permanently when not.
func TestTLS(t *testing.T) {
	m := conformance.Checked(t)
	cert, key := selfSigned(t)
	src := mustSource(t, fmt.Sprintf("{address: 127.0.0.1:0, schema: %s, tls: {cert_file: %q, key_file: %q}}",
		conformance.SchemaYAML(conformance.SampleSchema), cert, key), conformance.Build(m, 100, "source"))
	r := startReader(t, src)
	url := "https://" + src.Addr() + "/"

	rec := conformance.Sample(m, conformance.SampleSchema, 0, 5)
	defer rec.Release()
	trusting := openSink(t, m, fmt.Sprintf("{url: %q, codec: arrow, ca_file: %q}", url, cert), nil, conformance.SampleSchema)
	if err := trusting.Write(context.Background(), rec); err != nil {
		t.Fatal(err)
	}
	if n := r.rows(); n != 5 {
		t.Errorf("source read %d rows over TLS, want 5", n)
	}

	doubting := openSink(t, m, fmt.Sprintf("{url: %q}", url), nil, conformance.SampleSchema)
	err := doubting.Write(context.Background(), rec)
	if err == nil || !engine.IsPermanent(err) || !strings.Contains(err.Error(), "ca_file") {
		t.Errorf("untrusted server: %v, want a permanent error suggesting ca_file", err)
	}

	missing := mustSink(t, fmt.Sprintf("{url: %q, ca_file: %q}", url, cert+".gone"), conformance.Build(m, 10, "sink"))
	if err := missing.Open(context.Background(), conformance.SampleSchema); err == nil || !strings.Contains(err.Error(), "ca_file") {
		missing.Close()
		t.Errorf("Open with a missing ca_file: %v", err)
	}
}
