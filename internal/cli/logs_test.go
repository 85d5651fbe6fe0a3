package cli_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"strings"
	"sync"
	"syscall"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/dataweaver/dataweaver/internal/cli"
)

// watchWriter collects what a run writes and closes seen the first time
// the output contains want, so a test waits for an event, not a clock.
type watchWriter struct {
	mu   sync.Mutex
	b    bytes.Buffer
	want string
	seen chan struct{}
	once sync.Once
}

func (w *watchWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	n, err := w.b.Write(p)
	if strings.Count(w.b.String(), w.want) >= 2 {
		w.once.Do(func() { close(w.seen) })
	}
	return n, err
}

func (w *watchWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.String()
}

// TestProgressRecords runs an endless pipeline with stderr not a terminal
// and --log-format json: progress records come while it runs, as JSON
// with numeric attributes that agree with the source's counts, and the
// summary after the stop is one JSON object with the same counts.
func TestProgressRecords(t *testing.T) {
	env := testEnv(t)
	path := writeFile(t, "p.yaml", "name: endless\nsource: {counter: {batches: 0}}\nsinks: [collect]\n")
	stderr := &watchWriter{want: `"msg":"progress"`, seen: make(chan struct{})}
	sigs := make(chan os.Signal, 1)
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	done := make(chan int)
	go func() {
		done <- cli.Main([]string{"weave", "--log-format", "json", "run", "--progress-every", "20ms", path},
			cli.Options{Env: env, Stdout: &bytes.Buffer{}, Stderr: stderr, Signals: sigs, Mem: mem})
	}()
	<-stderr.seen // two progress records
	sigs <- syscall.SIGINT
	code := <-done
	mem.AssertSize(t, 0)
	checkGoroutines(t)
	if code != 130 {
		t.Fatalf("exit %d; stderr:\n%s", code, stderr.String())
	}
	var last float64
	progress := 0
	var summary map[string]any
	sc := bufio.NewScanner(strings.NewReader(stderr.String()))
	for sc.Scan() {
		var rec map[string]any
		if err := json.Unmarshal(sc.Bytes(), &rec); err != nil {
			t.Fatalf("not JSON (%v): %s", err, sc.Bytes())
		}
		switch rec["msg"] {
		case "progress":
			progress++
			rows, ok := rec["rows"].(float64)
			if !ok || rows < last {
				t.Errorf("progress rows %v after %v", rec["rows"], last)
			}
			last = rows
			// The counter source says each 2-row batch came from 16 bytes.
			if rec["bytes"] != rows*8 || rec["pipeline"] != "endless" {
				t.Errorf("progress record %v: want bytes = 8 × rows and pipeline endless", rec)
			}
			for _, k := range []string{"rows_per_s", "elapsed"} {
				if _, ok := rec[k].(float64); !ok {
					t.Errorf("progress record %v: %s is not a number", rec, k)
				}
			}
		case "run summary":
			summary = rec
		}
	}
	if progress < 2 || summary == nil {
		t.Fatalf("%d progress records, summary %v:\n%s", progress, summary, stderr.String())
	}
	steps := summary["steps"].([]any)
	src := steps[0].(map[string]any)
	if src["name"] != "source.counter" || src["rows_out"].(float64) < last || src["bytes"] != src["rows_out"].(float64)*8 {
		t.Errorf("summary source %v: want rows_out ≥ %v (the last progress record) and 8 bytes a row", src, last)
	}
	if summary["exit"] != "interrupted by SIGINT" || summary["exit_code"] != 130.0 || summary["interrupted"] != true {
		t.Errorf("summary exit %v (%v), interrupted %v; want interrupted by SIGINT (130)", summary["exit"], summary["exit_code"], summary["interrupted"])
	}
}
