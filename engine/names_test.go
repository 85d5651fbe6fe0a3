package engine_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/dataweaver/dataweaver/engine"
)

// TestStepNamesDistinct: two steps of one name (or a step named like the
// dead-letter sink) would share one line of the summary and one set of
// metric labels; Validate and Run refuse the pipeline, naming the name.
func TestStepNamesDistinct(t *testing.T) {
	mem := checkedMem(t)
	pass := keep(mem, func(int64) bool { return true })
	for _, tc := range []struct {
		name string
		p    func() *engine.Pipeline
		want string // "" : accepted
	}{
		{"distinct", func() *engine.Pipeline {
			return &engine.Pipeline{Source: engine.SourceStep{Name: "src", Source: &seqSource{mem: mem, batches: 1, rows: 1}},
				Stages: []engine.StageStep{{Name: "a", Stage: pass}, {Name: "b", Stage: pass}},
				Sinks:  []engine.SinkStep{{Name: "out", Sink: &collectSink{}}}}
		}, ""},
		{"two stages", func() *engine.Pipeline {
			return &engine.Pipeline{Source: engine.SourceStep{Name: "src", Source: &seqSource{mem: mem, batches: 1, rows: 1}},
				Stages: []engine.StageStep{{Name: "mask", Stage: pass}, {Name: "mask", Stage: pass}},
				Sinks:  []engine.SinkStep{{Name: "out", Sink: &collectSink{}}}}
		}, `two steps are named "mask"`},
		{"a sink named as the source", func() *engine.Pipeline {
			return &engine.Pipeline{Source: engine.SourceStep{Name: "x", Source: &seqSource{mem: mem, batches: 1, rows: 1}},
				Sinks: []engine.SinkStep{{Name: "x", Sink: &collectSink{}}}}
		}, `two steps are named "x"`},
		{"a sink named dead_letter beside the dead-letter sink", func() *engine.Pipeline {
			return &engine.Pipeline{Source: engine.SourceStep{Name: "src", Source: &seqSource{mem: mem, batches: 1, rows: 1}},
				Sinks:      []engine.SinkStep{{Name: "dead_letter", Sink: &collectSink{}}},
				DeadLetter: &collectSink{}}
		}, `two steps are named "dead_letter"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, verr := tc.p().Validate(context.Background())
			_, rerr := tc.p().Run(context.Background())
			for what, err := range map[string]error{"Validate": verr, "Run": rerr} {
				switch {
				case tc.want == "" && err != nil:
					t.Errorf("%s: %v", what, err)
				case tc.want != "" && (!errors.Is(err, engine.ErrInvalidConfig) || !strings.Contains(err.Error(), tc.want)):
					t.Errorf("%s: %v, want ErrInvalidConfig and %q", what, err, tc.want)
				}
			}
		})
	}
}
