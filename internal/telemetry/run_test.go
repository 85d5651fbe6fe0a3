package telemetry_test

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	_ "github.com/dataweaver/dataweaver/connectors/all"
	"github.com/dataweaver/dataweaver/internal/wasmtest"
)

var (
	root string
	// hostile is the Go guest whose "trap" mode panics in dw_process;
	// empty when it did not build, which fails the tests that use it (Go
	// alone builds it, so there is nothing to install that could excuse it).
	hostile, hostileErr = "", error(nil)
)

func TestMain(m *testing.M) {
	var err error
	if root, err = wasmtest.Root(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	dir, err := os.MkdirTemp("", "telemetry-guests")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	hostile = filepath.Join(dir, "hostile.wasm")
	if hostileErr = wasmtest.Build("wasmabi/testdata/hostile", hostile); hostileErr != nil {
		hostile = ""
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// TestScrapeRun scrapes a real run of a paced source through a C Wasm
// filter into a directory of parts (which saves positions at checkpoints):
// ready and moving while it runs, and at its end every counter equals the
// summary weave printed, each latency histogram counted every batch, the
// guest's call histogram every call, and the sink's rows are the lines in
// its files.
func TestScrapeRun(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "out")
	file := filepath.Join(dir, "p.yaml")
	writeFile(t, file, fmt.Sprintf(`name: scraped
source:
  generate: {preset: orders, rows: 4000, rows_per_second: 4000}
batch: {rows: 100}
stages:
  - wasm:
      path: %s
      config: {column: country, op: "==", value: [US, DE]}
    name: filter
sinks:
  - file: {path: "%s/", format: jsonl}
    name: parts
checkpoint_every: 100ms
`, filepath.Join(root, "transforms/c/filter/filter.wasm"), out))
	r := startWeave(t, "--http", "127.0.0.1:0", "--http-linger", "1h", "--state", filepath.Join(dir, "state"), file)

	if code, body := get(t, r.addr, "/healthz"); code != http.StatusOK {
		t.Errorf("/healthz answered %d %q while starting", code, body)
	}
	// Ready once the source and sink are open and batches flow.
	for {
		code, body := get(t, r.addr, "/readyz")
		if code == http.StatusOK {
			break
		}
		if code != http.StatusServiceUnavailable || !strings.Contains(body, "starting") {
			t.Fatalf("/readyz before running answered %d %q, want 503 starting", code, body)
		}
	}
	during := scrapeMetrics(t, r.addr)
	if got := during.value(t, "weave_pipeline_phase", map[string]string{"pipeline": "scraped", "phase": "running"}); got != 1 {
		t.Errorf("weave_pipeline_phase{phase=running} = %v while /readyz says ready", got)
	}
	for _, step := range []string{"filter", "fan_out", "parts"} {
		if got := during.value(t, "weave_queue_capacity_batches", map[string]string{"pipeline": "scraped", "step": step}); got != 4 {
			t.Errorf("queue in front of %s holds %v batches, want the default buffer 4", step, got)
		}
	}
	srcDuring := during.value(t, "weave_rows_out_total", map[string]string{"pipeline": "scraped", "step": "source.generate"})
	if srcDuring >= 4000 {
		t.Logf("the source had read every row at the first ready scrape (%v); the during-run checks saw the end", srcDuring)
	}

	r.waitStderr(t, "run ended; serving metrics before exit")
	if code, body := get(t, r.addr, "/readyz"); code != http.StatusServiceUnavailable || !strings.Contains(body, "ended") {
		t.Errorf("/readyz after the run answered %d %q, want 503 ended", code, body)
	}
	end := scrapeMetrics(t, r.addr)
	rows := parseSummary(t, r.stderr.String())
	checkAgainstSummary(t, end, "scraped", rows)

	l := map[string]string{"pipeline": "scraped", "step": "filter"}
	stageBatches := end.value(t, "weave_batches_total", l)
	if got := end.histCount(t, "weave_wasm_call_duration_seconds", l); float64(got) != stageBatches || got == 0 {
		t.Errorf("guest calls timed %d, stage batches %v", got, stageBatches)
	}
	for _, c := range []string{"weave_wasm_traps_total", "weave_wasm_timeouts_total", "weave_wasm_instance_replacements_total"} {
		if got := end.value(t, c, l); got != 0 {
			t.Errorf("%s = %v for a guest that never failed", c, got)
		}
	}
	if got := end.value(t, "weave_rows_in_total", map[string]string{"step": "source.generate"}); got != 4000 {
		t.Errorf("source rows in = %v, want 4000", got)
	}
	if got := end.value(t, "weave_rows_in_total", map[string]string{"step": "source.generate"}); got < srcDuring {
		t.Errorf("source rows went down from %v to %v", srcDuring, got)
	}
	parts, _ := filepath.Glob(filepath.Join(out, "*.jsonl"))
	if got, want := end.value(t, "weave_rows_out_total", map[string]string{"step": "parts"}), countLines(t, parts...); got != float64(want) || want == 0 {
		t.Errorf("sink rows out = %v, its files hold %d lines", got, want)
	}
	if got := end.value(t, "weave_checkpoints_total", map[string]string{"pipeline": "scraped"}); got < 1 {
		t.Errorf("weave_checkpoints_total = %v, want at least the final checkpoint", got)
	}
	if end.find("weave_checkpoint_last_timestamp_seconds", nil) == nil || end.find("weave_checkpoint_age_seconds", nil) == nil {
		t.Error("no checkpoint time or age for a pipeline that saved positions")
	}
	if got := end.value(t, "weave_pipeline_phase", map[string]string{"phase": "ended"}); got != 1 {
		t.Errorf("weave_pipeline_phase{phase=ended} = %v after the run", got)
	}

	r.sigs <- os.Interrupt // ends the linger
	if code := r.wait(t); code != 0 {
		t.Fatalf("weave exited with %d:\n%s", code, r.stderr)
	}
}

// TestScrapeTrappingGuest: a guest that traps on every batch. Its rows go
// to the dead-letter sink; the scrape counts one trap and one replaced
// instance per batch, and a file source's bytes are the file's size.
func TestScrapeTrappingGuest(t *testing.T) {
	if hostile == "" {
		t.Fatalf("the hostile guest did not build: %v", hostileErr)
	}
	dir := t.TempDir()
	input := filepath.Join(root, "testdata/orders.csv")
	file := filepath.Join(dir, "p.yaml")
	writeFile(t, file, fmt.Sprintf(`name: trapping
source:
  file: %s
batch: {rows: 7}
stages:
  - rename: {columns: {email: s}}
  - wasm:
      path: %s
      config: {mode: trap, always: true}
    name: hostile
sinks:
  - file: "%s/out.jsonl"
on_error: dead_letter
dead_letter:
  file: "%s/rejected.jsonl"
`, input, hostile, dir, dir))
	r := startWeave(t, "--http", "127.0.0.1:0", "--http-linger", "1h", file)
	r.waitStderr(t, "run ended; serving metrics before exit")
	end := scrapeMetrics(t, r.addr)
	rows := parseSummary(t, r.stderr.String())
	checkAgainstSummary(t, end, "trapping", rows)

	l := map[string]string{"pipeline": "trapping", "step": "hostile"}
	batches := end.value(t, "weave_batches_total", l)
	if batches == 0 {
		t.Fatal("the guest stage saw no batch")
	}
	for _, c := range []string{"weave_wasm_traps_total", "weave_wasm_instance_replacements_total"} {
		if got := end.value(t, c, l); got != batches {
			t.Errorf("%s = %v, want one per batch (%v)", c, got, batches)
		}
	}
	deadLettered := end.value(t, "weave_rows_dead_lettered_total", map[string]string{"step": "source.file"})
	allDead := end.value(t, "weave_rows_in_total", map[string]string{"step": "dead_letter"})
	if got := end.value(t, "weave_rows_dead_lettered_total", l); got == 0 || allDead != got+deadLettered {
		t.Errorf("dead-letter sink got %v rows; the guest stage dead-lettered %v, the source %v", allDead, got, deadLettered)
	}
	if got, want := allDead, countLines(t, filepath.Join(dir, "rejected.jsonl")); got != float64(want) {
		t.Errorf("dead-letter rows %v, rejected.jsonl holds %d lines", got, want)
	}
	st, err := os.Stat(input)
	if err != nil {
		t.Fatal(err)
	}
	src := map[string]string{"pipeline": "trapping", "step": "source.file"}
	if got := end.value(t, "weave_source_bytes_total", src); got != float64(st.Size()) {
		t.Errorf("weave_source_bytes_total = %v, the file has %d bytes", got, st.Size())
	}
	if got := end.value(t, "weave_source_remaining_bytes", src); got != 0 {
		t.Errorf("weave_source_remaining_bytes = %v after reading the whole file", got)
	}
	r.sigs <- os.Interrupt
	if code := r.wait(t); code != 0 {
		t.Fatalf("weave exited with %d:\n%s", code, r.stderr)
	}
}

// TestScrapeGuestTimeouts: a guest that loops is stopped at the stage's
// timeout on every batch; each stop is a timeout (not a trap) and a
// replaced instance.
func TestScrapeGuestTimeouts(t *testing.T) {
	if hostile == "" {
		t.Fatalf("the hostile guest did not build: %v", hostileErr)
	}
	dir := t.TempDir()
	file := filepath.Join(dir, "p.yaml")
	writeFile(t, file, fmt.Sprintf(`name: looping
source:
  generate: {preset: orders, rows: 6, seed: 1}
batch: {rows: 3}
stages:
  - rename: {columns: {email: s}}
  - wasm:
      path: %s
      config: {mode: loop, always: true}
      timeout: 200ms
    name: hostile
sinks:
  - file: "%s/out.jsonl"
on_error: dead_letter
dead_letter:
  file: "%s/rejected.jsonl"
`, hostile, dir, dir))
	r := startWeave(t, "--http", "127.0.0.1:0", "--http-linger", "1h", file)
	r.waitStderr(t, "run ended; serving metrics before exit")
	end := scrapeMetrics(t, r.addr)
	checkAgainstSummary(t, end, "looping", parseSummary(t, r.stderr.String()))
	l := map[string]string{"pipeline": "looping", "step": "hostile"}
	batches := end.value(t, "weave_batches_total", l)
	if batches != 2 {
		t.Fatalf("the guest stage saw %v batches, want 2", batches)
	}
	for c, want := range map[string]float64{
		"weave_wasm_timeouts_total":              batches,
		"weave_wasm_instance_replacements_total": batches,
		"weave_wasm_traps_total":                 0,
	} {
		if got := end.value(t, c, l); got != want {
			t.Errorf("%s = %v, want %v", c, got, want)
		}
	}
	r.sigs <- os.Interrupt
	if code := r.wait(t); code != 0 {
		t.Fatalf("weave exited with %d:\n%s", code, r.stderr)
	}
}
