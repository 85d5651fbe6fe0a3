package all_test

import (
	"errors"
	"fmt"
	"path/filepath"
	"reflect"
	"slices"
	"testing"

	"github.com/dataweaver/dataweaver/connectors/file"
	"github.com/dataweaver/dataweaver/connectors/kafka"
	"github.com/dataweaver/dataweaver/connectors/wasm"
	"github.com/dataweaver/dataweaver/engine"
	"github.com/dataweaver/dataweaver/engine/config"
	"github.com/dataweaver/dataweaver/engine/spec"
)

// TestTypedErrorsSameAsFile: a Go configuration the spec or the
// constructor refuses fails with the problems, paths and messages a
// pipeline file with the same settings gets from weave validate, when the
// step is named as in the file.
func TestTypedErrorsSameAsFile(t *testing.T) {
	dir := t.TempDir()
	parquet := filepath.Join(dir, "out.parquet")
	tests := []struct {
		name  string
		build func(b engine.Build) (any, error)
		step  string // the step's name in the file, and its key path
		file  string // the pipeline with the same settings
	}{
		{
			name: "value not among the choices",
			build: func(b engine.Build) (any, error) {
				return file.SourceConfig{Path: "in.csv", Compression: "xz"}.Build(b)
			},
			step: "source.file",
			file: "source:\n  file: {path: in.csv, compression: xz}\nsinks:\n  - discard:\n",
		},
		{
			name: "missing required fields and a bad nested value",
			build: func(b engine.Build) (any, error) {
				return kafka.SourceConfig{SASL: &kafka.SASLConfig{Mechanism: "MD5", Username: "u", Password: "p"}}.Build(b)
			},
			step: "source.kafka",
			file: "source:\n  kafka: {sasl: {mechanism: MD5, username: u, password: p}}\nsinks:\n  - discard:\n",
		},
		{
			name:  "out of range",
			build: func(b engine.Build) (any, error) { return wasm.StageConfig{Path: "f.wasm", MemoryLimit: 1024}.Build(b) },
			step:  "stages[0].wasm",
			file:  "source:\n  generate: {preset: orders, rows: 1}\nstages:\n  - wasm: {path: f.wasm, memory_limit: 1024}\nsinks:\n  - discard:\n",
		},
		{
			name: "refused by the constructor",
			build: func(b engine.Build) (any, error) {
				return file.SinkConfig{Path: parquet, Append: true}.Build(b)
			},
			step: "sinks[0].file",
			file: fmt.Sprintf("source:\n  generate: {preset: orders, rows: 1}\nsinks:\n  - file: {path: %q, append: true}\n", parquet),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			built, err := tt.build(engine.Build{Name: tt.step})
			if err == nil {
				if c, ok := built.(interface{ Close() error }); ok {
					_ = c.Close()
				}
				t.Fatal("the Go configuration was accepted")
			}
			fromGo := problemsOf(t, err)
			var fromFile []string
			f, err := config.Parse([]byte(tt.file), "p.yaml", config.Options{})
			if err == nil {
				var p *engine.Pipeline
				if p, err = config.Build(f, config.Options{}); err == nil {
					_ = p.Close()
					t.Fatal("the file was accepted")
				}
			}
			fromFile = problemsOf(t, err)
			if !reflect.DeepEqual(fromGo, fromFile) {
				t.Errorf("from Go:\n%q\nfrom the file:\n%q", fromGo, fromFile)
			}
		})
	}
}

// problemsOf lists err's problems as "path: message", without file and
// line, sorted: a file's come in line order, which a Go value has not.
func problemsOf(t *testing.T, err error) []string {
	t.Helper()
	var many spec.Errors
	var one *spec.Error
	switch {
	case errors.As(err, &many):
	case errors.As(err, &one):
		many = spec.Errors{one}
	default:
		t.Fatalf("%v: not a spec error", err)
	}
	out := make([]string, len(many))
	for i, e := range many {
		out[i] = e.Path + ": " + e.Msg
	}
	slices.Sort(out)
	return out
}
