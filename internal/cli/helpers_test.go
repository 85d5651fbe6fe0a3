package cli_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/dataweaver/dataweaver/engine"
	"github.com/dataweaver/dataweaver/engine/spec"
	"github.com/dataweaver/dataweaver/internal/cli"
)

var schema = arrow.NewSchema([]arrow.Field{{Name: "x", Type: arrow.PrimitiveTypes.Int64, Nullable: true}}, nil)

// testEnv holds small connectors whose behaviour each test picks from the
// pipeline file: how many batches, whether to block, whether to fail.
func testEnv(t *testing.T) *engine.Environment {
	env, _ := testEnvProbe(t)
	return env
}

// probe lets a test wait until the pipeline is moving data.
type probe struct {
	once  sync.Once
	wrote chan struct{} // closed by the first Write of any collect sink
}

func testEnvProbe(t *testing.T) (*engine.Environment, *probe) {
	t.Helper()
	pr := &probe{wrote: make(chan struct{})}
	env := engine.NewEnvironment()
	check := func(err error) {
		if err != nil {
			t.Fatal(err)
		}
	}
	check(env.RegisterSource(spec.New("counter").Summary("Counts from 0.").
		Field(spec.Int("batches").Default(3).Desc("Batches to emit; 0 for no end.")),
		func(c *spec.Parsed, b engine.Build) (engine.Source, error) {
			return &counter{mem: b.Mem, batches: c.Int("batches")}, nil
		}))
	check(env.RegisterStage(spec.New("pass").Summary("Passes batches through.").
		Field(spec.Bool("reject_schema").Default(false)),
		func(c *spec.Parsed, b engine.Build) (engine.Stage, error) {
			return &pass{reject: c.Bool("reject_schema")}, nil
		}))
	check(env.RegisterSink(spec.New("collect").Summary("Counts rows.").
		Field(spec.Bool("fail").Default(false), spec.Bool("block").Default(false)),
		func(c *spec.Parsed, b engine.Build) (engine.Sink, error) {
			return &collect{probe: pr, fail: c.Bool("fail"), block: c.Bool("block")}, nil
		}))
	// "counter" also as a sink, for describe's several-kinds case.
	check(env.RegisterSink(spec.New("counter").Summary("Counts batches."),
		func(c *spec.Parsed, b engine.Build) (engine.Sink, error) { return &collect{probe: pr}, nil }))
	return env, pr
}

type counter struct {
	engine.NoAck
	mem     memory.Allocator
	batches int
	n       int
}

func (c *counter) Open(context.Context) (*arrow.Schema, error) { return schema, nil }
func (c *counter) Read(ctx context.Context) (*engine.Batch, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if c.batches > 0 && c.n >= c.batches {
		return nil, engine.ErrEndOfInput
	}
	c.n++
	b := array.NewInt64Builder(c.mem)
	defer b.Release()
	b.AppendValues([]int64{1, 2}, nil)
	col := b.NewArray()
	defer col.Release()
	return &engine.Batch{Record: array.NewRecordBatch(schema, []arrow.Array{col}, 2), Bytes: 16}, nil
}
func (c *counter) Close() error { return nil }

type pass struct{ reject bool }

func (p *pass) Bind(_ context.Context, in *arrow.Schema) (*arrow.Schema, error) {
	if p.reject {
		return nil, fmt.Errorf("%w: pass does not like column x", engine.ErrSchema)
	}
	return in, nil
}
func (p *pass) Process(_ context.Context, rec arrow.RecordBatch) (arrow.RecordBatch, []engine.RowError, error) {
	rec.Retain()
	return rec, nil, nil
}
func (p *pass) Close() error { return nil }

type collect struct {
	probe       *probe
	fail, block bool
}

func (s *collect) Open(context.Context, *arrow.Schema) error { return nil }
func (s *collect) Write(ctx context.Context, rec arrow.RecordBatch) error {
	s.probe.once.Do(func() { close(s.probe.wrote) })
	if s.fail {
		return engine.Permanent(errors.New("disk on fire"))
	}
	if s.block {
		<-ctx.Done()
		return ctx.Err()
	}
	return nil
}
func (s *collect) Flush(context.Context) error { return nil }
func (s *collect) Close() error                { return nil }

// result is what one in-process run of weave printed and returned.
type result struct {
	code           int
	stdout, stderr string
}

func run(t *testing.T, opts cli.Options, args ...string) result {
	t.Helper()
	var stdout, stderr bytes.Buffer
	if opts.Env == nil {
		opts.Env = testEnv(t)
	}
	opts.Stdout, opts.Stderr = &stdout, &stderr
	if opts.Mem == nil {
		mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
		defer mem.AssertSize(t, 0)
		opts.Mem = mem
	}
	code := cli.Main(append([]string{"weave"}, args...), opts)
	checkGoroutines(t)
	return result{code, stdout.String(), stderr.String()}
}

// checkGoroutines fails the test if a goroutine of the engine, the CLI or
// the progress meter outlives Main: each run must clean up after itself.
func checkGoroutines(t *testing.T) {
	t.Helper()
	var leaked []string
	for try := 0; try < 100; try++ {
		leaked = leaked[:0]
		buf := make([]byte, 1<<20)
		buf = buf[:runtime.Stack(buf, true)]
		for _, g := range strings.Split(string(buf), "\n\n") {
			if strings.Contains(g, "dataweaver/engine.") || strings.Contains(g, "dataweaver/internal/progress.") ||
				strings.Contains(g, "dataweaver/internal/cli.") {
				leaked = append(leaked, g)
			}
		}
		if len(leaked) == 0 {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Errorf("%d goroutine(s) outlived the run:\n%s", len(leaked), strings.Join(leaked, "\n\n"))
}

// writeFile puts a pipeline file in a temporary directory.
func writeFile(t *testing.T, name, text string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// rowsIn reads a step's "rows in" cell from the summary table in stderr
// ("" when the step has no line).
func rowsIn(stderr, step string) string {
	m := regexp.MustCompile(`(?m)^ *` + regexp.QuoteMeta(step) + ` +(?:source|stage|sink) +([\d,]+) `).FindStringSubmatch(stderr)
	if m == nil {
		return ""
	}
	return m[1]
}
