// Package tlstest makes a throw-away certificate authority and certificates
// signed by it, written as PEM files, for tests of TLS between connectors
// and the real servers the tests start.
package tlstest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"
)

// CA is a certificate authority living in a test's temporary directory.
type CA struct {
	// File is the CA certificate as a PEM file (a client's ca_file).
	File string
	// Pool holds the CA certificate (a server's ClientCAs).
	Pool *x509.CertPool

	t    testing.TB
	dir  string
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
}

var serial atomic.Int64

// New makes a CA.
func New(t testing.TB) *CA {
	t.Helper()
	key := newKey(t)
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(serial.Add(1)),
		Subject:               pkix.Name{CommonName: "weave test CA"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		IsCA:                  true,
		BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	ca := &CA{t: t, dir: t.TempDir(), cert: cert, key: key, Pool: x509.NewCertPool()}
	ca.Pool.AddCert(cert)
	ca.File = ca.write("ca.pem", "CERTIFICATE", der)
	return ca
}

// Pair is a certificate and its key as PEM files, and loaded.
type Pair struct {
	CertFile, KeyFile string
	Cert              tls.Certificate
}

// Server makes a server certificate for 127.0.0.1, ::1 and localhost plus
// the given names.
func (ca *CA) Server(name string, hosts ...string) Pair {
	return ca.issue(name, x509.ExtKeyUsageServerAuth, append([]string{"localhost", "127.0.0.1", "::1"}, hosts...))
}

// Client makes a client certificate whose common name is user.
func (ca *CA) Client(user string) Pair {
	return ca.issue(user, x509.ExtKeyUsageClientAuth, nil)
}

// ServerConfig is a TLS configuration for a test server presenting p; with
// clientAuth it requires a client certificate signed by the CA.
func (ca *CA) ServerConfig(p Pair, clientAuth bool) *tls.Config {
	c := &tls.Config{Certificates: []tls.Certificate{p.Cert}, MinVersion: tls.VersionTLS12}
	if clientAuth {
		c.ClientAuth = tls.RequireAndVerifyClientCert
		c.ClientCAs = ca.Pool
	}
	return c
}

func (ca *CA) issue(cn string, usage x509.ExtKeyUsage, hosts []string) Pair {
	t := ca.t
	t.Helper()
	key := newKey(t)
	n := serial.Add(1)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(n),
		Subject:      pkix.Name{CommonName: cn},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
		ExtKeyUsage:  []x509.ExtKeyUsage{usage},
	}
	for _, h := range hosts {
		if ip := net.ParseIP(h); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else {
			tmpl.DNSNames = append(tmpl.DNSNames, h)
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	base := cn + "-" + big.NewInt(n).String()
	p := Pair{
		CertFile: ca.write(base+".pem", "CERTIFICATE", der),
		KeyFile:  ca.write(base+".key", "PRIVATE KEY", kder),
	}
	p.Cert, err = tls.LoadX509KeyPair(p.CertFile, p.KeyFile)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func (ca *CA) write(name, typ string, der []byte) string {
	path := filepath.Join(ca.dir, name)
	// 0600: Postgres refuses a key file others can read.
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
		ca.t.Fatal(err)
	}
	return path
}

func newKey(t testing.TB) *ecdsa.PrivateKey {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return key
}
