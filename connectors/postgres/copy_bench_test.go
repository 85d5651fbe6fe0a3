package postgres

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/dataweaver/dataweaver/engine"
	"github.com/dataweaver/dataweaver/engine/config"
	"github.com/dataweaver/dataweaver/internal/pgtest"

	_ "github.com/dataweaver/dataweaver/connectors/discard"
	_ "github.com/dataweaver/dataweaver/connectors/generate"
)

// benchRows is the table size of the PostgreSQL benchmarks (BENCHMARKS.md).
const benchRows = 1_000_000

// benchBatches are the batch sizes measured: 16,384 rows, the default
// since issue 16 (W1's peak memory), and 65,536, the default before it.
var benchBatches = []int{16_384, 65_536}

// BenchmarkPostgresSink: rows/s of generate (1M orders) → postgres sink
// into a table with a primary key on id, created by the sink, per mode and
// batch size: append is one binary COPY per batch, upsert a COPY into the
// staging table and INSERT … ON CONFLICT, append-exactly_once COPYs
// into one transaction per checkpoint (the default 10s) committed with the
// position. Every iteration writes a new table (and positions table). baseline is generate → discard, the part of the figure that is
// not the sink. srv-ns/row and cli-ns/row split the CPU between the server
// processes (which a Go profile does not see) and this one.
func BenchmarkPostgresSink(b *testing.B) {
	dsn := pgtest.DB(b)
	srv := pgtest.Shared(b)
	b.Run("baseline", func(b *testing.B) {
		for range b.N {
			benchPipeline(b, srv, fmt.Sprintf(`
batch: {rows: 65536}
source: {generate: {preset: orders, rows: %d}}
sinks: [discard]
`, benchRows), nil)
		}
	})
	for _, mode := range []string{modeAppend, modeUpsert, modeAppend + ", exactly_once: true"} {
		for _, batch := range benchBatches {
			name := strings.Replace(mode, ", exactly_once: true", "-exactly_once", 1)
			b.Run(fmt.Sprintf("%s/batch%d", name, batch), func(b *testing.B) {
				for range b.N {
					benchPipeline(b, srv, fmt.Sprintf(`
batch: {rows: %d}
source: {generate: {preset: orders, rows: %d}}
sinks: [{postgres: {dsn: %q, table: orders_bench, mode: %s, key: [id], create_table: true}}]
`, batch, benchRows, dsn, mode), func() {
						pgtest.Exec(b, dsn, "DROP TABLE IF EXISTS orders_bench", "DROP TABLE IF EXISTS weave_positions")
					})
				}
			})
		}
	}
}

// BenchmarkPostgresSnapshot: rows/s of the postgres source reading a
// 1M-row orders table (primary key id, the cursor) into discard, per batch
// size: the snapshot is a page query per batch, WHERE id > last ORDER BY
// id LIMIT batch. The table is filled by the server itself (ordersSQL), so
// a CPU profile of the benchmark shows the source alone.
func BenchmarkPostgresSnapshot(b *testing.B) {
	dsn := pgtest.DB(b)
	srv := pgtest.Shared(b)
	pgtest.Exec(b, dsn, fmt.Sprintf(ordersSQL, benchRows), "ALTER TABLE orders_bench ADD PRIMARY KEY (id)", "VACUUM ANALYZE orders_bench")
	for _, batch := range benchBatches {
		b.Run(fmt.Sprintf("batch%d", batch), func(b *testing.B) {
			for range b.N {
				benchPipeline(b, srv, fmt.Sprintf(`
batch: {rows: %d}
source: {postgres: {dsn: %q, table: orders_bench, cursor: id, stop_at_end: true}}
sinks: [discard]
`, batch, dsn), nil)
			}
		})
	}
}

// ordersSQL makes an orders table shaped like the generate source's orders
// preset (the same columns and types, strings of about the same lengths,
// notes on one row in 16), server-side.
const ordersSQL = `CREATE TABLE orders_bench AS
SELECT i::bigint AS id,
       'Customer ' || (i * 7919 %% 2304) AS customer,
       'customer.' || (i * 7919 %% 2304) || '@example.com' AS email,
       (ARRAY['US','GB','DE','FR','NL','CA','ES','IT','SE','AU'])[1 + i * 31 %% 10] AS country,
       ((i * 7907 %% 99900) + 100) / 100.0::float8 AS amount,
       '2024-01-01 00:00:00+00'::timestamptz + i * interval '250 ms' AS ts,
       CASE WHEN i %% 16 = 0 THEN 'leave at the door' END AS note
FROM generate_series(1::bigint, %d) AS i`

// benchPipeline runs a pipeline of benchRows rows after setup (not timed)
// and reports its rows/s and CPU per row, here and in the server.
func benchPipeline(b *testing.B, srv *pgtest.Server, text string, setup func()) {
	b.Helper()
	if setup != nil {
		b.StopTimer()
		setup()
		b.StartTimer()
	}
	// NoPositions: every iteration reads its whole input (exactly_once
	// keeps its positions in the sink, whose table setup drops).
	opts := config.Options{Logger: slog.New(slog.DiscardHandler), Mem: memory.NewGoAllocator(), NoPositions: true}
	f, err := config.Parse([]byte(text), "bench.yaml", opts)
	if err != nil {
		b.Fatal(err)
	}
	p, err := config.Build(f, opts)
	if err != nil {
		b.Fatal(err)
	}
	srv0, cli0 := serverCPU(b, srv), clientCPU()
	start := time.Now()
	m, err := p.Run(context.Background())
	if err != nil {
		b.Fatal(err)
	}
	elapsed := time.Since(start)
	srvT, cliT := serverCPU(b, srv)-srv0, clientCPU()-cli0
	if got := sinkRows(m); got != benchRows {
		b.Fatalf("sink got %d rows, want %d", got, benchRows)
	}
	b.ReportMetric(benchRows/elapsed.Seconds(), "rows/s")
	b.ReportMetric(float64(srvT.Nanoseconds())/benchRows, "srv-ns/row")
	b.ReportMetric(float64(cliT.Nanoseconds())/benchRows, "cli-ns/row")
}

func sinkRows(m *engine.Metrics) int64 { return m.Steps[len(m.Steps)-1].RowsOut.Load() }

func serverCPU(b *testing.B, srv *pgtest.Server) time.Duration {
	d, err := srv.CPU()
	if err != nil {
		b.Fatal(err)
	}
	return d
}

// clientCPU is this process's CPU time, user and system.
func clientCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
