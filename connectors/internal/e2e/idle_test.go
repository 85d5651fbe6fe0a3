package e2e

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/dataweaver/dataweaver/internal/crashtest"
	"github.com/dataweaver/dataweaver/internal/wasmtest"
)

// idlePipeline: window_agg over a JetStream stream, with idle advance:
// once the stream goes quiet, the watermark moves on with the wall clock
// and the last window closes without more input.
const idlePipeline = `name: idle-windows
source:
  nats_jetstream:
    urls: ["${NATS_URL}"]
    stream: TICKS
    durable: weave-idle
    ack_wait: 3s
    schema:
      country: utf8
      amount: float64
      ts: timestamp[us, UTC]
stages:
  - wasm:
      path: ${WASM}
      config: {key: country, value: amount, time: ts, seconds: 60}
      event_time: ts
      idle_advance: 250ms
    name: windows
sinks:
  - file: {path: "${OUT}/", format: jsonl}
checkpoint_every: 50ms
`

// idleRows is the input: 90 rows 2 s apart from a minute's start, over 3
// countries, so 3 windows of 3 keys; the last row is 2 s before the
// third window's end, which only the stream's quiet can close.
const idleRows, idleWindows = 90, 9

// idleStream starts nats-server with the TICKS stream holding the input
// and returns the pipeline (without its OUT) to run on it, and the
// JetStream client.
func idleStream(t *testing.T) (crashtest.Pipeline, jetstream.JetStream) {
	t.Helper()
	root, err := wasmtest.Root()
	if err != nil {
		t.Fatal(err)
	}
	url := startNATS(t)
	_, js := jetStream(t, url)
	createStream(t, js, "TICKS", "ticks")
	base := time.Unix(1_780_000_020, 0).UTC() // a minute's start
	for i := range idleRows {
		b, _ := json.Marshal(map[string]any{
			"country": []string{"FR", "DE", "JP"}[i%3],
			"amount":  float64(i),
			"ts":      base.Add(time.Duration(i) * 2 * time.Second),
		})
		if _, err := js.PublishAsync("ticks", b); err != nil {
			t.Fatal(err)
		}
	}
	<-js.PublishAsyncComplete()
	file := filepath.Join(t.TempDir(), "idle.yaml")
	if err := os.WriteFile(file, []byte(idlePipeline), 0o644); err != nil {
		t.Fatal(err)
	}
	return crashtest.Pipeline{
		File:   file,
		State:  t.TempDir(),
		Env:    map[string]string{"NATS_URL": url, "WASM": filepath.Join(root, "transforms", "c", "window_agg", "window_agg.wasm")},
		Set:    []string{"batch.rows=20"},
		Finish: []string{"source.nats_jetstream.stop_at_end=true"},
	}, js
}

// windowLines are the aggregates published in out, checked to be one per
// window and key, none twice, and to count every input row once when all
// are there.
func windowLines(t *testing.T, out string) []string {
	t.Helper()
	lines := publishedLines(t, out)
	seen := map[string]bool{}
	rows := 0
	for _, l := range lines {
		var w struct {
			Start string `json:"window_start"`
			Key   string `json:"key"`
			Count int    `json:"count"`
		}
		if err := json.Unmarshal([]byte(l), &w); err != nil {
			t.Fatalf("%q: %v", l, err)
		}
		k := w.Start + " " + w.Key
		if seen[k] {
			t.Fatalf("window %s published twice: %q", k, lines)
		}
		seen[k] = true
		rows += w.Count
	}
	if len(lines) == idleWindows && rows != idleRows {
		t.Fatalf("the %d windows count %d rows, want %d: %q", idleWindows, rows, idleRows, lines)
	}
	return lines
}

// publishedLines are the lines of the published parts in dir, sorted.
func publishedLines(t *testing.T, dir string) []string {
	t.Helper()
	var lines []string
	for _, f := range partFiles(t, dir) {
		b, err := os.ReadFile(f)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		lines = append(lines, strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")...)
	}
	slices.Sort(lines)
	return lines
}

// waitWindows waits until out holds n aggregates, failing if the run
// ends first.
func waitWindows(t *testing.T, pr *crashtest.Process, out string, n int) []string {
	t.Helper()
	for {
		if lines := windowLines(t, out); len(lines) >= n {
			return lines
		}
		if pr.Exited() {
			t.Fatalf("the run ended with %d of %d aggregates published (output below)", len(publishedLines(t, out)), n)
		}
		if dl, ok := t.Deadline(); ok && time.Until(dl) < 10*time.Second {
			// Fail with what is missing rather than at the deadline.
			t.Fatalf("%d of %d aggregates published by the test's deadline: the quiet stream's window never closed", len(publishedLines(t, out)), n)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestIdleClosesWindows: weave reads the stream, which then goes quiet
// with the last window open; the window's aggregates are published
// while the run keeps waiting for input (not at end of input: it has
// no stop_at_end). Killed with SIGKILL then, and rerun to the end of
// the stream, the run publishes nothing more: the saved state had the
// window closed, with the watermark idle advance moved.
func TestIdleClosesWindows(t *testing.T) {
	p, _ := idleStream(t)
	out := filepath.Join(t.TempDir(), "out")
	p.Env["OUT"] = out
	pr := p.Start(t)
	got := waitWindows(t, pr, out, idleWindows)
	pr.Kill(t)
	p.Run(t)
	if again := windowLines(t, out); !slices.Equal(again, got) {
		t.Fatalf("the rerun changed the aggregates: %q, want %q", again, got)
	}
}

// TestIdleKilled: as TestIdleClosesWindows, killed with SIGKILL at a
// random moment after the stream's rows are all read and acknowledged
// (before idle advance, between it and the checkpoint it asks for, or
// after), several times over fresh systems: the rerun to the end of
// the stream gives every window's aggregates exactly once. (Crash suite:
// about 2 s a kill.)
func TestIdleKilled(t *testing.T) {
	crashtest.Suite(t)
	for i := range crashKills(t) {
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			p, js := idleStream(t)
			out := filepath.Join(t.TempDir(), "out")
			p.Env["OUT"] = out
			pr := p.Start(t)
			// The first two windows close with rows; then wait for every
			// message to be acknowledged, so that a kill cannot have
			// JetStream deliver a counted row again.
			waitWindows(t, pr, out, idleWindows-3)
			for {
				c, err := js.Consumer(context.Background(), "TICKS", "weave-idle")
				if err != nil {
					t.Fatal(err)
				}
				info, err := c.Info(context.Background())
				if err != nil {
					t.Fatal(err)
				}
				if info.NumPending == 0 && info.NumAckPending == 0 {
					break
				}
				time.Sleep(5 * time.Millisecond)
			}
			// Idle advance closes the last window about 2 s after the
			// last row (8 advances of 250ms): kills land on both sides.
			delay := time.Duration(rand.Int64N(int64(3 * time.Second)))
			t.Logf("killing %v after the last acknowledgement", delay)
			time.Sleep(delay)
			pr.Kill(t)
			t.Logf("killed with %d of %d aggregates published", len(publishedLines(t, out)), idleWindows)
			p.Run(t)
			if got := windowLines(t, out); len(got) != idleWindows {
				t.Fatalf("after the kill and rerun: %d aggregates, want %d: %q", len(got), idleWindows, got)
			}
		})
	}
}
