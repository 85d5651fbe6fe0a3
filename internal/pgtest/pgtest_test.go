package pgtest

import (
	"context"
	"os"
	"testing"

	"github.com/jackc/pgx/v5"
)

func TestMain(m *testing.M) {
	code := m.Run()
	Stop()
	os.Exit(code)
}

func TestDB(t *testing.T) {
	dsn := DB(t)
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var one int
	if err := conn.QueryRow(ctx, "SELECT 1").Scan(&one); err != nil || one != 1 {
		t.Fatalf("SELECT 1: %d %v", one, err)
	}
}

// TestCPU: the server's CPU time grows while it works.
func TestCPU(t *testing.T) {
	dsn := DB(t)
	s := Shared(t)
	before, err := s.CPU()
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	// About a second of server work.
	if _, err := conn.Exec(ctx, "SELECT count(*) FROM generate_series(1, 3000000) a, LATERAL (SELECT md5(a::text)) b"); err != nil {
		t.Fatal(err)
	}
	after, err := s.CPU()
	if err != nil {
		t.Fatal(err)
	}
	if after <= before {
		t.Fatalf("server CPU went from %v to %v; want it to grow by the query's work", before, after)
	}
}

// TestLogicalAndTLS: the cluster decodes logical replication and offers
// TLS with the generated certificate.
func TestLogicalAndTLS(t *testing.T) {
	dsn := DB(t)
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var level, ssl string
	if err := conn.QueryRow(ctx, "SELECT current_setting('wal_level'), current_setting('ssl')").Scan(&level, &ssl); err != nil {
		t.Fatal(err)
	}
	if level != "logical" || ssl != "on" {
		t.Fatalf("wal_level %s, ssl %s; want logical, on", level, ssl)
	}
	if _, err := os.Stat(Shared(t).CAFile()); err != nil {
		t.Fatal(err)
	}
}
