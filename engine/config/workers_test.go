package config_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/dataweaver/dataweaver/engine/config"
)

// TestWorkersBound: a stage's workers must be between 1 and MaxWorkers;
// past it the file is refused with its file, line, column and field,
// before any worker (or Wasm instance) exists.
func TestWorkersBound(t *testing.T) {
	tests := []struct {
		name    string
		workers string
		want    string // "" means accepted
	}{
		{name: "one", workers: "1"},
		{name: "the bound", workers: fmt.Sprint(config.MaxWorkers)},
		{name: "zero", workers: "0", want: "pipeline.yaml:5:14: stages[0].workers: must be between 1 and 256, got 0"},
		{name: "one past", workers: fmt.Sprint(config.MaxWorkers + 1), want: "pipeline.yaml:5:14: stages[0].workers: must be between 1 and 256, got 257"},
		{name: "a hundred million", workers: "100000000", want: "pipeline.yaml:5:14: stages[0].workers: must be between 1 and 256, got 100000000"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			file := "source:\n  generate: {rows: 1}\nstages:\n  - select: {columns: [a]}\n    workers: " + tc.workers + "\nsinks:\n  - discard:\n"
			f, err := config.Parse([]byte(file), "pipeline.yaml", config.Options{Env: testEnv(t)})
			if tc.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				if got := f.Stages[0].Workers; fmt.Sprint(got) != tc.workers {
					t.Fatalf("workers = %d, want %s", got, tc.workers)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want %q", err, tc.want)
			}
		})
	}
}
