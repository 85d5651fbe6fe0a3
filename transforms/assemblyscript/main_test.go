// Package assemblyscript_test runs the AssemblyScript transforms and SDK
// through the real host (wasmabi) next to the Go transforms: the
// conformance table (transforms/conformance) checks the data semantics;
// these tests check what it does not (configuration decoding edge cases,
// reject messages, the SDK's API, traps and logs) and measure speed.
package assemblyscript_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/dataweaver/dataweaver/internal/wasmtest"
	"github.com/dataweaver/dataweaver/internal/wasmtesting"
	"github.com/dataweaver/dataweaver/wasmabi"
)

var (
	root     string
	cacheDir string
	// modules maps "go/filter", "as/filter"… to module bytes.
	modules = map[string][]byte{}
)

var names = []string{"filter", "mask", "derive"}

func TestMain(m *testing.M) {
	os.Exit(func() int {
		var err error
		if root, err = wasmtest.Root(); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		tmp, err := os.MkdirTemp("", "as-transforms-")
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		defer os.RemoveAll(tmp)
		cacheDir = filepath.Join(tmp, "cache")
		for _, n := range names {
			out := filepath.Join(tmp, n+".wasm")
			if err := wasmtest.Build("transforms/"+n, out); err != nil {
				fmt.Fprintln(os.Stderr, "building the Go guest:", err)
				return 1
			}
			for key, path := range map[string]string{"go/" + n: out, "as/" + n: filepath.Join(root, "transforms", "assemblyscript", n, n+".wasm")} {
				b, err := os.ReadFile(path)
				if err != nil {
					fmt.Fprintln(os.Stderr, err)
					return 1
				}
				modules[key] = b
			}
		}
		return m.Run()
	}())
}

// schema is the input of every test batch.
var schema = arrow.NewSchema([]arrow.Field{
	{Name: "id", Type: arrow.PrimitiveTypes.Int64},
	{Name: "amount", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
	{Name: "country", Type: arrow.BinaryTypes.String, Nullable: true},
	{Name: "email", Type: arrow.BinaryTypes.String, Nullable: true},
	{Name: "flag", Type: arrow.FixedWidthTypes.Boolean, Nullable: true},
}, nil)

var (
	amounts   = []float64{0, math.Copysign(0, -1), 2.5, -2.5, 0.5, 1e300, math.NaN(), math.Inf(1), math.Inf(-1), 9.3e16, -7, 1e20, 123456.5, 1e-7}
	countries = []string{"FR", "DE", "", "Ünï", "日本", "FRA", "😀", "\u0046R"}
	emails    = []string{"alice@example.com", "", "a", "@", "@x", "é@x.fr", "x@@y", "bob.smith+tag@sub.example.co.uk", "0123456789012345678901234567890@x"}
)

// testBatch has n rows cycling through the edge values above; with
// nulls, every nullable column has some.
func testBatch(mem memory.Allocator, n int, nulls bool) arrow.RecordBatch {
	b := array.NewRecordBuilder(mem, schema)
	defer b.Release()
	for i := range n {
		null := func(stride int) bool { return nulls && i%stride == stride-1 }
		b.Field(0).(*array.Int64Builder).Append(int64(i))
		if null(5) {
			b.Field(1).AppendNull()
		} else {
			b.Field(1).(*array.Float64Builder).Append(amounts[i%len(amounts)] * float64(1+i/len(amounts)))
		}
		if null(3) {
			b.Field(2).AppendNull()
		} else {
			b.Field(2).(*array.StringBuilder).Append(countries[i%len(countries)])
		}
		if null(7) {
			b.Field(3).AppendNull()
		} else {
			b.Field(3).(*array.StringBuilder).Append(emails[i%len(emails)])
		}
		if null(4) {
			b.Field(4).AppendNull()
		} else {
			b.Field(4).(*array.BooleanBuilder).Append(i%3 == 0)
		}
	}
	return b.NewRecordBatch()
}

// newStage creates a stage (closed in tb.Cleanup) and binds it to schema;
// a bind error is returned, anything else fails the test.
func newStage(tb testing.TB, wasm []byte, conf any, mem memory.Allocator, cfg wasmabi.Config) (*wasmabi.Stage, error) {
	tb.Helper()
	s := wasmtesting.NewStage(tb, wasm, conf, mem, cfg)
	if _, err := s.Bind(context.Background(), schema); err != nil {
		return nil, err
	}
	return s, nil
}

// dump renders an output record and its rejected rows as text.
func dump(rec arrow.RecordBatch, rejects []string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s\nrows %d\n", rec.Schema(), rec.NumRows())
	for i, c := range rec.Columns() {
		fmt.Fprintf(&b, "%s: %v\n", rec.ColumnName(i), c)
	}
	fmt.Fprintf(&b, "rejected: %q\n", rejects)
	return b.String()
}

// run processes rec with a stage built from wasm and conf, returning the
// dump, or the bind error.
func run(t *testing.T, wasm []byte, conf any, rec arrow.RecordBatch, mem memory.Allocator) (string, error) {
	t.Helper()
	s, err := newStage(t, wasm, conf, mem, wasmtesting.Config().WithCacheDir(cacheDir))
	if err != nil {
		return "", err
	}
	out, rejects, err := wasmtesting.Process(t, s, rec)
	if err != nil {
		t.Fatalf("process: %v", err)
	}
	msgs := make([]string, len(rejects))
	for i, r := range rejects {
		msgs[i] = fmt.Sprintf("%d: %v", r.Row, r.Err)
	}
	return dump(out, msgs), nil
}

func raw(s string) json.RawMessage { return json.RawMessage(s) }
