package config_test

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/dataweaver/dataweaver/engine"
	"github.com/dataweaver/dataweaver/engine/config"
	"github.com/dataweaver/dataweaver/engine/spec"
)

// warmStage prepares in the background, as a Wasm stage compiling its
// module does: Ready reports the failure its fail field names, placed at
// that field as the wasm stage places a module that does not load.
type warmStage struct {
	nopStage
	err    error
	closed *atomic.Int32
}

func (s *warmStage) Ready() error { return s.err }
func (s *warmStage) Close() error { s.closed.Add(1); return nil }

func warmEnv(t *testing.T, closed *atomic.Int32) *engine.Environment {
	env := testEnv(t)
	err := env.RegisterStage(spec.New("warming").Field(spec.String("fail").Optional()),
		func(c *spec.Parsed, b engine.Build) (engine.Stage, error) {
			s := &warmStage{closed: closed}
			if c.Has("fail") {
				s.err = fmt.Errorf("%w: %w", engine.ErrInvalidConfig, c.Errorf("fail", "module[%s] (load): missing exports", c.String("fail")))
			}
			return s, nil
		})
	if err != nil {
		t.Fatal(err)
	}
	err = env.RegisterStage(spec.New("bounded").Field(spec.ByteSize("memory")),
		func(c *spec.Parsed, b engine.Build) (engine.Stage, error) {
			return &boundedStage{max: c.ByteSize("memory")}, nil
		})
	if err != nil {
		t.Fatal(err)
	}
	err = env.RegisterSink(spec.New("broken"), func(*spec.Parsed, engine.Build) (engine.Sink, error) {
		return nil, fmt.Errorf("%w: cannot write today", engine.ErrInvalidConfig)
	})
	if err != nil {
		t.Fatal(err)
	}
	return env
}

// TestDeferReady: with Options.DeferReady, Build returns before its
// stages are ready when nothing else failed, and Run and Validate report
// stages that fail to warm with the very error Build gives without it,
// all of them together; when another step fails too, Build waits and
// reports everything at once, as it does without it. Every stage is
// closed once.
func TestDeferReady(t *testing.T) {
	const head = "source:\n  generate: {rows: 1}\nstages:\n"
	for _, tc := range []struct {
		name, file string
		atBuild    bool // DeferReady still fails at Build
	}{
		{name: "one module fails", file: head + "  - warming: {fail: a.wasm}\n  - warming: {}\nsinks:\n  - discard:\n"},
		{name: "two modules fail", file: head + "  - warming: {fail: a.wasm}\n  - warming: {fail: b.wasm}\nsinks:\n  - discard:\n"},
		{name: "a module and a stage fail", atBuild: true,
			file: head + "  - warming: {fail: a.wasm}\n  - broken: {}\nsinks:\n  - discard:\n"},
		{name: "a module and a sink fail", atBuild: true,
			file: head + "  - warming: {fail: a.wasm}\nsinks:\n  - broken:\n"},
		{name: "a module fails and the memory budget is short", atBuild: true,
			file: head + "  - warming: {fail: a.wasm}\n  - bounded: {memory: 300MiB}\nsinks:\n  - discard:\nmemory_budget: 1MiB\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var closed atomic.Int32
			opts := config.Options{Env: warmEnv(t, &closed)}
			f, err := config.Parse([]byte(tc.file), "pipeline.yaml", opts)
			if err != nil {
				t.Fatal(err)
			}
			_, want := config.Build(f, opts)
			if want == nil {
				t.Fatal("Build succeeded")
			}
			for _, use := range []string{"Run", "Validate"} {
				opts.DeferReady = true
				p, err := config.Build(f, opts)
				if tc.atBuild {
					if err == nil || err.Error() != want.Error() {
						t.Fatalf("Build with DeferReady = %v,\nwant %v", err, want)
					}
					continue
				}
				if err != nil {
					t.Fatalf("Build with DeferReady waited: %v", err)
				}
				if use == "Run" {
					_, err = p.Run(context.Background())
				} else {
					_, err = p.Validate(context.Background())
					_ = p.Close()
				}
				if err == nil || err.Error() != want.Error() {
					t.Errorf("%s = %v,\nwant Build's %v", use, err, want)
				}
			}
			// Three builds (one without DeferReady, one per use).
			if n, want := int(closed.Load()), 3*strings.Count(tc.file, "warming:"); n != want {
				t.Errorf("%d warming stages closed, want %d: each once per build", n, want)
			}
		})
	}
}
