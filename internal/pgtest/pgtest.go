// Package pgtest runs a throw-away PostgreSQL cluster for tests: initdb in
// a temporary directory, a server on a free port of 127.0.0.1 (and a unix
// socket in the same directory), trust authentication, fsync off,
// wal_level=logical (for the CDC source's replication slots), and TLS
// offered with a certificate signed by a CA the harness generates
// ([Server.CAFile]; the DSNs it hands out say sslmode=disable). One
// cluster serves a whole test binary (initdb takes seconds; a database
// takes milliseconds): tests call [DB] for a fresh database of their own,
// and TestMain calls [Stop] after m.Run.
//
// # Where the server comes from
//
// Debian's postgresql package: /usr/lib/postgresql/<version>/bin (the
// newest version found), or the directory in DW_PG_BIN. When there is
// none, tests skip with the command that installs it, and fail under
// CI=true, where a skipped database test would pass unnoticed.
//
// # Running as root
//
// initdb and postgres refuse to run as root. As root the harness runs
// them as the postgres user when it exists (the Debian package creates
// it), otherwise as a dwtest user it creates with useradd, and hands the
// cluster's directory to that user.
package pgtest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/dataweaver/dataweaver/internal/testenv"
)

// InstallHint is the message a test skips (or, under CI, fails) with when
// PostgreSQL is not installed.
const InstallHint = "install PostgreSQL: apt-get update && apt-get install -y postgresql"

// Server is a running throw-away cluster.
type Server struct {
	dir, data, bin string
	runAs          string // user to run the server binaries as; "" for ourselves
	Port           int
}

var (
	once    sync.Once
	shared  *Server
	initErr error
	dbs     atomic.Int64
)

// errMissing marks the absence of the server binaries.
var errMissing = errors.New(InstallHint)

// Shared returns the test binary's cluster, starting it on first use. It
// skips t when PostgreSQL is not installed (fails under CI=true).
func Shared(t testing.TB) *Server {
	t.Helper()
	once.Do(func() { shared, initErr = Start() })
	if errors.Is(initErr, errMissing) {
		testenv.Missing(t, "%s", InstallHint)
	}
	if initErr != nil {
		t.Fatalf("pgtest: %v", initErr)
	}
	return shared
}

// DB creates an empty database on the shared cluster and returns its
// connection string.
func DB(t testing.TB) string {
	t.Helper()
	s := Shared(t)
	name := fmt.Sprintf("t%d_%d", os.Getpid(), dbs.Add(1))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, s.DSN("postgres"))
	if err != nil {
		t.Fatalf("pgtest: connect: %v", err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	return s.DSN(name)
}

// Exec runs statements on dsn over a connection of its own, failing t on
// the first error.
func Exec(t testing.TB, dsn string, sqls ...string) {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	for _, q := range sqls {
		if _, err := conn.Exec(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
}

// Stop stops the shared cluster, if it was started, and removes it.
func Stop() {
	if shared != nil {
		shared.Stop()
	}
}

// DSN is the connection string for database db.
func (s *Server) DSN(db string) string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/%s?sslmode=disable", s.Port, db)
}

// binDir finds the newest Debian PostgreSQL installation.
func binDir() (string, error) {
	if d := os.Getenv("DW_PG_BIN"); d != "" {
		return d, nil
	}
	found, _ := filepath.Glob("/usr/lib/postgresql/*/bin/initdb")
	if len(found) == 0 {
		if p, err := exec.LookPath("initdb"); err == nil {
			return filepath.Dir(p), nil
		}
		return "", errMissing
	}
	sort.Slice(found, func(i, j int) bool { return version(found[i]) > version(found[j]) })
	return filepath.Dir(found[0]), nil
}

func version(initdb string) int {
	v, _ := strconv.Atoi(filepath.Base(filepath.Dir(filepath.Dir(initdb))))
	return v
}

// Start creates and starts a cluster; Stop removes it.
func Start() (*Server, error) {
	bin, err := binDir()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "dwpg")
	if err != nil {
		return nil, err
	}
	s := &Server{dir: dir, data: filepath.Join(dir, "data"), bin: bin}
	if err := writeCerts(dir); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	if os.Geteuid() == 0 {
		if s.runAs, err = unprivilegedUser(); err != nil {
			os.RemoveAll(dir)
			return nil, err
		}
		if err := chown(dir, s.runAs, caFile, certFile, keyFile); err != nil {
			os.RemoveAll(dir)
			return nil, err
		}
	}
	if out, err := s.run("initdb", "-D", s.data, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--locale=C", "--no-sync"); err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("initdb: %v\n%s", err, out)
	}
	// A port found free may be taken before the server binds it: retry.
	for attempt := 0; ; attempt++ {
		if s.Port, err = freePort(); err != nil {
			break
		}
		opts := fmt.Sprintf("-p %d -k %s -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200"+
			" -c wal_level=logical -c max_replication_slots=50 -c max_wal_senders=50"+
			" -c ssl=on -c ssl_cert_file=%s -c ssl_key_file=%s",
			s.Port, dir, filepath.Join(dir, certFile), filepath.Join(dir, keyFile))
		var out []byte
		out, err = s.run("pg_ctl", "-D", s.data, "-l", filepath.Join(dir, "server.log"), "-o", opts, "-w", "-t", "60", "start")
		if err == nil {
			return s, nil
		}
		log, _ := os.ReadFile(filepath.Join(dir, "server.log"))
		err = fmt.Errorf("pg_ctl start: %v\n%s\n%s", err, out, log)
		if attempt == 2 {
			break
		}
	}
	os.RemoveAll(dir)
	return nil, err
}

// Stop stops the server at once (the data is thrown away) and removes the
// cluster's directory.
func (s *Server) Stop() {
	_, _ = s.run("pg_ctl", "-D", s.data, "-m", "immediate", "-w", "stop")
	os.RemoveAll(s.dir)
}

func (s *Server) run(tool string, args ...string) ([]byte, error) {
	path := filepath.Join(s.bin, tool)
	var cmd *exec.Cmd
	if s.runAs != "" {
		cmd = exec.Command("runuser", append([]string{"-u", s.runAs, "--", path}, args...)...)
	} else {
		cmd = exec.Command(path, args...)
	}
	cmd.Dir = s.dir
	return cmd.CombinedOutput()
}

// unprivilegedUser returns postgres when it exists, else dwtest, creating
// it when needed.
func unprivilegedUser() (string, error) {
	for _, name := range []string{"postgres", "dwtest"} {
		if _, err := user.Lookup(name); err == nil {
			return name, nil
		}
	}
	out, err := exec.Command("useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", "dwtest").CombinedOutput()
	if err != nil {
		// Another test binary may have created it meanwhile.
		if _, lerr := user.Lookup("dwtest"); lerr == nil {
			return "dwtest", nil
		}
		return "", fmt.Errorf("running as root, and no postgres user to run initdb as: useradd dwtest: %v: %s", err, strings.TrimSpace(string(out)))
	}
	return "dwtest", nil
}

// chown hands dir, and the named files in it, to user name.
func chown(dir, name string, files ...string) error {
	u, err := user.Lookup(name)
	if err != nil {
		return err
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	if err := os.Chown(dir, uid, gid); err != nil {
		return err
	}
	for _, f := range files {
		if err := os.Chown(filepath.Join(dir, f), uid, gid); err != nil {
			return err
		}
	}
	return nil
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
