// Command w3 writes the W3 benchmark's input to stdout: orders as JSON
// Lines in event-time order (ts 0-120 ms apart, 60 ms on average, 20
// countries), for window_agg against DuckDB's GROUP BY and Benthos
// (BENCHMARKS.md, "W3"; `make bench-peers` builds it into PEERS_BIN and
// runs it).
//
//	go run ./bench/w3 > /tmp/w3/orders.jsonl
//	go run ./bench/w3 -rows 100000 > /tmp/w3/orders-100k.jsonl
//
// The rows depend on the seed only, so -rows N writes the first N rows of
// the 1M-row file.
package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"time"
)

func main() {
	rows := flag.Int("rows", 1_000_000, "rows to write")
	flag.Parse()
	rng := rand.New(rand.NewPCG(42, 1))
	w := bufio.NewWriterSize(os.Stdout, 1<<20)
	countries := []string{"FR", "DE", "US", "JP", "BR", "GB", "IT", "ES", "CA", "AU", "IN", "CN", "MX", "NL", "SE", "NO", "PL", "KR", "ZA", "AR"}
	ts := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	enc := json.NewEncoder(w)
	for i := range *rows {
		ts = ts.Add(time.Duration(rng.Int64N(120_000)) * time.Microsecond)
		err := enc.Encode(map[string]any{
			"id": i, "customer": fmt.Sprintf("c%d", rng.IntN(50000)), "email": fmt.Sprintf("u%d@example.com", rng.IntN(100000)),
			"country": countries[rng.IntN(len(countries))], "amount": float64(rng.IntN(100000)) / 100, "ts": ts,
		})
		if err != nil {
			fmt.Fprintln(os.Stderr, "w3:", err)
			os.Exit(1)
		}
	}
	if err := w.Flush(); err != nil {
		fmt.Fprintln(os.Stderr, "w3:", err)
		os.Exit(1)
	}
}
