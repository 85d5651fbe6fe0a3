// Package s3test runs a throw-away S3-compatible server for tests:
// versitygw (github.com/versity/versitygw, Apache-2.0) with its posix
// backend in a temporary directory, on a free port of 127.0.0.1. One
// server serves a whole test binary; tests call [Bucket] for a fresh
// bucket of their own, and TestMain calls [Stop] after m.Run.
//
// # Where the server comes from
//
// `go install github.com/versity/versitygw/cmd/versitygw@` [Version] into
// a directory of the user's cache (DW_VERSITYGW names a binary to use
// instead). The first run compiles it (about 90 s of CPU); later runs find
// it built, and go install's own cache makes a rebuild cheap. It runs as a
// process rather than inside the test binary: versitygw's posix backend
// chdirs the process into its root directory and resolves buckets against
// the working directory, and its embedded gateway (embedgw) allows one
// instance per process. Building it with go install also keeps its
// dependencies (an Azure SDK, an HTTP framework, LDAP and Vault clients)
// out of this module's go.mod.
//
// Outside CI, tests skip until the binary is built (`make s3-server`):
// its first build takes longer than make test's budget leaves. Under
// CI=true they build it when it is missing and fail when it cannot be
// built.
package s3test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/dataweaver/dataweaver/internal/testenv"
)

// Version is the versitygw release the tests run.
const Version = "v1.8.0"

// Credentials of the server's root account.
const (
	AccessKey = "dwtestaccess"
	SecretKey = "dwtestsecret-not-a-real-one"
	Region    = "us-east-1"
)

// Server is a running versitygw.
type Server struct {
	// Endpoint is its URL, http://127.0.0.1:port.
	Endpoint string
	dir      string
	cmd      *exec.Cmd
	done     chan struct{}
}

var (
	once    sync.Once
	shared  *Server
	initErr error
	buckets atomic.Int64
)

// errBuild marks a binary that could not be built.
var errBuild = errors.New("versitygw could not be built")

// Shared returns the test binary's server, starting it on first use. It
// skips t when the server cannot be built (fails under CI=true).
func Shared(t testing.TB) *Server {
	t.Helper()
	if _, built := binaryPath(); !built && !testenv.CI() {
		// Building it takes about 90 s of CPU, more than make test's
		// budget leaves: a newcomer's make test skips, naming the command;
		// CI builds it first (.ci/run) and fails if it cannot.
		t.Skipf("the s3 tests need the versitygw S3 server %s, not built on this machine: run `make s3-server` once (go install, about 90 s of CPU), or set DW_VERSITYGW to a versitygw binary", Version)
	}
	once.Do(func() { shared, initErr = Start() })
	if errors.Is(initErr, errBuild) {
		testenv.Missing(t, "%v", initErr)
	}
	if initErr != nil {
		t.Fatalf("s3test: %v", initErr)
	}
	return shared
}

// Stop stops the shared server, if it was started, and removes its data.
func Stop() {
	if shared != nil {
		shared.Stop()
	}
}

// Bucket creates an empty bucket on the shared server and returns its
// name.
func Bucket(t testing.TB) string {
	t.Helper()
	s := Shared(t)
	name := fmt.Sprintf("t%d-%d", os.Getpid(), buckets.Add(1))
	if _, err := s.Client().CreateBucket(context.Background(), &s3.CreateBucketInput{Bucket: aws.String(name)}); err != nil {
		t.Fatalf("s3test: create bucket %s: %v", name, err)
	}
	return name
}

// Client is an S3 client of the server's root account, for tests to put
// and get objects with.
func (s *Server) Client() *s3.Client {
	return s3.New(s3.Options{
		Region:       Region,
		BaseEndpoint: aws.String(s.Endpoint),
		UsePathStyle: true,
		Credentials:  credentials.NewStaticCredentialsProvider(AccessKey, SecretKey, ""),
	})
}

// Config is the connection part of an s3 source or sink configuration for
// bucket, as YAML flow mapping entries (no braces).
func (s *Server) Config(bucket string) string {
	return ConfigAt(s.Endpoint, bucket)
}

// ConfigAt is Config for another endpoint in front of the server (a
// counting proxy).
func ConfigAt(endpoint, bucket string) string {
	return fmt.Sprintf("bucket: %s, endpoint: %q, force_path_style: true, region: %s, access_key_id: %s, secret_access_key: %s",
		bucket, endpoint, Region, AccessKey, SecretKey)
}

// Binary returns the versitygw binary, building it when needed (see the
// package doc). CI calls it through cmd/versitygw before make test, so the
// first build is not timed as part of the suite.
func Binary() (string, error) {
	bin, built := binaryPath()
	if built {
		return bin, nil
	}
	dir := filepath.Dir(bin)
	goBin, err := exec.LookPath("go")
	if err != nil {
		return "", fmt.Errorf("%w: no go command on PATH to build it with; install Go, or set DW_VERSITYGW to a versitygw %s binary", errBuild, Version)
	}
	// Into a temporary name, then renamed: test binaries building at the
	// same time never run a half-written file.
	tmp, err := os.MkdirTemp(filepath.Dir(dir), "build")
	if err != nil {
		if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
			return "", err
		}
		if tmp, err = os.MkdirTemp(filepath.Dir(dir), "build"); err != nil {
			return "", err
		}
	}
	defer os.RemoveAll(tmp)
	cmd := exec.Command(goBin, "install", "github.com/versity/versitygw/cmd/versitygw@"+Version)
	// Outside this module, with its own go.mod: GOFLAGS such as -mod
	// must not apply to it.
	cmd.Dir = tmp
	cmd.Env = append(os.Environ(), "GOBIN="+tmp, "GOFLAGS=", "GOWORK=off")
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("%w: go install github.com/versity/versitygw/cmd/versitygw@%s: %v\n%s", errBuild, Version, err, out)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	if err := os.Rename(filepath.Join(tmp, "versitygw"), bin); err != nil {
		return "", err
	}
	return bin, nil
}

// binaryPath is where the versitygw binary is (DW_VERSITYGW, else the
// user cache) and whether it is there.
func binaryPath() (string, bool) {
	if p := os.Getenv("DW_VERSITYGW"); p != "" {
		return p, true
	}
	cache, err := os.UserCacheDir()
	if err != nil {
		cache = os.TempDir()
	}
	bin := filepath.Join(cache, "dataweaver", "versitygw-"+Version, "versitygw")
	_, err = os.Stat(bin)
	return bin, err == nil
}

// Start builds (when needed) and starts a server; Stop removes it.
func Start() (*Server, error) {
	bin, err := Binary()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "dws3")
	if err != nil {
		return nil, err
	}
	root := filepath.Join(dir, "root")
	if err := os.Mkdir(root, 0o755); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	// A port found free may be taken before the server binds it: retry.
	for attempt := 0; ; attempt++ {
		var s *Server
		if s, err = start(bin, dir, root); err == nil {
			return s, nil
		}
		if attempt == 2 {
			break
		}
	}
	os.RemoveAll(dir)
	return nil, err
}

func start(bin, dir, root string) (*Server, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	// The sidecar keeps the metadata (ETags, uploads) out of extended
	// attributes, which tmpfs and overlay filesystems may not offer.
	sidecar := filepath.Join(dir, fmt.Sprintf("meta-%d", port))
	if err := os.Mkdir(sidecar, 0o755); err != nil {
		return nil, err
	}
	log, err := os.Create(filepath.Join(dir, fmt.Sprintf("server-%d.log", port)))
	if err != nil {
		return nil, err
	}
	defer log.Close()
	cmd := exec.Command(bin, "--access", AccessKey, "--secret", SecretKey, "--region", Region,
		"--port", addr, "--quiet", "posix", "--sidecar", sidecar, root)
	cmd.Dir = dir
	cmd.Stdout, cmd.Stderr = log, log
	cmd.SysProcAttr = sysProcAttr()
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	s := &Server{Endpoint: "http://" + addr, dir: dir, cmd: cmd, done: make(chan struct{})}
	go func() { cmd.Wait(); close(s.done) }()
	// Ready when it accepts a connection; it binds once set up.
	for {
		select {
		case <-s.done:
			out, _ := os.ReadFile(log.Name())
			return nil, fmt.Errorf("versitygw exited at start: %s\n%s", cmd.ProcessState, strings.TrimSpace(string(out)))
		default:
		}
		if c, err := net.Dial("tcp", addr); err == nil {
			c.Close()
			return s, nil
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Stop kills the server and removes its data.
func (s *Server) Stop() {
	s.cmd.Process.Kill()
	<-s.done
	os.RemoveAll(s.dir)
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
