package wasm_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/apache/arrow/go/v15/arrow/memory"

	memsink "github.com/dataweaver/dataweaver/connectors/memory"
	_ "github.com/dataweaver/dataweaver/connectors/wasm"
	"github.com/dataweaver/dataweaver/engine/config"
	"github.com/dataweaver/dataweaver/wasmabi/wasmtest"
)

var guestDir string

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
		for _, t := range []string{"filter", "mask", "derive"} {
			if err := wasmtest.Build("transforms/"+t, filepath.Join(dir, t+".wasm")); err != nil {
				fmt.Fprintln(os.Stderr, err)
				return 1
			}
		}
		return m.Run()
	}()
	os.Exit(code)
}

// The orders job: drop negative amounts and country XX, mask emails, add
// amount_cents — every step a Wasm stage, one of them in the scalar form
// with its config defaulted.
func TestOrdersPipeline(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	yaml := strings.ReplaceAll(`
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
  - wasm:
      path: DIR/filter.wasm
      config: {column: country, op: "!=", value: XX}
      timeout: 2s
      memory_limit: 64MiB
    workers: 2
  - wasm:
      path: DIR/mask.wasm
      config: {columns: [email]}
  - wasm: DIR/derive.wasm
sinks:
  - memory: {name: orders-out}
`, "DIR", guestDir)
	f, err := config.Parse([]byte(yaml), "orders.yaml", config.Options{Mem: mem})
	if err != nil {
		t.Fatal(err)
	}
	p, err := config.Build(f, config.Options{Mem: mem})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
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
	yaml := strings.ReplaceAll(`
source:
  memory:
    schema: {id: int64}
    rows: [{id: 1}]
stages:
  - wasm: {path: DIR/mask.wasm, config: {columns: [email]}}
sinks: [{memory: {}}]
`, "DIR", guestDir)
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
