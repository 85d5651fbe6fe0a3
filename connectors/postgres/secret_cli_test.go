package postgres_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/dataweaver/dataweaver/engine"
	"github.com/dataweaver/dataweaver/internal/cli"
	"github.com/dataweaver/dataweaver/internal/pgtest"
)

// TestDSNPasswordNeverPrinted: a password in a DSN appears in nothing weave
// prints, whether the run fails to connect (a closed port), fails at the
// server (a missing table; the test cluster trusts every password), or
// is only validated, with debug logs on.
func TestDSNPasswordNeverPrinted(t *testing.T) {
	const password = "Pa55-w0rd-xyzzy"
	dsn := pgtest.DB(t)
	withPassword := strings.Replace(dsn, "postgres@", "postgres:"+password+"@", 1)
	closed := fmt.Sprintf("postgres://weave:%s@127.0.0.1:1/db?sslmode=disable&connect_timeout=5", password)
	dir := t.TempDir()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "CREATE TABLE items (id int PRIMARY KEY)"); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, source string
		args         []string
		want         string // the error's gist: the test sees the failure it means to
	}{
		{"run, closed port", fmt.Sprintf("postgres: {dsn: %q, table: missing, cursor: id}", closed), []string{"run", "--state", dir}, "connect to 127.0.0.1:1"},
		{"run, missing table", fmt.Sprintf("postgres: {dsn: %q, table: missing, cursor: id}", withPassword), []string{"run", "--state", dir}, `relation "missing" does not exist`},
		{"cdc run, missing publication", fmt.Sprintf("postgres_cdc: {dsn: %q, table: items, publication: nope, slot: nope}", withPassword), []string{"run", "--state", dir}, `publication "nope" does not exist`},
		{"validate, key=value form", fmt.Sprintf("postgres: {dsn: \"host=127.0.0.1 port=1 user=weave password=%s dbname=db sslmode=disable\", table: t, cursor: id}", password), []string{"validate"}, "connect to 127.0.0.1:1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			file := filepath.Join(dir, strings.ReplaceAll(tc.name, " ", "_")+".yaml")
			job := "name: secret\nsource:\n  " + tc.source + "\nsinks: [{discard: {}}]\n"
			if err := os.WriteFile(file, []byte(job), 0o644); err != nil {
				t.Fatal(err)
			}
			var out bytes.Buffer
			code := cli.Main(append(append([]string{"weave", "--log-level", "debug"}, tc.args...), file),
				cli.Options{Env: engine.DefaultEnvironment(), Stdout: &out, Stderr: &out})
			if code == 0 {
				t.Fatalf("exit 0, want a failure:\n%s", out.String())
			}
			if !strings.Contains(out.String(), tc.want) {
				t.Fatalf("the output does not say %q:\n%s", tc.want, out.String())
			}
			if strings.Contains(out.String(), password) {
				t.Fatalf("the password appears in the output:\n%s", out.String())
			}
		})
	}
}
