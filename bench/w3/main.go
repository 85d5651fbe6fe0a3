// Command w3 writes the W3 benchmark's input to stdout: 1M orders as JSON
// Lines in event-time order (ts 0-120 ms apart, 20 countries), for
// window_agg against DuckDB's GROUP BY (BENCHMARKS.md, "W3").
//
//	go run ./bench/w3 > /tmp/w3/orders.jsonl
package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"time"
)

// 1M orders in event-time order (60 ms apart on average), 20 countries.
func main() {
	rng := rand.New(rand.NewPCG(42, 1))
	w := bufio.NewWriterSize(os.Stdout, 1<<20)
	defer w.Flush()
	countries := []string{"FR", "DE", "US", "JP", "BR", "GB", "IT", "ES", "CA", "AU", "IN", "CN", "MX", "NL", "SE", "NO", "PL", "KR", "ZA", "AR"}
	ts := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	enc := json.NewEncoder(w)
	for i := range 1_000_000 {
		ts = ts.Add(time.Duration(rng.Int64N(120_000)) * time.Microsecond)
		enc.Encode(map[string]any{
			"id": i, "customer": fmt.Sprintf("c%d", rng.IntN(50000)), "email": fmt.Sprintf("u%d@example.com", rng.IntN(100000)),
			"country": countries[rng.IntN(len(countries))], "amount": float64(rng.IntN(100000)) / 100, "ts": ts,
		})
	}
}
