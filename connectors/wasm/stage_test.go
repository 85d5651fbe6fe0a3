package wasm_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/memory"

	_ "github.com/dataweaver/dataweaver/connectors/discard"
	memsink "github.com/dataweaver/dataweaver/connectors/inmemory"
	_ "github.com/dataweaver/dataweaver/connectors/wasm"
	"github.com/dataweaver/dataweaver/engine"
	"github.com/dataweaver/dataweaver/engine/config"
	"github.com/dataweaver/dataweaver/internal/wasmtest"
	"github.com/dataweaver/dataweaver/internal/wasmtesting"
	"github.com/dataweaver/dataweaver/wasmabi"
)

var guestDir string

// noTimeout is the guest timeout of every correctness test, spelled for a
// pipeline file: wasmtesting.Timeout, far beyond any test, so the module is
// compiled with the same stop checks as with the production default, but
// a slow, loaded machine never trips it (the 10 s default did, failing
// tests that had nothing to do with time). TestTimeout is the one test of
// the limit itself.
var noTimeout = wasmtesting.Timeout.String()

// TestMain builds the transforms once for every test here.
func TestMain(m *testing.M) {
	code := func() int {
		dir, err := os.MkdirTemp("", "wasm-stage-test-")
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		defer os.RemoveAll(dir)
		guestDir = dir
		for name, pkg := range map[string]string{
			"filter": "transforms/filter", "mask": "transforms/mask", "derive": "transforms/derive",
			"hostile": "wasmabi/testdata/hostile",
		} {
			if err := wasmtest.Build(pkg, filepath.Join(dir, name+".wasm")); err != nil {
				fmt.Fprintln(os.Stderr, err)
				return 1
			}
		}
		return m.Run()
	}()
	os.Exit(code)
}

// The orders job: drop negative amounts and country XX, mask emails, add
// amount_cents — every step a Wasm stage, one of them with its config
// defaulted. (The scalar form, `- wasm: path`, is TestSpecExamples' in
// connectors/all: here every stage needs the test timeout.)
func TestOrdersPipeline(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	yaml := strings.NewReplacer("DIR", guestDir, "TIMEOUT", noTimeout).Replace(`
source:
  memory:
    schema: {id: int64, email: utf8, country: utf8, amount: float64}
    rows:
      - {id: 1, email: alice@example.com, country: FR, amount: 12.5}
      - {id: 2, email: bob@example.org, country: XX, amount: 3}
      - {id: 3, email: carol@example.net, country: US, amount: -1}
      - {id: 4, email: null, country: DE, amount: 0.015}
stages:
  - wasm:
      path: DIR/filter.wasm
      config: {column: amount, op: ">=", value: 0}
      timeout: TIMEOUT
  - wasm:
      path: DIR/filter.wasm
      config: {column: country, op: "!=", value: XX}
      timeout: TIMEOUT
      memory_limit: 64MiB
    workers: 2
  - wasm:
      path: DIR/mask.wasm
      config: {columns: [email]}
      timeout: TIMEOUT
  - wasm: {path: DIR/derive.wasm, timeout: TIMEOUT}
sinks:
  - memory: {name: orders-out}
`)
	p := buildPipeline(t, yaml, "orders.yaml", mem)
	if _, err := p.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	sink := memsink.Lookup("orders-out")
	defer sink.Release()
	var got []string
	for _, rec := range sink.Records() {
		for i := range int(rec.NumRows()) {
			row := make([]string, rec.NumCols())
			for c := range row {
				row[c] = rec.Column(c).ValueStr(i)
			}
			got = append(got, strings.Join(row, " "))
		}
	}
	want := []string{
		"1 a***@example.com FR 12.5 1250",
		"4 (null) DE 0.015 2",
	}
	if !slices.Equal(got, want) {
		t.Errorf("rows:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// A column the module needs but the input lacks is a schema error before
// any data flows, as weave validate reports it.
func TestValidateCatchesSchemaErrors(t *testing.T) {
	yaml := strings.NewReplacer("DIR", guestDir, "TIMEOUT", noTimeout).Replace(`
source:
  memory:
    schema: {id: int64}
    rows: [{id: 1}]
stages:
  - wasm: {path: DIR/mask.wasm, config: {columns: [email]}, timeout: TIMEOUT}
sinks: [{memory: {}}]
`)
	f, err := config.Parse([]byte(yaml), "bad.yaml", config.Options{})
	if err != nil {
		t.Fatal(err)
	}
	p, err := config.Build(f, config.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	_, err = p.Validate(context.Background())
	if err == nil || !strings.Contains(err.Error(), `no column "email" in the input`) {
		t.Fatalf("Validate error %v, want the missing column named", err)
	}
}

func TestMissingModule(t *testing.T) {
	f, err := config.Parse([]byte("source: {memory: {schema: {id: int64}}}\nstages: [{wasm: nowhere.wasm}]\nsinks: [{memory: {}}]\n"), "p.yaml", config.Options{})
	if err != nil {
		t.Fatal(err)
	}
	_, err = config.Build(f, config.Options{})
	if err == nil || !strings.Contains(err.Error(), "p.yaml:2:") || !strings.Contains(err.Error(), "nowhere.wasm") {
		t.Fatalf("Build error %v, want file:line and the path", err)
	}
}

// TestTimeout: the stage's timeout field reaches the runtime. A guest
// that loops on the batch "boom" is stopped, and the run fails with
// wasmabi.ErrGuestTimeout, instead of hanging its worker.
func TestTimeout(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	yaml := strings.ReplaceAll(`
source:
  memory:
    schema: {s: utf8}
    rows: [{s: boom}]
stages:
  - wasm: {path: DIR/hostile.wasm, config: {mode: loop}, timeout: 50ms}
sinks: [{discard: {}}]
`, "DIR", guestDir)
	p := buildPipeline(t, yaml, "loop.yaml", mem)
	// The limit named in the error is the configured one, not a default.
	if _, err := p.Run(context.Background()); !errors.Is(err, wasmabi.ErrGuestTimeout) || !strings.Contains(err.Error(), "after 50ms") {
		t.Fatalf("Run error %v, want %v after 50ms", err, wasmabi.ErrGuestTimeout)
	}
}

// buildPipeline parses and builds a pipeline file's text, failing t on any
// error, and closes the pipeline when the test ends.
func buildPipeline(t *testing.T, yaml, name string, mem memory.Allocator) *engine.Pipeline {
	t.Helper()
	f, err := config.Parse([]byte(yaml), name, config.Options{Mem: mem})
	if err != nil {
		t.Fatal(err)
	}
	p, err := config.Build(f, config.Options{Mem: mem})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return p
}
