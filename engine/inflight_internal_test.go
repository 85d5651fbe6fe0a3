package engine

import "testing"

// The default cap must leave every worker of a parallel stage a batch: a
// cap of one per step would run a stage of 8 workers on at most 7.
func TestDefaultInFlight(t *testing.T) {
	tests := []struct {
		name   string
		stages []StageStep
		sinks  int
		buffer int
		want   int
	}{
		{name: "no stages", sinks: 1, buffer: 4, want: 6},
		{name: "W1: 4 single stages", stages: make([]StageStep, 4), sinks: 1, buffer: 4, want: 10},
		{name: "8 workers, buffer 1", stages: []StageStep{{Workers: 8}}, sinks: 1, buffer: 1, want: 11},
		{name: "two sinks", stages: []StageStep{{Workers: 2}, {}}, sinks: 2, buffer: 4, want: 10},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := &Pipeline{Stages: tc.stages, Sinks: make([]SinkStep, tc.sinks)}
			if got := defaultInFlight(p, tc.buffer); got != tc.want {
				t.Errorf("defaultInFlight = %d, want %d", got, tc.want)
			}
			for _, s := range tc.stages {
				if got := defaultInFlight(p, tc.buffer); got < s.Workers+2 {
					t.Errorf("a stage of %d workers gets at most %d batches", s.Workers, got)
				}
			}
		})
	}
}
