package config_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/dataweaver/dataweaver/engine"
	"github.com/dataweaver/dataweaver/engine/config"
	"github.com/dataweaver/dataweaver/engine/spec"
)

// TestMemoryBudget: a pipeline whose stages' workers × per-worker memory
// exceed the budget is refused when it is built, with the file position of
// the budget (or of the biggest stage when the budget is the machine's)
// and the stages that add up to it; one that fits builds.
func TestMemoryBudget(t *testing.T) {
	const stages = "source:\n  generate: {rows: 1}\n" +
		"stages:\n" +
		"  - name: small\n    bounded: {memory: 100MiB}\n    workers: 2\n" +
		"  - name: big\n    bounded: {memory: 300MiB}\n    workers: 3\n" +
		"sinks:\n  - discard:\n"
	// The stages need 2 × 100 MiB + 3 × 300 MiB = 1100 MiB.
	tests := []struct {
		name    string
		extra   string // top-level keys after the steps
		machine int64
		option  int64
		want    string // "" means it builds
	}{
		{name: "fits the key", extra: "memory_budget: 1100MiB\n", machine: 1 << 20},
		{name: "over the key", extra: "memory_budget: 1GiB\n", machine: 64 << 30,
			want: "pipeline.yaml:12:16: memory_budget: the Wasm stages may hold up to 1.1 GiB of memory (big: 3 × 300.0 MiB, small: 2 × 100.0 MiB; " +
				"workers × each instance's memory_limit and overhead), over the budget of 1.0 GiB (memory_budget): lower workers or memory_limit"},
		{name: "fits the machine", machine: 2 << 30},
		{name: "over the machine", machine: 1 << 30,
			want: "pipeline.yaml:7:5: stages[1].bounded: the Wasm stages may hold up to 1.1 GiB of memory (big: 3 × 300.0 MiB, small: 2 × 100.0 MiB; " +
				"workers × each instance's memory_limit and overhead), over the budget of 1.0 GiB (this machine's memory, from /proc/meminfo; set memory_budget to change it)"},
		{name: "the caller's budget wins over the key", extra: "memory_budget: 1MiB\n", option: 2 << 30},
		{name: "the caller's budget is checked", option: 1 << 30, machine: 64 << 30,
			want: "over the budget of 1.0 GiB (the memory budget given by the caller)"},
		{name: "no figure for the machine: nothing to check", machine: 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			restore := config.SetMachineMemory(tc.machine, "/proc/meminfo")
			t.Cleanup(restore)
			opts := config.Options{Env: budgetEnv(t), MemoryBudget: tc.option}
			f, err := config.Parse([]byte(stages+tc.extra), "pipeline.yaml", opts)
			if err != nil {
				t.Fatal(err)
			}
			p, err := config.Build(f, opts)
			if tc.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v,\nwant it to contain %q", err, tc.want)
			}
			if p != nil {
				t.Fatal("a pipeline came back with the error")
			}
		})
	}
}

// budgetEnv is testEnv with a stage that holds memory per worker, as a
// Wasm stage's instance does.
func budgetEnv(t *testing.T) *engine.Environment {
	env := testEnv(t)
	err := env.RegisterStage(spec.New("bounded").Field(spec.ByteSize("memory")),
		func(c *spec.Parsed, b engine.Build) (engine.Stage, error) {
			return &boundedStage{max: c.ByteSize("memory")}, nil
		})
	if err != nil {
		t.Fatal(err)
	}
	return env
}

func TestMemoryBudgetKey(t *testing.T) {
	file := "source:\n  generate: {rows: 1}\nsinks:\n  - discard:\nmemory_budget: 512KiB\n"
	_, err := config.Parse([]byte(file), "pipeline.yaml", config.Options{Env: testEnv(t)})
	if want := "pipeline.yaml:5:16: memory_budget: must be at least 1MiB"; err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("error %v, want %q", err, want)
	}
}

// TestMemoryBudgetFromGo: a pipeline assembled in Go gets the check a
// file gets, with the same message (the file's adds its position), from
// Validate and from Run; its MemoryBudget field is the file's key.
func TestMemoryBudgetFromGo(t *testing.T) {
	t.Cleanup(config.SetMachineMemory(1<<30, "/proc/meminfo"))
	opts := config.Options{Env: budgetEnv(t)}
	f, err := config.Parse([]byte("source:\n  generate: {rows: 1}\n"+
		"stages:\n"+
		"  - name: small\n    bounded: {memory: 100MiB}\n    workers: 2\n"+
		"  - name: big\n    bounded: {memory: 300MiB}\n    workers: 3\n"+
		"sinks:\n  - discard:\n"), "pipeline.yaml", opts)
	if err != nil {
		t.Fatal(err)
	}
	_, fileErr := config.Build(f, opts)
	const at = "pipeline.yaml:7:5: stages[1].bounded: "
	if fileErr == nil || !strings.HasPrefix(fileErr.Error(), at) {
		t.Fatalf("from a file: %v, want an error at %q", fileErr, at)
	}
	want := strings.TrimPrefix(fileErr.Error(), at)

	goPipeline := func(budget int64) *engine.Pipeline {
		return &engine.Pipeline{
			Source: engine.SourceStep{Name: "source", Source: &nopSource{}},
			Stages: []engine.StageStep{
				{Name: "small", Stage: &boundedStage{max: 100 << 20}, Workers: 2},
				{Name: "big", Stage: &boundedStage{max: 300 << 20}, Workers: 3},
			},
			Sinks:        []engine.SinkStep{{Name: "out", Sink: &nopSink{}}},
			MemoryBudget: budget,
		}
	}
	_, err = goPipeline(0).Validate(context.Background())
	if !errors.Is(err, engine.ErrInvalidConfig) || strings.TrimPrefix(err.Error(), engine.ErrInvalidConfig.Error()+": ") != want {
		t.Errorf("Validate of the same pipeline from Go:\n%v\nwant the file's message:\n%s", err, want)
	}
	_, err = goPipeline(0).Run(context.Background())
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("Run of the same pipeline from Go: %v, want %q", err, want)
	}
	for _, budget := range []int64{1100 << 20, -1} {
		if _, err := goPipeline(budget).Run(context.Background()); err != nil && strings.Contains(err.Error(), "budget") {
			t.Errorf("MemoryBudget %d: %v, want no budget error", budget, err)
		}
	}
}
