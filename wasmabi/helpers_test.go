package wasmabi

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/dataweaver/dataweaver/internal/wasmtest"
)

// guests are built once per test binary in TestMain.
var (
	guestDir string
	cacheDir string
)

var guestPkgs = map[string][]string{
	"identity": {"transforms/identity"},
	"filter":   {"transforms/filter"},
	"mask":     {"transforms/mask"},
	"derive":   {"transforms/derive"},
	"enrich":   {"transforms/enrich"},
	"hostile":  {"wasmabi/testdata/hostile"},
}

func TestMain(m *testing.M) {
	code := func() int {
		dir, err := os.MkdirTemp("", "wasmabi-test-")
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		defer os.RemoveAll(dir)
		guestDir, cacheDir = dir, filepath.Join(dir, "cache")
		// make test gives this binary and the one of its NORACE_TESTS
		// one cache: the non-race run, which goes first, compiles the Go
		// guests, and the race run loads their code instead of compiling
		// them again with wazero's compiler under -race (5-10x slower:
		// hostile, filter, mask and derive took ~35 s of CPU). Tests of
		// the cache itself use directories of their own.
		if shared := wasmtest.CacheDir(); shared != "" {
			cacheDir = shared
			wasmtest.WaitCache()
		}
		var wg sync.WaitGroup
		errs := make(chan error, len(guestPkgs))
		for name, args := range guestPkgs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if err := wasmtest.Build(args[0], filepath.Join(dir, name+".wasm"), args[1:]...); err != nil {
					errs <- err
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		return m.Run()
	}()
	os.Exit(code)
}

func guestBytes(tb testing.TB, name string) []byte {
	tb.Helper()
	b, err := os.ReadFile(filepath.Join(guestDir, name+".wasm"))
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// neverTimeout is the per-call timeout of tests that check what a guest
// computes. A timeout compiles the module with the same stop checks as
// production's default (DefaultTimeout), but this one is far beyond any
// machine's speed: a loaded or -race run must not turn into a timeout
// failure. The timeout itself is tested with a looping guest (TestHostile).
const neverTimeout = 24 * time.Hour

// testConfig is NewConfig with neverTimeout.
func testConfig() Config { return NewConfig().WithTimeout(neverTimeout) }

func newStage(tb testing.TB, guest string, conf any, mem memory.Allocator, cfg Config) *Stage {
	tb.Helper()
	return newStageOf(tb, guest+".wasm", guestBytes(tb, guest), conf, mem, cfg)
}

// newStageOf is newStage for a module given as bytes, named module.
func newStageOf(tb testing.TB, module string, wasm []byte, conf any, mem memory.Allocator, cfg Config) *Stage {
	tb.Helper()
	s, err := NewStage(context.Background(), wasm, cfg.WithCacheDir(cacheDir).WithName("stages[0].wasm", module).WithGuestConfig(conf).WithAllocator(mem))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = s.Close() })
	return s
}

var ordersSchema = arrow.NewSchema([]arrow.Field{
	{Name: "id", Type: arrow.PrimitiveTypes.Int64},
	{Name: "email", Type: arrow.BinaryTypes.String, Nullable: true},
	{Name: "country", Type: &arrow.DictionaryType{IndexType: arrow.PrimitiveTypes.Int16, ValueType: arrow.BinaryTypes.String}, Nullable: true},
	{Name: "amount", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
}, nil)

type order struct {
	id      int64
	email   *string
	country *string
	amount  *float64
}

func ptr[T any](v T) *T { return &v }

// orders builds a record of rows in ordersSchema.
func orders(mem memory.Allocator, rows []order) arrow.RecordBatch {
	b := array.NewRecordBuilder(mem, ordersSchema)
	defer b.Release()
	for _, r := range rows {
		b.Field(0).(*array.Int64Builder).Append(r.id)
		if r.email == nil {
			b.Field(1).AppendNull()
		} else {
			b.Field(1).(*array.StringBuilder).Append(*r.email)
		}
		if r.country == nil {
			b.Field(2).AppendNull()
		} else if err := b.Field(2).(*array.BinaryDictionaryBuilder).AppendString(*r.country); err != nil {
			panic(err)
		}
		if r.amount == nil {
			b.Field(3).AppendNull()
		} else {
			b.Field(3).(*array.Float64Builder).Append(*r.amount)
		}
	}
	return b.NewRecordBatch()
}

// sample is a small batch exercising nulls and every filter case.
func sample() []order {
	return []order{
		{1, ptr("alice@example.com"), ptr("FR"), ptr(12.5)},
		{2, ptr("bob@example.org"), ptr("XX"), ptr(3.0)},
		{3, nil, ptr("US"), ptr(-1.0)},
		{4, ptr("Édith@mail.fr"), nil, nil},
		{5, ptr("nobody"), ptr("JP"), ptr(0.015)},
	}
}

// column renders a column's values as strings, "null" for nulls.
func column(rec arrow.RecordBatch, name string) []string {
	idx := rec.Schema().FieldIndices(name)
	if len(idx) != 1 {
		return []string{fmt.Sprintf("no column %q", name)}
	}
	a := rec.Column(idx[0])
	out := make([]string, a.Len())
	for i := range out {
		out[i] = a.ValueStr(i)
		if a.IsNull(i) {
			out[i] = "null"
		}
	}
	return out
}

// renameEmail gives the hostile guest the "s" column it reads.
func renameEmail(s *arrow.Schema) *arrow.Schema {
	fields := slices.Clone(s.Fields())
	fields[1].Name = "s"
	return arrow.NewSchema(fields, nil)
}

func withSchema(rec arrow.RecordBatch, s *arrow.Schema) arrow.RecordBatch {
	return array.NewRecordBatch(s, rec.Columns(), rec.NumRows())
}
