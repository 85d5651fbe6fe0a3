package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
)

// W3 (issue 18): count and sum of amount per country per 1-minute window
// of ts, over orders in event-time order (bench/w3).
//
//   - weave: file source with the input's schema → window_agg (C, then
//     Rust: the same module for each language's SDK) → JSON Lines. Without
//     an event-time column declared, window_agg closes a window at the
//     first row of the next (the input is ordered). It also writes avg.
//   - DuckDB: COPY (SELECT time_bucket(INTERVAL 1 minute, ts), country,
//     count(*), sum(amount), avg(amount) … GROUP BY ALL) TO … (FORMAT
//     json), 2 threads (bench/peers/duckdb's w3 job).
//   - Benthos: benthosW3 below.
func w3Job(o opts, w string) (job, error) {
	weaveYAML := func(wasm string) string {
		return fmt.Sprintf(`name: peers-w3
source:
  file:
    path: %q
    schema: {id: int64, customer: utf8, email: utf8, country: utf8, amount: float64, ts: "timestamp[us, UTC]"}
stages:
  - wasm: {path: %q, config: {key: country, value: amount, time: ts, seconds: 60}}
sinks:
  - file: %q
`, filepath.Join(w, "w3.jsonl"), wasm, filepath.Join(w, "w3-out.jsonl"))
	}
	for name, wasm := range map[string]string{
		"w3-c.yaml":    filepath.Join(o.cWasm, "window_agg", "window_agg.wasm"),
		"w3-rust.yaml": filepath.Join(o.rustWasm, "window_agg", "window_agg.wasm"),
	} {
		if err := write(w, name, weaveYAML(wasm)); err != nil {
			return job{}, err
		}
	}
	if err := write(w, "w3-benthos.yaml", fmt.Sprintf(benthosW3, filepath.Join(w, "w3.jsonl"), filepath.Join(w, "w3-out.jsonl"))); err != nil {
		return job{}, err
	}
	weave := func(bin, lang string) func(string) []string {
		return func(w string) []string {
			return []string{bin, "run", "--from-start", "--state", filepath.Join(w, "state"), filepath.Join(w, "w3-"+lang+".yaml")}
		}
	}
	duck := filepath.Join(o.peers, "duckdb")
	jb := job{name: "W3", in: "w3.jsonl", out: "w3-out.jsonl", groups: true, variants: []variant{
		{name: "weave C window_agg", cmd: weave(o.weave, "c"), job: true},
		{name: "weave Rust window_agg", cmd: weave(o.weave, "rust"), job: true},
		{name: "DuckDB 2 threads", job: true, cmd: func(w string) []string {
			return []string{duck, "-job", "w3", "-threads", "2", "-in", filepath.Join(w, "w3.jsonl"), "-out", filepath.Join(w, "w3-out.jsonl")}
		}},
	}}
	if o.base != "" {
		jb.variants = append(jb.variants,
			variant{name: "base C window_agg", cmd: weave(o.base, "c"), job: true},
			variant{name: "base Rust window_agg", cmd: weave(o.base, "rust"), job: true})
	}
	if !o.noBenthos {
		benthos := filepath.Join(o.peers, "benthos")
		jb.variants = append(jb.variants, variant{name: "Benthos 2 threads", job: true, changelog: true, cmd: func(w string) []string {
			return []string{benthos, "-c", filepath.Join(w, "w3-benthos.yaml")}
		}})
	}
	return jb, nil
}

// benthosW3 is W3 as a Benthos user writes it, following Benthos's
// "Windowed Processing" guide (group_by_value, then a mapping that sums
// the group with from_all and keeps its first message) with two changes
// the guide's system_window buffer forces: it windows by the system clock
// and drops historic data (the guide says so), so the batches come from a
// batched input instead (16,384 messages, weave's default batch, or what
// arrived within a second: the period also flushes the last batch at end
// of input, which a count alone never does), and a window a batch boundary
// cuts in two is merged in a memory cache. The output stage adds each
// group's partial aggregate to the cached one and writes the sum: a
// changelog, where a group cut by a boundary appears twice and its last
// line is the final aggregate. The output's processors run in one
// goroutine, so the cache's get-add-set does not race, while the 2
// pipeline threads parse and group the batches.
const benthosW3 = `input:
  batched:
    child:
      file:
        paths: [%q]
    policy:
      count: 16384
      period: 1s
pipeline:
  threads: 2
  processors:
    - group_by_value:
        value: '${! this.ts.ts_unix() - this.ts.ts_unix() %% 60 } ${! this.country }'
    - mapping: |
        root = if batch_index() == 0 {
          {
            "window_start": (this.ts.ts_unix() - this.ts.ts_unix() %% 60).ts_format("2006-01-02T15:04:05Z", "UTC"),
            "key": this.country,
            "count": batch_size(),
            "sum": json("amount").from_all().sum(),
          }
        } else { deleted() }
output:
  processors:
    - mapping: 'meta group = this.window_start + " " + this.key'
    - branch:
        request_map: 'root = ""'
        processors:
          - cache:
              resource: groups
              operator: get
              key: '${! meta("group") }'
          - catch:
              - mapping: 'root = {"count": 0, "sum": 0}'
        result_map: 'root.prev = this'
    - mapping: |
        root = this.without("prev")
        root.count = this.count + this.prev.count
        root.sum = this.sum + this.prev.sum
        root.avg = root.sum / root.count
    - cache:
        resource: groups
        operator: set
        key: '${! meta("group") }'
        value: '${! content() }'
  file:
    path: %q
    codec: lines
cache_resources:
  - label: groups
    memory: {}
logger:
  level: warn
http:
  enabled: false
`

// writeW3Input runs bench/w3's writer for rows rows into path.
func writeW3Input(gen string, rows int, path string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	cmd := exec.Command(gen, "-rows", fmt.Sprint(rows))
	var stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = f, &stderr
	if err := cmd.Run(); err != nil {
		f.Close()
		return fmt.Errorf("writing W3's input with %s (make bench-peers builds it from bench/w3): %w\n%s", gen, err, stderr.Bytes())
	}
	if err := f.Sync(); err != nil { // as settle: the first runs do not pay for the write-back
		f.Close()
		return err
	}
	return f.Close()
}
