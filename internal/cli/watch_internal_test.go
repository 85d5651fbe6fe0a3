package cli

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"log/slog"
	"slices"
	"strings"
	"testing"

	"github.com/dataweaver/dataweaver/internal/telemetry"
)

// TestWatcherDebounce: a change is applied once two looks in a row agree
// on it, once only; a state seen at one look alone (a file caught
// half-written) is never applied; a look that fails is reported once and
// applies nothing.
func TestWatcherDebounce(t *testing.T) {
	file := func(content string) []pipelineFile {
		return []pipelineFile{{path: "/p/a.yaml", hash: sha256.Sum256([]byte(content))}}
	}
	failed := errors.New("stat /p: no such file or directory")
	for _, tc := range []struct {
		name  string
		looks []any // []pipelineFile or error
		want  []string
	}{
		{"unchanged", []any{file("v1"), file("v1"), file("v1")}, nil},
		{"edit applied at the second look", []any{file("v2"), file("v2"), file("v2"), file("v2")}, []string{"v2"}},
		{"half-written state skipped", []any{file("v2-half"), file("v2"), file("v2")}, []string{"v2"}},
		{"flapping never applied", []any{file("x"), file("y"), file("x"), file("y")}, nil},
		{"edit undone before it settled", []any{file("v2"), file("v1"), file("v1")}, nil},
		{"error between two equal looks", []any{file("v2"), failed, failed, file("v2"), file("v2")}, []string{"v2"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var log bytes.Buffer
			var applied []string
			contents := map[[sha256.Size]byte]string{}
			for _, c := range []string{"v1", "v2", "v2-half", "x", "y"} {
				contents[sha256.Sum256([]byte(c))] = c
			}
			i := 0
			w := &watcher{
				look: func() ([]pipelineFile, error) {
					l := tc.looks[i]
					i++
					if err, ok := l.(error); ok {
						return nil, err
					}
					return l.([]pipelineFile), nil
				},
				apply: func(fs []pipelineFile) { applied = append(applied, contents[fs[0].hash]) },
				log:   slog.New(slog.NewTextHandler(&log, nil)),
				done:  fingerprint(file("v1")),
			}
			for range tc.looks {
				w.step()
			}
			if strings.Join(applied, ",") != strings.Join(tc.want, ",") {
				t.Errorf("applied %v, want %v", applied, tc.want)
			}
			if n := strings.Count(log.String(), "watching pipeline files"); n > 1 {
				t.Errorf("a lasting error was logged %d times, want once", n)
			}
		})
	}
}

// TestServeStatesExported: every state /pipelines shows is one the
// weave_pipeline_state metric exports.
func TestServeStatesExported(t *testing.T) {
	for _, st := range []string{stateStarting, stateRunning, stateRestarting, stateFinished, stateFailed, stateStopped} {
		if !slices.Contains(telemetry.ServeStates, st) {
			t.Errorf("state %q is not in telemetry.ServeStates", st)
		}
	}
}
