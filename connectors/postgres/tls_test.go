package postgres

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/dataweaver/dataweaver/connectors/conformance"
	"github.com/dataweaver/dataweaver/connectors/internal/tlsconf/tlstest"
	"github.com/dataweaver/dataweaver/internal/pgtest"
)

// TestSSLMode: sslmode and sslrootcert in the DSN reach the server as
// libpq's: verify-full against the CA that signed the test cluster's
// certificate connects over TLS (the postgres source, and the CDC
// source's replication connection), and a CA that did not sign it is
// refused with an error that says so and where.
func TestSSLMode(t *testing.T) {
	mem := conformance.Checked(t)
	plain := pgtest.DB(t)
	pgtest.Exec(t, plain, `CREATE TABLE items (id int PRIMARY KEY, name text)`, `INSERT INTO items VALUES (1, 'a'), (2, 'b')`)
	srv := pgtest.Shared(t)
	db := plain[strings.LastIndexByte(plain, '/')+1 : strings.IndexByte(plain, '?')]
	dsn := func(ca string) string {
		return fmt.Sprintf("postgres://postgres@localhost:%d/%s?sslmode=verify-full&sslrootcert=%s", srv.Port, db, ca)
	}
	ctx := context.Background()

	t.Run("verify-full", func(t *testing.T) {
		good := dsn(srv.CAFile())
		conn := connTest(t, good)
		defer conn.Close(ctx)
		var ssl bool
		if err := conn.QueryRow(ctx, "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()").Scan(&ssl); err != nil || !ssl {
			t.Fatalf("connection with %s: ssl %v, %v", good, ssl, err)
		}
		recs := readTable(t, good, "table: items", "id", mem)
		n := 0
		for _, r := range recs {
			n += int(r.NumRows())
			r.Release()
		}
		if n != 2 {
			t.Fatalf("read %d rows over TLS, want 2", n)
		}
		src := mustCDC(t, fmt.Sprintf("{dsn: %s, table: items, publication: tls_pub, slot: tls_%s, create_slot: true, create_publication: true}", q(good), db),
			conformance.Build(mem, 100, "source"))
		defer src.Close()
		if _, err := src.Open(ctx); err != nil {
			t.Fatal(err)
		}
		readChanges(t, src, 2)
		pgtest.Exec(t, plain, `INSERT INTO items VALUES (3, 'c')`)
		if got, _ := readChanges(t, src, 1); got[0]["id"] != "3" {
			t.Fatalf("streamed over TLS: %v", got)
		}
	})
	t.Run("wrong CA", func(t *testing.T) {
		bad := dsn(tlstest.New(t).File)
		src := mustSource(t, fmt.Sprintf("{dsn: %s, table: items, cursor: id}", q(bad)), conformance.Build(mem, 100, "source"))
		defer src.Close()
		_, err := src.Open(ctx)
		if err == nil || !strings.Contains(err.Error(), "certificate signed by unknown authority") ||
			!strings.Contains(err.Error(), fmt.Sprintf("connect to localhost:%d", srv.Port)) {
			t.Fatalf("Open with a CA that did not sign the server's certificate: %v; want an error naming the server and the unknown authority", err)
		}
	})
}
