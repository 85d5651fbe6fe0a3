// Command duckdb runs the benchmark jobs W1, W2 and W3 in DuckDB, as a peer
// for weave in `make bench-peers`, and reads back any job's output to
// count and checksum it so every tool's output can be compared.
//
//	duckdb -job w1 -in orders.jsonl -out out.jsonl -threads 2
//	duckdb -job w2 -in orders.parquet -out out.parquet -threads 2
//	duckdb -job w3 -in w3.jsonl -out w3-out.jsonl -threads 2
//	duckdb -check out.jsonl -cols id,email,country,amount_cents
//
// The job is one COPY statement, the way a DuckDB user writes it: the
// input's schema detected by DuckDB (weave infers its own too), rows kept
// where amount >= 0 and country is not XX (a null fails either test, as in
// weave's filter), the email's local part masked as transforms/mask does
// (first character, "***", from the last '@' on), and amount_cents =
// round(amount*100) added. W3 is one GROUP BY (see its case in run).
package main

import (
	"database/sql"
	"flag"
	"fmt"
	"os"
	"strings"

	_ "github.com/duckdb/duckdb-go/v2"
)

func main() {
	job := flag.String("job", "", "w1 (JSON Lines) or w2 (Parquet)")
	in := flag.String("in", "", "input file")
	out := flag.String("out", "", "output file")
	threads := flag.Int("threads", 2, "DuckDB threads")
	check := flag.String("check", "", "print the row count and a checksum of this output file instead")
	cols := flag.String("cols", "id,email,country,amount_cents", "columns the checksum covers")
	flag.Parse()
	if err := run(*job, *in, *out, *threads, *check, *cols); err != nil {
		fmt.Fprintln(os.Stderr, "duckdb:", err)
		os.Exit(1)
	}
}

func run(job, in, out string, threads int, check, cols string) error {
	db, err := sql.Open("duckdb", "")
	if err != nil {
		return fmt.Errorf("open: %w", err)
	}
	defer db.Close()
	if _, err := db.Exec(fmt.Sprintf("SET threads = %d", threads)); err != nil {
		return fmt.Errorf("set threads: %w", err)
	}
	if check != "" {
		return checksum(db, check, cols)
	}
	var read, write string
	switch job {
	case "w1":
		read, write = "read_json("+quote(in)+", format = 'newline_delimited')", "FORMAT json"
	case "w2":
		read, write = "read_parquet("+quote(in)+")", "FORMAT parquet, COMPRESSION snappy"
	case "w3":
		// Count, sum and average of amount per country per minute of ts.
		q := `COPY (
  SELECT time_bucket(INTERVAL 1 minute, ts) AS window_start, country AS key,
    count(*) AS count, sum(amount) AS sum, avg(amount) AS avg
  FROM read_json(` + quote(in) + `, format = 'newline_delimited')
  GROUP BY ALL
) TO ` + quote(out) + ` (FORMAT json)`
		if _, err := db.Exec(q); err != nil {
			return fmt.Errorf("%s: %w", job, err)
		}
		return nil
	default:
		return fmt.Errorf("-job: want w1, w2 or w3, got %q", job)
	}
	q := `COPY (
  SELECT id, customer,
    CASE WHEN strpos(email, '@') > 1
      THEN left(email, 1) || '***' || right(email, strpos(reverse(email), '@'))
      ELSE left(email, 1) || '***' END AS email,
    country, amount, ts, note,
    CAST(round(amount * 100) AS BIGINT) AS amount_cents
  FROM ` + read + `
  WHERE amount >= 0 AND country <> 'XX'
) TO ` + quote(out) + ` (` + write + `)`
	if _, err := db.Exec(q); err != nil {
		return fmt.Errorf("%s: %w", job, err)
	}
	return nil
}

// checksum prints the row count and the sum of a hash of each row's
// named columns: equal for two outputs holding the same rows in any
// order, whatever the format and the number formatting.
func checksum(db *sql.DB, file, cols string) error {
	read := "read_json(" + quote(file) + ", format = 'newline_delimited')"
	if strings.HasSuffix(file, ".parquet") {
		read = "read_parquet(" + quote(file) + ")"
	}
	var casts []string
	for _, c := range strings.Split(cols, ",") {
		typ := "VARCHAR"
		if c == "id" || c == "amount_cents" {
			typ = "BIGINT"
		}
		casts = append(casts, fmt.Sprintf("CAST(%q AS %s)", c, typ))
	}
	var n int64
	var sum string
	q := "SELECT count(*), coalesce(CAST(sum(hash(" + strings.Join(casts, ", ") + ")) AS VARCHAR), '0') FROM " + read
	if err := db.QueryRow(q).Scan(&n, &sum); err != nil {
		return fmt.Errorf("checksum of %s: %w", file, err)
	}
	fmt.Println(n, sum)
	return nil
}

func quote(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }
