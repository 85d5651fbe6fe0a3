package nats

import (
	"context"
	"crypto/tls"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/nats-io/jwt/v2"
	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/nats-io/nkeys"
	"gopkg.in/yaml.v3"

	"github.com/dataweaver/dataweaver/connectors/conformance"
	"github.com/dataweaver/dataweaver/connectors/internal/msgtest"
	"github.com/dataweaver/dataweaver/connectors/internal/natsauth"
	"github.com/dataweaver/dataweaver/connectors/internal/tlsconf/tlstest"
	"github.com/dataweaver/dataweaver/engine"
)

// startSecured runs an in-process nats-server with the given options
// (auth, TLS) on a random local port until t ends, and returns its URL.
func startSecured(t *testing.T, opts *server.Options) (*server.Server, string) {
	t.Helper()
	opts.Host, opts.Port, opts.NoLog, opts.NoSigs = "127.0.0.1", server.RANDOM_PORT, true, true
	srv, err := server.NewServer(opts)
	if err != nil {
		t.Fatal(err)
	}
	go srv.Start()
	if !srv.ReadyForConnections(time.Hour) {
		t.Fatal("nats-server did not start")
	}
	t.Cleanup(func() {
		srv.Shutdown()
		srv.WaitForShutdown()
	})
	return srv, srv.ClientURL()
}

// writeTemp writes a file in a test's temporary directory.
func writeTemp(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// userNKey makes an NKey user and writes its seed to a file.
func userNKey(t *testing.T) (pub, seedFile string) {
	t.Helper()
	kp, err := nkeys.CreateUser()
	if err != nil {
		t.Fatal(err)
	}
	pub, _ = kp.PublicKey()
	seed, _ := kp.Seed()
	return pub, writeTemp(t, "user.nk", string(seed))
}

// operator is a decentralised-auth (JWT) setup: an operator trusted by the
// server, one account it signs, and users of that account as .creds files.
type operator struct {
	claims *jwt.OperatorClaims
	accPub string
	accJWT string
	accKP  nkeys.KeyPair
	sysPub string
	sysJWT string
}

func newOperator(t *testing.T, withJetStream bool) *operator {
	t.Helper()
	okp, _ := nkeys.CreateOperator()
	opub, _ := okp.PublicKey()
	oc := jwt.NewOperatorClaims(opub)
	ojwt, err := oc.Encode(okp)
	if err != nil {
		t.Fatal(err)
	}
	if oc, err = jwt.DecodeOperatorClaims(ojwt); err != nil {
		t.Fatal(err)
	}
	akp, _ := nkeys.CreateAccount()
	apub, _ := akp.PublicKey()
	ac := jwt.NewAccountClaims(apub)
	if withJetStream {
		ac.Limits.JetStreamLimits = jwt.JetStreamLimits{MemoryStorage: -1, DiskStorage: -1, Streams: -1, Consumer: -1}
	}
	ajwt, err := ac.Encode(okp)
	if err != nil {
		t.Fatal(err)
	}
	// A system account: a server in operator mode needs one for JetStream.
	skp, _ := nkeys.CreateAccount()
	spub, _ := skp.PublicKey()
	sjwt, err := jwt.NewAccountClaims(spub).Encode(okp)
	if err != nil {
		t.Fatal(err)
	}
	return &operator{claims: oc, accPub: apub, accJWT: ajwt, accKP: akp, sysPub: spub, sysJWT: sjwt}
}

// options trusts the operator and knows its account.
func (o *operator) options(t *testing.T) *server.Options {
	t.Helper()
	res := &server.MemAccResolver{}
	for pub, jwt := range map[string]string{o.accPub: o.accJWT, o.sysPub: o.sysJWT} {
		if err := res.Store(pub, jwt); err != nil {
			t.Fatal(err)
		}
	}
	return &server.Options{TrustedOperators: []*jwt.OperatorClaims{o.claims}, AccountResolver: res, SystemAccount: o.sysPub}
}

// creds writes a .creds file of a new user of the account.
func (o *operator) creds(t *testing.T) string {
	t.Helper()
	ukp, _ := nkeys.CreateUser()
	upub, _ := ukp.PublicKey()
	uc := jwt.NewUserClaims(upub)
	ujwt, err := uc.Encode(o.accKP)
	if err != nil {
		t.Fatal(err)
	}
	seed, _ := ukp.Seed()
	b, err := jwt.FormatUserConfig(ujwt, seed)
	if err != nil {
		t.Fatal(err)
	}
	return writeTemp(t, "user.creds", string(b))
}

// TestAuth: the sink (core NATS) and so every NATS step, which share the
// connection code, connects to a server requiring each kind of
// authentication and publishes; a wrong credential fails Open at once
// with an error naming the server and the kind of authentication, and
// never the secret.
func TestAuth(t *testing.T) {
	ca := tlstest.New(t)
	serverCert := ca.Server("nats")
	client := ca.Client("weave")
	goodPub, goodSeed := userNKey(t)
	_, otherSeed := userNKey(t)
	op := newOperator(t, false)
	stranger := newOperator(t, false) // its users are signed by an account the server does not trust

	for _, tc := range []struct {
		name string
		opts func() *server.Options
		good string // YAML fields that authenticate
		bad  string // YAML fields that must be refused
		// kind must appear in the refusal; secret must not.
		kind, secret string
	}{
		{
			name: "token", opts: func() *server.Options { return &server.Options{Authorization: "s3cret-token-1"} },
			good: `token: s3cret-token-1`, bad: `token: wrong-token-2`, kind: "with token: the server refused the credentials", secret: "wrong-token-2",
		},
		{
			name: "user and password", opts: func() *server.Options { return &server.Options{Username: "alice", Password: "alice-pw-1"} },
			good: `user: alice, password: alice-pw-1`, bad: `user: alice, password: wrong-pw-2`,
			kind: `with user "alice" and password: the server refused the credentials`, secret: "wrong-pw-2",
		},
		{
			name: "nkey", opts: func() *server.Options { return &server.Options{Nkeys: []*server.NkeyUser{{Nkey: goodPub}}} },
			good: "nkey_file: " + q(goodSeed), bad: "nkey_file: " + q(otherSeed), kind: "with nkey file " + otherSeed + ": the server refused",
		},
		{
			name: "credentials file", opts: func() *server.Options { return op.options(t) },
			good: "credentials_file: " + q(op.creds(t)), bad: "credentials_file: " + q(stranger.creds(t)), kind: "with credentials file " + "",
		},
		{
			name: "tls", opts: func() *server.Options {
				return &server.Options{TLSConfig: ca.ServerConfig(serverCert, false)}
			},
			good: fmt.Sprintf("tls: {ca_file: %q}", ca.File), bad: "tls: {}", kind: "over TLS",
		},
		{
			name: "tls with client certificate and password", opts: func() *server.Options {
				return &server.Options{TLSConfig: ca.ServerConfig(serverCert, true), TLSVerify: true, Username: "bob", Password: "bob-pw-1"}
			},
			good: fmt.Sprintf("user: bob, password: bob-pw-1, tls: {ca_file: %q, cert_file: %q, key_file: %q}", ca.File, client.CertFile, client.KeyFile),
			bad:  fmt.Sprintf("user: bob, password: bob-pw-1, tls: {ca_file: %q}", ca.File),
			kind: `with user "bob" and password over TLS`,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			mem := conformance.Checked(t)
			srv, url := startSecured(t, tc.opts())
			rec := conformance.Sample(mem, conformance.SampleSchema, 0, 5)
			defer rec.Release()
			ctx := context.Background()

			sink := mustSink(t, fmt.Sprintf("{urls: [%s], subject: out.x, jetstream: false, %s}", q(url), tc.good), conformance.Build(mem, 10, "sink"))
			if err := sink.Open(ctx, rec.Schema()); err != nil {
				t.Fatalf("Open: %v", err)
			}
			if err := sink.Write(ctx, rec); err != nil {
				t.Fatal(err)
			}
			if err := sink.Flush(ctx); err != nil {
				t.Fatal(err)
			}
			if err := sink.Close(); err != nil {
				t.Fatal(err)
			}
			vz, err := srv.Varz(nil)
			if err != nil {
				t.Fatal(err)
			}
			if vz.InMsgs != 5 {
				t.Errorf("the server received %d messages, want 5", vz.InMsgs)
			}

			bad := mustSink(t, fmt.Sprintf("{urls: [%s], subject: out.x, jetstream: false, %s}", q(url), tc.bad), conformance.Build(mem, 10, "sink"))
			err = bad.Open(ctx, rec.Schema())
			if err == nil {
				bad.Close()
				t.Fatal("Open with a wrong credential succeeded")
			}
			msg := err.Error()
			t.Logf("refused: %s", msg)
			if !strings.Contains(msg, "connect to "+url) || !strings.Contains(msg, tc.kind) {
				t.Errorf("refusal %q does not name the server %s and %q", msg, url, tc.kind)
			}
			if tc.secret != "" && strings.Contains(msg, tc.secret) {
				t.Errorf("refusal %q quotes the secret", msg)
			}
		})
	}
}

// TestSecuredJetStream: the JetStream sink publishes to, and the
// JetStream source reads from, a server requiring a password and a client
// certificate, and one in operator mode whose account has JetStream (a
// .creds file).
func TestSecuredJetStream(t *testing.T) {
	ca := tlstest.New(t)
	client := ca.Client("weave")
	op := newOperator(t, true)
	creds := op.creds(t)
	for _, tc := range []struct {
		name   string
		opts   func() *server.Options
		auth   string      // the steps' YAML fields
		client nats.Option // the test's own
	}{
		{
			name: "password and client certificate",
			opts: func() *server.Options {
				return &server.Options{TLSConfig: ca.ServerConfig(ca.Server("nats"), true), TLSVerify: true, Username: "carol", Password: "carol-pw-1"}
			},
			auth: fmt.Sprintf("user: carol, password: carol-pw-1, tls: {ca_file: %q, cert_file: %q, key_file: %q}", ca.File, client.CertFile, client.KeyFile),
			client: func(o *nats.Options) error {
				o.User, o.Password = "carol", "carol-pw-1"
				o.Secure, o.TLSConfig = true, &tls.Config{RootCAs: ca.Pool, Certificates: []tls.Certificate{client.Cert}, MinVersion: tls.VersionTLS12}
				return nil
			},
		},
		{
			name: "credentials file", opts: func() *server.Options { return op.options(t) },
			auth: "credentials_file: " + q(creds), client: nats.UserCredentials(creds),
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			mem := conformance.Checked(t)
			opts := tc.opts()
			opts.JetStream, opts.StoreDir = true, t.TempDir()
			_, url := startSecured(t, opts)
			nc, err := nats.Connect(url, tc.client)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(nc.Close)
			js, err := jetstream.New(nc)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := js.CreateStream(context.Background(), jetstream.StreamConfig{Name: "S", Subjects: []string{"in.>"}}); err != nil {
				t.Fatal(err)
			}
			ctx := context.Background()
			rec := conformance.Sample(mem, conformance.SampleSchema, 0, 5)
			defer rec.Release()
			sink := mustSink(t, fmt.Sprintf("{urls: [%s], subject: in.a, %s}", q(url), tc.auth), conformance.Build(mem, 10, "sink"))
			if err := sink.Open(ctx, rec.Schema()); err != nil {
				t.Fatal(err)
			}
			if err := sink.Write(ctx, rec); err != nil {
				t.Fatal(err)
			}
			if err := sink.Flush(ctx); err != nil {
				t.Fatal(err)
			}
			if err := sink.Close(); err != nil {
				t.Fatal(err)
			}
			src := mustSource(t, fmt.Sprintf("{urls: [%s], stream: S, durable: d, stop_at_end: true, schema: %s, %s}",
				q(url), conformance.SchemaYAML(conformance.SampleSchema), tc.auth), conformance.Build(mem, 10, "source"))
			b := msgtest.ReadOneBatch(t, src)
			if b.Record.NumRows() != 5 {
				t.Errorf("read %d rows, want the 5 the sink published", b.Record.NumRows())
			}
			msgtest.AckAndExpectEnd(t, src, b)
		})
	}
}

// TestAuthConfig: one way to authenticate at a time, user with password,
// and no empty value (an unset ${VAR}); URL credentials and the token and
// password fields are secrets, user names and file paths are not.
func TestAuthConfig(t *testing.T) {
	for _, tc := range []struct {
		name, conf, want string
	}{
		{"token and user", "token: t0ken-1, user: u, password: p4ss-1", "give one way to authenticate, not token and user"},
		{"creds and nkey", "credentials_file: a.creds, nkey_file: b.nk", "give one way to authenticate, not credentials_file and nkey_file"},
		{"user alone", "user: u", "give user and password together"},
		{"password alone", "password: p4ss-1", "give user and password together"},
		{"empty token", `token: ""`, "token: is empty (an unset variable?)"},
		{"cert without key", "tls: {cert_file: c.pem}", "give cert_file and key_file together"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := build(t, engine.KindSink, fmt.Sprintf("{subject: x, %s}", tc.conf), conformance.Build(memory.DefaultAllocator, 10, "sink"))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("build: %v, want an error containing %q", err, tc.want)
			}
			if err != nil && (strings.Contains(err.Error(), "t0ken-1") || strings.Contains(err.Error(), "p4ss-1")) {
				t.Errorf("error %q quotes a secret", err)
			}
		})
	}
	var n yaml.Node
	if err := yaml.Unmarshal([]byte(`{subject: x, urls: ["nats://tok-in-url@a:4222", "nats://u:pw-in-url@b:4222", "nats://c:4222"], `+
		`user: someone, password: pw-field, credentials_file: /x.creds}`), &n); err != nil {
		t.Fatal(err)
	}
	p, errs := sinkSpec.Parse(n.Content[0], "p.yaml", "sinks[0].nats")
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	got := p.Secrets()
	slices.Sort(got)
	if want := []string{"pw-field", "pw-in-url", "tok-in-url"}; !slices.Equal(got, want) {
		t.Errorf("secrets %q, want %q", got, want)
	}
	if got := natsauth.DisplayURLs(p.Strings("urls")); got != "nats://[redacted]@a:4222,nats://[redacted]@b:4222,nats://c:4222" {
		t.Errorf("servers are shown as %q", got)
	}
}
