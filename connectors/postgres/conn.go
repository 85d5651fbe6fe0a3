package postgres

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/dataweaver/dataweaver/engine"
	"github.com/dataweaver/dataweaver/engine/spec"
)

func dsnField() *spec.Field {
	return spec.String("dsn").
		Desc("Connection string, as a URL or key=value pairs (libpq's syntax; PG* environment variables fill what it leaves out). " +
			"TLS is set here as for libpq: sslmode (disable, prefer, require, verify-ca, verify-full), sslrootcert (the CA file " +
			"that verify-ca and verify-full check the server's certificate against), sslcert and sslkey (a client certificate). " +
			"A password in it is a secret: weave never prints it.").
		Example(`"postgres://weave@db:5432/shop?sslmode=verify-full&sslrootcert=/etc/ssl/db-ca.pem"`).
		SecretIn(dsnPassword)
}

// dsnPassword is the password a connection string holds, if any, for
// redaction. It reads the string as pgconn does; one pgconn cannot parse
// is read as a URL, the form a typo is likeliest in.
func dsnPassword(dsn string) []string {
	if cfg, err := pgconn.ParseConfig(dsn); err == nil {
		if cfg.Password != "" {
			return []string{cfg.Password}
		}
		return nil
	}
	if u, err := url.Parse(dsn); err == nil && u.User != nil {
		if p, ok := u.User.Password(); ok && p != "" {
			return []string{p}
		}
	}
	return nil
}

// connect opens one connection with the session time zone set to UTC, so
// timestamptz values and cursor texts do not depend on the server's setting.
func connect(ctx context.Context, dsn, step string) (*pgx.Conn, error) {
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("postgres: dsn: %w", err)
	}
	cfg.RuntimeParams["timezone"] = "UTC"
	cfg.RuntimeParams["application_name"] = "dataweaver " + step
	if cfg.ConnectTimeout == 0 {
		cfg.ConnectTimeout = 10 * time.Second
	}
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("postgres: connect to %s:%d: %w", cfg.Host, cfg.Port, err)
	}
	return conn, nil
}

func closeConn(conn *pgx.Conn) {
	if conn == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = conn.Close(ctx)
}

// tableIdent splits "schema.table" and quotes each part.
func tableIdent(name string) pgx.Identifier { return pgx.Identifier(strings.Split(name, ".")) }

func quote(name string) string { return pgx.Identifier{name}.Sanitize() }

func configErr(conf *spec.Parsed, field, msg string, args ...any) error {
	return fmt.Errorf("%w: %w", engine.ErrInvalidConfig, conf.Errorf(field, msg, args...))
}

// permanentClasses are SQLSTATE classes that retrying the same batch
// cannot fix: data exceptions (22), integrity violations (23), syntax
// errors and undefined objects (42).
var permanentClasses = []string{"22", "23", "42"}

// tableErr says which table failed and, for a server error, its detail and
// where (COPY names the line), marking errors retrying cannot fix.
func tableErr(table, what string, err error) error {
	var pe *pgconn.PgError
	if !errors.As(err, &pe) {
		return fmt.Errorf("postgres: table %s: %s: %w", table, what, err)
	}
	msg := fmt.Sprintf("postgres: table %s: %s: %s (SQLSTATE %s)", table, what, pe.Message, pe.Code)
	if pe.ConstraintName != "" {
		msg += ", constraint " + pe.ConstraintName
	}
	if pe.Detail != "" {
		msg += ": " + pe.Detail
	}
	if pe.Where != "" {
		msg += " [" + pe.Where + "]"
	}
	var out error = &serverError{msg: msg, err: err}
	for _, c := range permanentClasses {
		if strings.HasPrefix(pe.Code, c) {
			return engine.Permanent(out)
		}
	}
	return out
}

// serverError says what tableErr found out and unwraps to the *pgconn.PgError.
type serverError struct {
	msg string
	err error
}

func (e *serverError) Error() string { return e.msg }
func (e *serverError) Unwrap() error { return e.err }
